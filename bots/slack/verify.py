"""Slack's request signature, checked before anything of the body is parsed: a stranger's post costs one HMAC."""

from __future__ import annotations

import hashlib
import hmac
import time

from aiohttp import web
from slack_bolt.request.async_request import AsyncBoltRequest

from core.links import signature_matches

WINDOW_S = 5 * 60  # Slack's replay window


def unsigned(request: web.Request) -> str | None:
    """Why the headers cannot be Slack's (cheap checks, body unread); None when they may be."""
    ts, sig = request.headers.get("X-Slack-Request-Timestamp", ""), request.headers.get("X-Slack-Signature", "")
    if not ts or not sig:
        return "no Slack signature"
    if not (ts.isascii() and ts.isdigit() and len(ts) <= 12) or abs(time.time() - int(ts)) > WINDOW_S:
        return "stale or malformed Slack timestamp"
    if not (sig.startswith("v0=") and len(sig) == 67):
        return "malformed Slack signature"
    return None


def signed(body: bytes, request: web.Request, secret: str) -> bool:
    ts = request.headers["X-Slack-Request-Timestamp"]
    expected = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return signature_matches(expected, request.headers["X-Slack-Signature"])


async def bolt_request(request: web.Request, secret: str) -> AsyncBoltRequest | web.Response:
    """The verified request for Bolt, or the 4xx answer: 401 for anything unsigned, 400 for a signed body that
    Slack's formats cannot be read from."""
    problem = unsigned(request)
    if problem:
        return web.Response(status=401, text=f"Rejected: {problem} (only Slack may call this address).")
    body = await request.read()  # bounded by the app's client_max_size
    if not signed(body, request, secret):
        return web.Response(status=401, text="Rejected: the Slack signature does not match.")
    try:
        bolt = AsyncBoltRequest(body=body.decode(), query=request.query_string, headers=request.headers)
    except (UnicodeDecodeError, ValueError, RecursionError, AttributeError, TypeError, LookupError):
        return web.Response(status=400, text="The body is neither JSON nor a form as Slack sends them.")
    if not isinstance(bolt.body, dict):
        return web.Response(status=400, text="The body is not a JSON object as Slack sends them.")
    return bolt

