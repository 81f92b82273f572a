"""Delivery targets by name: parse `kind:argument` targets and send a payload to one."""

from __future__ import annotations

import json

from integrations import webhook
from integrations.errors import PermanentError
from pipeline.errors import InputError

KINDS = ("webhook",)


def normalise_target(target: str) -> str:
    """Check a `--deliver` target at intake, so a typo fails before any work is done."""
    kind, _, arg = target.strip().partition(":")
    if kind not in KINDS or not arg:
        raise InputError(f"Unknown delivery target {target!r}.",
                         "Use webhook:URL, e.g. --deliver webhook:https://example.com/hooks/onno.")
    if problem := webhook.check_url(arg):
        raise InputError(f"Bad webhook target: {problem}", "Give a full URL, e.g. https://example.com/hook.")
    return f"{kind}:{arg}"


def payload_bytes(payload: dict) -> bytes:
    """The exact bytes sent and signed: the same payload always gives the same body."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def send(target: str, payload: dict, *, key: str, settings) -> int:
    """Deliver `payload` to `target`; raise TransientError or PermanentError when it does not go through."""
    kind, _, arg = target.partition(":")
    if kind == "webhook":
        return webhook.post(arg, payload_bytes(payload), key=key, secret=settings.webhook_secret)
    raise PermanentError(f"unknown delivery target {target!r}")
