"""Slack Web API calls for the delivery side: one client per token, errors translated, posts paced per channel."""

from __future__ import annotations

import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from integrations.errors import PermanentError, TransientError

# Slack answers these once and forever: retrying cannot help until a person acts (reinstall, invite the bot).
PERMANENT = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "missing_scope",
             "not_in_channel", "channel_not_found", "is_archived", "no_permission", "invalid_blocks",
             "msg_too_long", "team_access_not_granted", "restricted_action", "message_not_found",
             "cant_update_message", "invalid_arguments"}


class ChannelPacer:
    """About one message per second per channel (Slack's limit for chat.postMessage), across this process."""

    def __init__(self, interval: float = 1.0):
        self.interval = interval
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def reserve(self, channel: str) -> float:
        """Book the channel's next slot; return how long to wait for it."""
        with self._lock:
            now = time.monotonic()
            at = max(now, self._next.get(channel, 0.0))
            self._next[channel] = at + self.interval
            return at - now


PACER = ChannelPacer()


def client(settings, token: str) -> WebClient:
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=30)


def retry_after(exc: SlackApiError) -> float | None:
    try:
        return float(exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after"))
    except (TypeError, ValueError, AttributeError):
        return None


def translate(exc: Exception, method: str) -> Exception:
    """A Slack SDK failure as the project's TransientError / PermanentError."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", None)
        error = (exc.response.get("error") if hasattr(exc.response, "get") else None) or str(exc)
        if status == 429 or error == "ratelimited":
            return TransientError(f"Slack {method}: rate limited", status=429, retry_after=retry_after(exc) or 1.0)
        if status is not None and status >= 500:
            return TransientError(f"Slack {method}: HTTP {status}", status=status)
        if error in PERMANENT:
            return PermanentError(f"Slack {method}: {error}", status=status)
        if error in ("fatal_error", "internal_error", "service_unavailable", "request_timeout"):
            return TransientError(f"Slack {method}: {error}", status=status)
        return PermanentError(f"Slack {method}: {error}", status=status)
    return TransientError(f"Slack {method}: {type(exc).__name__}: {exc}")


def call(web: WebClient, method: str, **kwargs) -> dict:
    """One Web API call; chat.postMessage waits for its channel's slot first."""
    if method == "chat.postMessage":
        wait = PACER.reserve(kwargs.get("channel", ""))
        if wait > 0:
            time.sleep(wait)
    fn = getattr(web, method.replace(".", "_"))
    try:
        return fn(**kwargs).data
    except (SlackApiError, SlackClientError, OSError) as exc:
        raise translate(exc, method) from exc


def all_members(web: WebClient) -> list[dict]:
    """Every member of the workspace (users.list, paginated)."""
    members: list[dict] = []
    cursor = None
    for _ in range(50):
        data = call(web, "users.list", limit=200, **({"cursor": cursor} if cursor else {}))
        members += data.get("members", [])
        cursor = (data.get("response_metadata") or {}).get("next_cursor")
        if not cursor:
            break
    return members
