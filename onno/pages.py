"""The pages `onno web` shows people: each feature's template extends onno/templates/web_page.html."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment(*folders: Path) -> jinja2.Environment:
    """Templates from `folders` (the feature's own), which may extend the shared web_page.html."""
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader([*folders, TEMPLATES])])
    # Plain Undefined: a page shows only the branch its state picks, and other branches' values are absent.
    return jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
