"""Delivery targets by kind: each adapter checks its `kind:argument` targets at intake and sends one delivery.

A target is `kind:argument`, e.g. `webhook:https://example.com/hook`. To add an adapter, write a module with
`check(arg) -> str | None` (why the argument is unusable, or None) and `send(arg, ctx) -> int | None`
(raise TransientError / PermanentError when it does not go through), and list it in ADAPTERS.
"""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from core.errors import InputError
from integrations.errors import PermanentError

# kind -> module implementing check() and send()
ADAPTERS = {"webhook": "integrations.webhook_adapter", "email": "integrations.email.adapter", "slack": "integrations.slack.adapter",
            "notion": "integrations.notion.adapter", "discord": "integrations.discord.adapter"}
EXAMPLES = "webhook:https://example.com/hooks/onno, email:participants, email:someone@example.com, notion"


@dataclass
class DeliveryContext:
    """Everything an adapter may need for one delivery; `app` gives settings and database sessions."""

    app: Any
    key: str  # stable per (job, target): receivers and adapters deduplicate on it
    job_id: str
    workspace_id: int
    meeting_id: int
    result: dict  # the meeting result, as `onno process --format json` prints it

    @property
    def settings(self):
        return self.app.settings

    def payload(self) -> dict:
        return {"job_id": self.job_id, "delivery": self.key, "meeting_id": self.meeting_id, "result": self.result}


def adapter(kind: str):
    return importlib.import_module(ADAPTERS[kind])


def normalise_target(target: str) -> str:
    """Check a delivery target at intake, so a typo fails before any work is done."""
    kind, _, arg = target.strip().partition(":")
    if kind in ADAPTERS and not arg:  # e.g. `notion` for `notion:default`
        arg = getattr(adapter(kind), "DEFAULT_ARG", "")
    if kind not in ADAPTERS or not arg:
        raise InputError(f"Unknown delivery target {target!r}.", f"Use one of: {EXAMPLES}.")
    if problem := adapter(kind).check(arg):
        raise InputError(f"Bad {kind} target: {problem}", f"For example: {EXAMPLES}.")
    return f"{kind}:{arg}"


def payload_bytes(payload: dict) -> bytes:
    """The exact bytes sent and signed: the same payload always gives the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def prepare(targets: list[str], app, workspace_id: int) -> None:
    """Before a meeting is matched against the board: adapters with a `prepare` refresh what they mirror
    (Notion pulls its board). Best effort: a failure here is logged and left for the delivery to report."""
    for target in targets:
        kind, _, arg = target.partition(":")
        try:
            hook = getattr(adapter(kind), "prepare", None) if kind in ADAPTERS else None
            if hook is not None:
                hook(arg, app=app, workspace_id=workspace_id)
        except Exception as exc:
            logging.getLogger(__name__).warning("preparing %s failed: %s", target, exc)


def send(target: str, ctx: DeliveryContext) -> int | None:
    """Deliver to `target`; raise TransientError or PermanentError when it does not go through."""
    kind, _, arg = target.partition(":")
    if kind not in ADAPTERS:
        raise PermanentError(f"unknown delivery target {target!r}")
    return adapter(kind).send(arg, ctx)
