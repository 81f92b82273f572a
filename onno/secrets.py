"""Encryption at rest for stored credentials, keyed from ONNO_SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet


def fernet(secret_key: str, purpose: bytes) -> Fernet:
    """A Fernet key of its own per purpose, so one kind of stored secret never opens another."""
    digest = hashlib.sha256(purpose + secret_key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))
