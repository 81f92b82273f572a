"""Errors a person can fix, each with what went wrong and what to do, worded apart from the code that raises them."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

SURFACES = ("cli", "slack", "discord", "web")
CODE_SPAN = re.compile(r"`([^`]+)`")


class InputError(Exception):
    """The user's input cannot be processed; `hint` says what to do about it."""

    def __init__(self, problem: str, hint: str = ""):
        super().__init__(problem)
        self.problem = problem
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.problem} {self.hint}".strip()

    def shown(self, surface: str = "cli", escape: Callable[[str], str] | None = None) -> str:
        """The problem and the hint as `surface` shows them: cli (plain, one line), slack and discord (a line
        each), web (HTML: all escaped, `commands` in code). `escape` is the surface's own escape for what people
        typed (Slack's mrkdwn, Discord's Markdown): a coded error applies it to its placeholders."""
        if surface not in SURFACES:
            raise ValueError(f"unknown surface {surface!r}: one of {', '.join(SURFACES)}")
        parts = [p for p in self.parts(None if surface == "web" else escape) if p]
        if surface == "web":
            return "<br>".join(CODE_SPAN.sub(r"<code>\1</code>", html.escape(p, quote=False)) for p in parts)
        return (" " if surface == "cli" else "\n").join(parts)

    def parts(self, escape: Callable[[str], str] | None) -> tuple[str, str]:
        """(problem, hint): free text, already worded by whoever raised it."""
        return self.problem, self.hint


class UserError(InputError):
    """An InputError known by its `code`: its wording is core/strings.json's (placeholders filled in from the
    keyword arguments), the way translation strings keep wording out of the code."""

    def __init__(self, code: str, /, **placeholders: object):
        wording = strings()["errors"].get(code)
        if wording is None:
            raise KeyError(f"no wording for error {code!r} in core/strings.json")
        self.code = code
        self.placeholders = placeholders
        self.wording = wording
        super().__init__(*self.parts(None))

    def parts(self, escape: Callable[[str], str] | None) -> tuple[str, str]:
        """The problem and the hint with the placeholders filled in, each through `escape` when given."""
        values = {k: escape(str(v)) if escape else v for k, v in self.placeholders.items()}
        return self.wording["problem"].format(**values), self.wording.get("hint", "").format(**values)


@cache
def strings() -> dict:
    """The wording of every coded error (and what else is said the same on every surface)."""
    return json.loads((Path(__file__).parent / "strings.json").read_text(encoding="utf-8"))
