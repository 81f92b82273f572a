"""Renewing a public integration's expired access token with its refresh token, once for every worker.

Notion rotates refresh tokens: a grant spends the one it is given and answers a new access token and a new
refresh token (the Authorization guide's "Refresh an access token"). So two workers must not both spend it.
Refreshes of one connection take turns (a lock in this process and, with a Redis broker, one in Redis), each
first re-reads the row: a token another worker already renewed is used as it is, no grant spent. The new pair
is stored by one UPDATE conditional on the refresh token that was spent, so a late writer never overwrites a
newer pair; it re-reads the row and uses the token stored there instead.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import update

from integrations.errors import PermanentError, TransientError
from integrations.notion.api import BrokenConnection
from integrations.notion.grants import OAuthRefused, refresh_grant
from integrations.notion.models import NotionConnection
from integrations.notion.store import TokenUnreadable, decrypt_token, encrypt_token

log = logging.getLogger(__name__)

LOCK_TTL = 90.0  # a Redis lock outlives a refresh (one 30 s request) but not a worker that died holding it
LOCK_WAIT = 45.0  # how long a worker waits for another one's refresh before leaving it to the outbox's retry

_local: dict[tuple[str, int], threading.Lock] = {}
_local_lock = threading.Lock()
_redis: dict[str, object] = {}


class Refresher:
    """`NotionAPI(refresh=...)` for one connection: the access token to use instead of `used`, or None when
    Notion no longer honours the authorization (the connection is then broken, with the advice to reconnect)."""

    def __init__(self, app, connection_id: int, used: str):
        self.app, self.connection_id, self.used = app, connection_id, used

    def __call__(self) -> str | None:
        with _turn(self.app.settings, self.connection_id):
            return self._refresh()

    def _stored(self) -> tuple[str | None, str | None, str | None]:
        """(access token, refresh token, the refresh token as stored) in the row now; Nones when it is gone."""
        with self.app.session() as s:
            conn = s.get(NotionConnection, self.connection_id)
            if conn is None:
                return None, None, None
            stored_access, stored_refresh = conn.token_encrypted, conn.refresh_encrypted
        key = self.app.settings.resolved_secret_key
        try:
            return (decrypt_token(key, stored_access), decrypt_token(key, stored_refresh) if stored_refresh else None,
                    stored_refresh)
        except TokenUnreadable as exc:
            raise BrokenConnection(f"{exc}; connect again with Connect Notion (/onno notion in Slack).") from exc

    def _refresh(self) -> str | None:
        access, refresh, stored_refresh = self._stored()
        if access is None:
            raise PermanentError("The Notion connection was disconnected meanwhile; nothing more was sent.")
        if access != self.used:  # renewed by another worker (or the board reconnected) since we read it
            log.info("Notion connection %s: using the access token another worker renewed", self.connection_id)
            return access
        if refresh is None:
            return None
        settings = self.app.settings
        try:
            answer = refresh_grant(settings, refresh)
        except OAuthRefused as exc:
            if exc.error == "invalid_grant":
                latest, _, _ = self._stored()  # spent by a worker we could not take turns with: its token is here
                if latest != self.used:
                    return latest
                log.warning("Notion connection %s: the refresh token was refused (%s)", self.connection_id,
                            exc.reason)
                return None
            if exc.error == "invalid_client":
                raise PermanentError("Notion refused this server's public integration credentials while renewing "
                                     "an access token: check NOTION_CLIENT_ID and NOTION_CLIENT_SECRET (the "
                                     "integration's OAuth client id and secret).", status=exc.status) from exc
            raise PermanentError(f"Notion refused to renew the access token: {exc.reason}", status=exc.status) from exc
        new_access = answer["access_token"]
        new_refresh = answer.get("refresh_token") or refresh  # none issued: the old one stays valid (RFC 6749 §6)
        key = settings.resolved_secret_key
        with self.app.session() as s:
            won = s.execute(update(NotionConnection)
                            .where(NotionConnection.id == self.connection_id,
                                   NotionConnection.refresh_encrypted == stored_refresh)
                            .values(token_encrypted=encrypt_token(key, new_access),
                                    refresh_encrypted=encrypt_token(key, new_refresh))
                            .execution_options(synchronize_session=False)).rowcount == 1
        if won:
            log.info("Notion connection %s: access token renewed", self.connection_id)
            return new_access
        latest, _, _ = self._stored()  # another worker stored its pair first: every worker uses that one
        log.info("Notion connection %s: another worker renewed the token first; using its token", self.connection_id)
        return latest


@contextmanager
def _turn(settings, connection_id: int) -> Iterator[None]:
    """Hold this connection's refresh turn: in this process, and across processes when the broker is Redis."""
    place = hashlib.sha256(settings.resolved_database_url.encode()).hexdigest()[:16]  # one database's connection ids
    with _local_lock:
        local = _local.setdefault((place, connection_id), threading.Lock())
    with local:
        shared = _redis_lock(settings.broker_url, f"onno:notion-refresh:{place}:{connection_id}")
        if shared is None:
            yield
            return
        import redis

        try:
            got = shared.acquire(blocking=True, blocking_timeout=LOCK_WAIT)
        except redis.RedisError as exc:  # the broker is away for a moment: take turns in this process only
            log.warning("Notion token refresh: Redis unreachable (%s); taking turns in this process only", exc)
            yield
            return
        if not got:
            raise TransientError("Another worker is renewing this board's Notion access token; trying again later.")
        try:
            yield
        finally:
            try:
                shared.release()
            except redis.RedisError as exc:  # expired (LOCK_TTL) or Redis away: nothing left to release
                log.warning("Notion token refresh: lock not released: %s", exc)


def _redis_lock(url: str, name: str):
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    import redis

    with _local_lock:
        client = _redis.get(url)
        if client is None:
            client = _redis[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    return client.lock(name, timeout=LOCK_TTL)
