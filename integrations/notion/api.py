"""Notion's API through `notion-client` (version 2025-09-03): rate-limited, with errors translated at the edge.

Everything goes through a database's data source, as 2025-09-03 requires: a database is retrieved for its
`data_sources`, pages are created with a `data_source_id` parent, queries go to `data_sources/{id}/query`.
notion-client's own retries are off: every request, retries included, takes a token from the bucket.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
from notion_client import Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from core.http import retry_after
from integrations.errors import PermanentError, TransientError
from integrations.notion.ratelimit import Paused, SharedBucket, TokenBucket, bucket_for

log = logging.getLogger(__name__)

NOTION_VERSION = "2025-09-03"
DEFAULT_API_URL = "https://api.notion.com"
RATE_LIMITED = {429, 529}  # 529: overloaded; both come with Retry-After
RETRYABLE = {409, 500, 502, 503, 504}


class BrokenConnection(PermanentError):
    """The token was revoked or the board is gone: every delivery would fail the same way until reconnected."""


class NotFound(PermanentError):
    """Notion says there is no such object (or it is not shared with the integration)."""


class NotionAPI:
    """One integration token's view of Notion. `max_wait`: the longest Retry-After slept here rather than
    handed to the outbox as a TransientError.

    `refresh` (a public integration's connection): called once, on the first 401, for a new access token;
    with one the request is sent again with it, with None the 401 stands (a BrokenConnection). It may raise
    TransientError (Notion's token endpoint unreachable): the delivery is then retried later.
    """

    def __init__(self, token: str, *, base_url: str = DEFAULT_API_URL, rate: float = 3.0, max_wait: float = 10.0,
                 timeout: float = 30.0, tries: int = 4, bucket: TokenBucket | SharedBucket | None = None,
                 redis_url: str = "", sleep=time.sleep, refresh: Callable[[], str | None] | None = None):
        self.base_url, self.timeout = (base_url or DEFAULT_API_URL).rstrip("/"), timeout
        self.rate, self.redis_url, self.own_bucket = rate, redis_url, bucket is None
        self.client = self._client(token)
        self.bucket = bucket or bucket_for(token, rate, redis_url)
        self.max_wait, self.tries, self.sleep = max_wait, tries, sleep
        self.refresh, self.refreshed = refresh, False  # at most one refresh per instance
        self.requests = 0  # sent, retries included
        self.rate_limited = 0  # 429/529 answers received
        self.waited = 0.0  # seconds spent waiting for the bucket or a Retry-After

    def _client(self, token: str) -> Client:
        # notion-client would log each failed request as a warning: we handle (and log) them ourselves.
        return Client(auth=token, base_url=self.base_url, notion_version=NOTION_VERSION, retry=False,
                      timeout_ms=int(self.timeout * 1000), logger=logging.getLogger("notion_client"),
                      log_level=logging.ERROR)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> NotionAPI:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the one way every request goes -------------------------------------------------------------------

    def call(self, what: str, fn, *args, idempotent: bool = True, **kwargs) -> Any:
        """Send one request through the bucket; retry here what is safe and short, translate the rest.

        A create (not idempotent) is retried here only after a 429/529, which Notion answers before doing
        anything; after a timeout or a 5xx it may have happened, so the caller must look before trying again.
        """
        attempt = 0
        while attempt < self.tries:
            attempt += 1
            try:
                self.waited += self.bucket.acquire(max_pause=self.max_wait)
            except Paused as exc:  # an earlier answer said to wait long: the outbox waits, not this thread
                raise TransientError(f"Notion is rate limiting; retry after {exc.remaining:.0f} s",
                                     status=429, retry_after=exc.remaining) from exc
            self.requests += 1
            last = attempt == self.tries
            try:
                return fn(*args, **kwargs)
            except HTTPResponseError as exc:
                status, code = exc.status, str(getattr(exc.code, "value", exc.code))
                message = _message(exc)
                if status in RATE_LIMITED or code == "rate_limited":
                    self.rate_limited += 1
                    wait = retry_after(exc.headers, default=1.0)
                    self.bucket.pause(wait)
                    if wait <= self.max_wait and not last:
                        log.info("Notion rate limit on %s: waiting %.1f s as asked", what, wait)
                        self.waited += wait
                        self.sleep(wait)
                        continue
                    raise TransientError(f"Notion is rate limiting ({status}); retry after {wait:.0f} s",
                                         status=status, retry_after=wait) from exc
                if status == 401 and self.refresh is not None and not self.refreshed:
                    # An expired access token: Notion answers 401 before doing anything, so even a create
                    # is safe to send again, and the retry is not one of the tries.
                    fn = self._renew(fn, exc)
                    attempt -= 1
                    continue
                if status == 401:
                    raise BrokenConnection(
                        "Notion rejected the integration token (401 unauthorized): it was revoked or is wrong. "
                        "Connect again with `onno notion connect`.", status=401) from exc
                if status == 403:
                    raise BrokenConnection(
                        f"The Notion integration may not {what} (403 {code}): give it read, update and insert "
                        "content capabilities and share the board with it, then `onno notion connect` again.",
                        status=403) from exc
                if status == 404:
                    raise NotFound(f"Notion: {what}: not found ({message})", status=404) from exc
                if status in RETRYABLE or status >= 500:
                    if idempotent and not last:
                        self._backoff(attempt)
                        continue
                    raise TransientError(f"Notion {status} on {what}: {message}", status=status) from exc
                raise PermanentError(f"Notion refused to {what} ({status} {code}): {message}",
                                     status=status) from exc
            except (RequestTimeoutError, httpx.TransportError) as exc:
                if idempotent and not last:
                    self._backoff(attempt)
                    continue
                raise TransientError(f"Notion unreachable during {what}: {type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")

    def _renew(self, fn, exc: HTTPResponseError):
        """A new access token from `refresh`, and `fn` as the same endpoint of a client built with it."""
        self.refreshed = True
        token = self.refresh()
        if not token:
            raise BrokenConnection(
                "Notion no longer accepts Onno's authorization for this board (401 unauthorized, and the refresh "
                "token was refused): it expired or was revoked in Notion. Reconnect the board with Connect Notion "
                "(/onno notion in Slack).", status=401) from exc
        old, self.client = self.client, self._client(token)
        if self.own_bucket:  # every process now sends with the new token: its bucket is theirs too
            self.bucket = bucket_for(token, self.rate, self.redis_url)
        old.close()
        log.info("Notion access token refreshed after a 401; sending again")
        return _rebound(fn, old, self.client)

    def _backoff(self, attempt: int) -> None:
        wait = min(8.0, 0.5 * 2 ** (attempt - 1))
        self.waited += wait
        self.sleep(wait)

    # -- endpoints ----------------------------------------------------------------------------------------

    def me(self) -> dict:
        return self.call("read its own bot user", self.client.users.me)

    def users(self) -> list[dict]:
        """Every user of the workspace (people and bots), all pages of them."""
        out: list[dict] = []
        cursor = None
        while True:
            kw = {"page_size": 100} | ({"start_cursor": cursor} if cursor else {})
            page = self.call("list the workspace's users", self.client.users.list, **kw)
            out.extend(page.get("results", []))
            if not page.get("has_more"):
                return out
            cursor = page.get("next_cursor")

    def database(self, database_id: str) -> dict:
        return self.call("read the board database", self.client.databases.retrieve, database_id)

    def data_source(self, data_source_id: str) -> dict:
        return self.call("read the board's data source", self.client.data_sources.retrieve, data_source_id)

    def add_properties(self, data_source_id: str, properties: dict) -> dict:
        return self.call("add properties to the board", self.client.data_sources.update, data_source_id,
                         properties=properties)

    def query(self, data_source_id: str, *, filter: dict | None = None, page_size: int = 100) -> Iterator[dict]:
        """Every page of the data source matching `filter`, following cursors."""
        cursor = None
        while True:
            kw: dict = {"page_size": page_size}
            if filter:
                kw["filter"] = filter
            if cursor:
                kw["start_cursor"] = cursor
            page = self.call("query the board", self.client.data_sources.query, data_source_id, **kw)
            yield from (r for r in page.get("results", []) if r.get("object") == "page")
            if not page.get("has_more"):
                return
            cursor = page.get("next_cursor")

    def create_page(self, data_source_id: str, properties: dict, children: list[dict] | None = None) -> dict:
        body: dict = {"parent": {"type": "data_source_id", "data_source_id": data_source_id},
                      "properties": properties}
        if children:
            body["children"] = children
        return self.call("create a card", self.client.pages.create, idempotent=False, **body)

    def update_page(self, page_id: str, properties: dict) -> dict:
        return self.call("update a card", self.client.pages.update, page_id, properties=properties)

    def create_database(self, parent_page_id: str, title: str, properties: dict) -> dict:
        return self.call("create a board database", self.client.databases.create, idempotent=False,
                         parent={"type": "page_id", "page_id": parent_page_id},
                         title=[{"type": "text", "text": {"content": title}}],
                         initial_data_source={"properties": properties})


def _rebound(fn, old: Client, new: Client):
    """`fn`, taken from the old client (`client.pages.create`, `client.search`), as the same thing of the new one."""
    owner = getattr(fn, "__self__", None)
    for name, endpoint in vars(old).items():
        if endpoint is fn:
            return getattr(new, name)
        if endpoint is owner:
            return getattr(getattr(new, name), fn.__name__)
    return fn


def _message(exc: HTTPResponseError) -> str:
    text = str(exc) or (exc.body or "")[:300]
    return text.strip() or f"HTTP {exc.status}"
