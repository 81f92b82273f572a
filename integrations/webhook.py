"""Generic webhook delivery: POST the meeting result as JSON, signed with HMAC-SHA256."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

import httpx

from core.http import retry_after
from core.links import signature_matches
from integrations.errors import PermanentError, TransientError

SIGNATURE_HEADER = "X-Onno-Signature"
DELIVERY_HEADER = "X-Onno-Delivery"
RETRYABLE_STATUS = {408, 409, 425, 429}


def check_url(url: str) -> str | None:
    """Why `url` cannot be a webhook target, or None when it can."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"{url!r} is not an http(s) URL."
    return None


def sign(body: bytes, secret: str) -> str:
    """The signature header's value: 'sha256=' and the hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return signature_matches(sign(body, secret), header)


def post(url: str, body: bytes, *, key: str, secret: str, timeout: float = 15.0) -> int:
    """Send one delivery; return the HTTP status, or raise TransientError / PermanentError."""
    headers = {"Content-Type": "application/json", "User-Agent": "Onno-Webhook/1", DELIVERY_HEADER: key}
    if secret:
        headers[SIGNATURE_HEADER] = sign(body, secret)
    try:
        response = httpx.post(url, content=body, headers=headers, timeout=timeout, follow_redirects=False)
    except httpx.TimeoutException as exc:
        raise TransientError(f"timed out after {timeout:.0f} s ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"could not connect: {exc}") from exc
    code = response.status_code
    if 200 <= code < 300:
        return code
    reason = f"HTTP {code} from {urlsplit(url).netloc}: {' '.join(response.text.split())[:200]}"
    if code >= 500 or code in RETRYABLE_STATUS:
        raise TransientError(reason, status=code, retry_after=retry_after(response.headers))
    raise PermanentError(reason, status=code)
