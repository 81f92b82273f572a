"""Signed links back into Onno: a meeting page, at the moment of the transcript a finding came from."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode


def signature_matches(expected: str, given: str | None) -> bool:
    """Constant-time compare that answers False, never raises, whatever a stranger sent (non-ASCII included)."""
    return hmac.compare_digest(expected.encode(), (given or "").encode("utf-8", "surrogatepass"))


def meeting_signature(secret: str, workspace_id: int, meeting_id: int) -> str:
    """Unguessable per meeting, so a link shared in one team's thread opens nothing of another's."""
    msg = f"meeting:{workspace_id}:{meeting_id}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:32]


def meeting_url(settings, workspace_id: int, meeting_id: int, *, at: float | None = None) -> str:
    """The meeting's page; with `at`, scrolled to the transcript line at that second."""
    sig = meeting_signature(settings.resolved_secret_key, workspace_id, meeting_id)
    url = f"{settings.public_url.rstrip('/')}/meetings/{workspace_id}/{meeting_id}?sig={sig}"
    return url if at is None else f"{url}#t{int(at)}"


def check_meeting_signature(secret: str, workspace_id: int, meeting_id: int, sig: str) -> bool:
    return signature_matches(meeting_signature(secret, workspace_id, meeting_id), sig)


def billing_signature(secret: str, workspace_id: int) -> str:
    return hmac.new(secret.encode(), f"billing:{workspace_id}".encode(), hashlib.sha256).hexdigest()[:32]


def billing_url(settings, workspace_id: int, action: str = "upgrade", plan: str | None = None) -> str:
    """A link that opens Stripe Checkout (upgrade) or the Customer Portal (manage) for one workspace."""
    sig = billing_signature(settings.resolved_secret_key, workspace_id)
    url = f"{settings.public_url.rstrip('/')}/billing/{workspace_id}/{action}?sig={sig}"
    return f"{url}&plan={plan}" if plan else url


def check_billing_signature(secret: str, workspace_id: int, sig: str) -> bool:
    return signature_matches(billing_signature(secret, workspace_id), sig)


def notion_connect_signature(secret: str, workspace_id: int, expires: int, name: str = "") -> str:
    msg = f"notion-connect:{workspace_id}:{expires}:{name}".encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:32]


def notion_connect_url(settings, workspace_id: int, *, name: str | None = None, lifetime: float = 86400) -> str:
    """A link that starts "Connect Notion" for one workspace (optionally for connection `name`); it expires,
    since whoever holds it can choose where the team's meetings go."""
    expires = int(time.time() + lifetime)
    sig = notion_connect_signature(settings.resolved_secret_key, workspace_id, expires, name or "")
    query = {"exp": expires, **({"name": name} if name else {}), "sig": sig}
    return f"{settings.public_url.rstrip('/')}/notion/connect/{workspace_id}?{urlencode(query)}"


def check_notion_connect_signature(secret: str, workspace_id: int, expires: int, name: str, sig: str) -> bool:
    """True for our own link, still within its lifetime."""
    return (signature_matches(notion_connect_signature(secret, workspace_id, expires, name), sig)
            and expires > time.time())
