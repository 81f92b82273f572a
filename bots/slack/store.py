"""Bolt's installation and OAuth-state stores on our database; installations are kept encrypted."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from integrations.slack.tokens import seal, unseal
from storage import slack as slack_repo

log = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


class DbInstallationStore(AsyncInstallationStore):
    """One row per team (or enterprise): the whole installation sealed with Fernet, a few columns in clear."""

    def __init__(self, app):
        self.app = app
        # Looked up before every ack: kept a minute, so an install made by another process shows up soon.
        self._cache: dict[tuple, tuple[float, Installation | None]] = {}

    @property
    def logger(self) -> logging.Logger:
        return log

    def _save(self, installation: Installation) -> None:
        team_id = None if installation.is_enterprise_install else installation.team_id
        external = team_id or installation.enterprise_id
        with self.app.session() as s:
            ws = slack_repo.team_workspace(s, external, installation.team_name or installation.enterprise_name)
            slack_repo.save_installation(s, ws, enterprise_id=installation.enterprise_id, team_id=team_id,
                                         bot_user_id=installation.bot_user_id,
                                         secret=seal(self.app.settings.resolved_secret_key, installation))
        self._cache.clear()

    async def async_save(self, installation: Installation):
        await asyncio.to_thread(self._save, installation)

    async def async_save_bot(self, bot: Bot):
        pass  # the installation carries the bot

    def _find(self, enterprise_id: str | None, team_id: str | None) -> Installation | None:
        key = (enterprise_id, team_id)
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        with self.app.session() as s:
            row = slack_repo.find_installation(s, enterprise_id, team_id)
            blob = bytes(row.secret) if row is not None else None
        inst = unseal(self.app.settings.resolved_secret_key, blob) if blob else None
        self._cache[key] = (time.monotonic(), inst)
        return inst

    async def async_find_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                      user_id: str | None = None, is_enterprise_install: bool | None = False):
        if is_enterprise_install:
            team_id = None
        return await asyncio.to_thread(self._find, enterprise_id, team_id)

    async def async_find_bot(self, *, enterprise_id: str | None, team_id: str | None,
                             is_enterprise_install: bool | None = False):
        inst = await self.async_find_installation(enterprise_id=enterprise_id, team_id=team_id,
                                                  is_enterprise_install=is_enterprise_install)
        return inst.to_bot() if inst is not None and inst.bot_token else None

    def _delete(self, enterprise_id: str | None, team_id: str | None) -> None:
        with self.app.session() as s:
            slack_repo.delete_installation(s, enterprise_id, team_id)
        self._cache.clear()

    async def async_delete_installation(self, *, enterprise_id: str | None, team_id: str | None,
                                        user_id: str | None = None):
        await asyncio.to_thread(self._delete, enterprise_id, team_id)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None):
        await asyncio.to_thread(self._delete, enterprise_id, team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None):
        await asyncio.to_thread(self._delete, enterprise_id, team_id)


class DbStateStore(AsyncOAuthStateStore):
    """OAuth `state` values kept in the database, so any `onno web` process may finish an install."""

    def __init__(self, app, expiration_seconds: int = 600):
        self.app = app
        self.expiration_seconds = expiration_seconds

    @property
    def logger(self) -> logging.Logger:
        return log

    def _issue(self) -> str:
        state = secrets.token_urlsafe(24)
        with self.app.session() as s:
            slack_repo.issue_state(s, state, self.expiration_seconds)
        return state

    async def async_issue(self, *args, **kwargs) -> str:
        return await asyncio.to_thread(self._issue)

    def _consume(self, state: str) -> bool:
        with self.app.session() as s:
            return slack_repo.consume_state(s, state)

    async def async_consume(self, state: str) -> bool:
        return await asyncio.to_thread(self._consume, state)
