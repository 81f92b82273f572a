"""Signed one-click unsubscribe tokens: a workspace and an address, so only the mailed link can opt it out."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from core.links import signature_matches


def b64(data: bytes) -> str:
    """URL-safe base64 without padding: the form our signed links carry (unsubscribe, confirm)."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload: str) -> str:
    # A purpose prefix, so no other signature made with the same key can pass for this one.
    return b64(hmac.new(secret.encode(), b"unsubscribe:" + payload.encode(), hashlib.sha256).digest()[:18])


def make_token(secret: str, workspace_id: int, email: str) -> str:
    """URL-safe: `<base64 of "workspace:address">.<signature>`."""
    payload = b64(f"{workspace_id}:{email.strip().lower()}".encode())
    return f"{payload}.{_sign(secret, payload)}"


def read_token(secret: str, token: str) -> tuple[int, str] | None:
    """(workspace id, address) from a token we made, or None for anything else."""
    payload, _, sig = token.partition(".")
    if not payload or not token.isascii() or not signature_matches(_sign(secret, payload), sig):
        return None
    try:
        ws, _, email = unb64(payload).decode().partition(":")
        return int(ws), email
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def unsubscribe_url(settings, workspace_id: int, email: str) -> str:
    token = make_token(settings.resolved_secret_key, workspace_id, email)
    return f"{settings.public_url.rstrip('/')}/unsubscribe/{token}"
