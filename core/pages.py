"""The pages `onno web` shows people: each feature's template extends core/templates/web_page.html."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"
# Every page a person opens from a link: never cached (the signed link is the key to it), never telling the next
# site where the reader came from, never framed by another site; no scripts or outside resources at all.
HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
           "X-Content-Type-Options": "nosniff",
           "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                      "frame-ancestors 'none'"}


@cache
def environment(*folders: Path) -> jinja2.Environment:
    """Templates from `folders` (the feature's own), which may extend the shared web_page.html."""
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader([*folders, TEMPLATES])])
    # Plain Undefined: a page shows only the branch its state picks, and other branches' values are absent.
    return jinja2.Environment(loader=loader, autoescape=True, trim_blocks=True, lstrip_blocks=True)
