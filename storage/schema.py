"""Every table of Onno: importing this registers each feature's models on one metadata."""

from __future__ import annotations

import importlib

from storage.models import Base

# Modules that define tables; a feature with its own models.py adds it here (the schema test checks them all
# against the migrations).
MODEL_MODULES = ["storage.models", "storage.mail", "billing.models", "storage.slack", "integrations.notion.models",
                 "integrations.notion.flows",
                 "storage.discord", "storage.review", "storage.notices",
                 "storage.digest"]

for _name in MODEL_MODULES:
    importlib.import_module(_name)

metadata = Base.metadata
