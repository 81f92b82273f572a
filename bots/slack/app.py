"""The Bolt app around one Onno `App`: which workspace a request is for, its token, and every listener."""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from bots.background import Background
from bots.slack.store import DbInstallationStore, DbStateStore
from integrations.slack.tokens import bot_token
from storage import slack as slack_repo

log = logging.getLogger(__name__)

# Everything the manifest (slack/manifest.yaml) asks for; an OAuth install requests the same.
BOT_SCOPES = ["app_mentions:read", "channels:history", "channels:read", "chat:write", "commands", "files:read",
              "groups:history", "groups:read", "users:read", "users:read.email"]


class NotConfigured(Exception):
    """Slack settings are missing; the message says which."""


def mode(settings, *, socket: bool = False) -> str:
    """"oauth" (many workspaces), "single" (one bot token); raise NotConfigured when neither is set up."""
    if socket and not settings.slack_app_token:
        raise NotConfigured("Socket Mode needs SLACK_APP_TOKEN (an xapp- token with connections:write).")
    if not socket and not settings.slack_signing_secret:
        raise NotConfigured("Set SLACK_SIGNING_SECRET (Basic Information → App Credentials).")
    if settings.slack_client_id and settings.slack_client_secret and not socket:
        return "oauth"
    if settings.slack_bot_token:
        return "single"
    raise NotConfigured("Set SLACK_BOT_TOKEN for one workspace, or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to "
                        "let any workspace install the app.")


class SlackBot(Background):
    """One per process: the Bolt app, a small pool for blocking work, and the helpers listeners share."""

    def __init__(self, app, *, socket: bool = False):
        self.app = app
        self.settings = app.settings
        self.mode = mode(self.settings, socket=socket)
        self.socket = socket
        # Submitting runs the whole job here when there is no broker: keep that off the default pool,
        # which the listeners need for their quick database look-ups.
        self.start_background("slack-submit")
        # Bolt takes the single-workspace token from its client; with OAuth each request gets its team's token.
        client = AsyncWebClient(base_url=self.settings.slack_api_url,
                                token=None if self.mode == "oauth" else self.settings.slack_bot_token)
        kwargs: dict = {"client": client, "process_before_response": False,
                        "request_verification_enabled": not socket,
                        "signing_secret": self.settings.slack_signing_secret or None}
        self.installation_store = None
        if self.mode == "oauth":
            self.installation_store = DbInstallationStore(app)
            kwargs["oauth_settings"] = AsyncOAuthSettings(
                client_id=self.settings.slack_client_id, client_secret=self.settings.slack_client_secret,
                scopes=BOT_SCOPES, installation_store=self.installation_store, state_store=DbStateStore(app),
                redirect_uri=f"{self.settings.public_url.rstrip('/')}/slack/oauth_redirect")
        self.bolt = AsyncApp(**kwargs)
        if self.installation_store is not None:
            self.bolt.enable_token_revocation_listeners()
        from bots.slack import listeners

        listeners.register(self)

    # -- helpers listeners share --------------------------------------------------------------------------------

    async def token(self, team_id: str) -> str | None:
        return await asyncio.to_thread(bot_token, self.app, team_id)

    def workspace_id(self, team_id: str, team_name: str | None = None) -> int:
        with self.app.session() as s:
            return slack_repo.team_workspace(s, team_id, team_name).id

    def client(self, token: str) -> AsyncWebClient:
        return AsyncWebClient(token=token, base_url=self.settings.slack_api_url)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for work started after acks (tests, shutdown)."""
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=timeout)

    def close(self) -> None:
        self.jobs_pool.shutdown(wait=False, cancel_futures=False)
