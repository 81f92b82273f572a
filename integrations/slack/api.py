"""Slack Web API calls for the delivery side: one client per token, errors translated, posts paced per channel."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler

from core.clock import aware
from core.http import retry_after
from integrations.errors import PermanentError, TransientError

# Slack answers these once and forever: retrying cannot help until a person acts (reinstall, invite the bot).
PERMANENT = {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive", "missing_scope",
             "not_in_channel", "channel_not_found", "is_archived", "no_permission", "invalid_blocks",
             "msg_too_long", "team_access_not_granted", "restricted_action", "message_not_found",
             "cant_update_message", "invalid_arguments"}
# Looking for a post whose answer was lost: how far back (pages x messages), and how much earlier than our own
# clock said the work began, since Slack's clock and ours need not agree.
SCAN_PAGES, SCAN_LIMIT = 2, 200
CLOCK_SKEW = 600.0

log = logging.getLogger(__name__)


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


class NoBlindRepost(ConnectionErrorRetryHandler):
    """The SDK's retry after a dropped connection, except for chat.postMessage: Slack may have posted it already,
    and only our outbox, which looks first (find_posted), may send it again."""

    def _can_retry(self, *, state, request, response=None, error=None) -> bool:
        if request.url.split("?")[0].endswith("/chat.postMessage"):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def client(settings, token: str) -> WebClient:
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=30, retry_handlers=[NoBlindRepost()])


def translate(exc: Exception, method: str) -> Exception:
    """A Slack SDK failure as the project's TransientError / PermanentError."""
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", None)
        error = (exc.response.get("error") if hasattr(exc.response, "get") else None) or str(exc)
        if status == 429 or error == "ratelimited":
            wait = retry_after(getattr(exc.response, "headers", None)) or 1.0
            return TransientError(f"Slack {method}: rate limited", status=429, retry_after=wait)
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


def slack_ts(when: dt.datetime) -> str:
    """A moment as Slack writes message timestamps (naive datetimes are UTC, as the database keeps them)."""
    return f"{aware(when).timestamp():.6f}"


def find_posted(web: WebClient, channel: str, *, event_type: str, field: str, value: str,
                thread_ts: str | None = None, oldest: dt.datetime | None = None) -> str | None:
    """The ts of our message whose metadata is `event_type` with `field` == `value`, in the thread `thread_ts` or
    the channel, posted since `oldest`; None when it is not there or Slack does not answer.

    Only for a retry whose earlier post may have reached Slack with the answer lost: Slack has no idempotency key,
    so the message's own metadata is the receipt. A failed look is logged and treated as not found: a second
    message is a lesser harm than none.
    """
    method = "conversations.replies" if thread_ts else "conversations.history"
    args: dict = {"channel": channel, "limit": SCAN_LIMIT, "include_all_metadata": True}
    if thread_ts:
        args["ts"] = thread_ts
    if oldest is not None:
        args["oldest"] = slack_ts(oldest - dt.timedelta(seconds=CLOCK_SKEW))
    try:
        for _ in range(SCAN_PAGES):
            data = call(web, method, **args)
            messages = data.get("messages") or []
            for m in (reversed(messages) if thread_ts else messages):  # newest first (replies come oldest first)
                meta = m.get("metadata") or {}
                if meta.get("event_type") == event_type and (meta.get("event_payload") or {}).get(field) == value:
                    return m.get("ts")
            args["cursor"] = (data.get("response_metadata") or {}).get("next_cursor")
            if not (data.get("has_more") and args["cursor"]):
                break
    except (TransientError, PermanentError) as exc:
        log.warning("could not look for an earlier %s post in %s (posting again): %s", event_type, channel, exc)
    return None


def post_once(web: WebClient, channel: str, *, event_type: str, payload: dict, key_field: str,
              retried_since: dt.datetime | None, thread_ts: str | None = None, **message) -> tuple[str, bool]:
    """Post a message whose metadata carries `payload` (our key in `key_field`): (its ts, whether posted now).

    On a retry (`retried_since`: when the first attempt began) an earlier post whose answer was lost is looked
    for first and returned instead of posting a second one."""
    if retried_since is not None:
        found = find_posted(web, channel, event_type=event_type, field=key_field, value=payload[key_field],
                            thread_ts=thread_ts, oldest=retried_since)
        if found:
            return found, False
    where = {"thread_ts": thread_ts} if thread_ts else {}
    posted = call(web, "chat.postMessage", channel=channel, **where, unfurl_links=False, unfurl_media=False,
                  metadata={"event_type": event_type, "event_payload": payload}, **message)
    return str(posted.get("ts") or ""), True
