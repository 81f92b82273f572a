"""Bot fixtures: the fake Discord API; for Slack the fake Web API, `onno web` served for real on a free port, and requests signed for real."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
import uuid
from urllib.parse import urlencode

import discord
import httpx
import pytest
from aiohttp import web

from onno.service import App
from onno.settings import Settings
from onno.web import make_web_app
from tests.billing.conftest import API_KEY, PRICES, WEBHOOK_SECRET, FakeStripe
from tests.bots import discord_fake
from tests.bots.slack_fake import FakeSlack, member
from tests.integrations.test_llm import API_KEY as LLM_KEY
from tests.integrations.test_llm import MODEL as LLM_MODEL
from tests.integrations.test_llm import FakeOpenAI, completion
from tests.jobs.conftest import (
    redis_server,  # noqa: F401  (a private Redis for the worker test)
    wait_for,
)

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
T1, T2 = "T0000AAAA", "T0000BBBB"
TOKEN1, TOKEN2 = "xoxb-team-one", "xoxb-team-two"


def sign(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict:
    """Slack's v0 request signature: HMAC-SHA256 of `v0:TIMESTAMP:BODY` with the signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig}


def event_body(team: str, event: dict, *, event_id: str | None = None) -> dict:
    return {"token": "legacy", "team_id": team, "api_app_id": "A0ONNO", "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}", "event_time": int(time.time()),
            "event": event, "authorizations": [{"team_id": team, "user_id": f"UBOT{team}", "is_bot": True}]}


@pytest.fixture
def fake_slack():
    fake = FakeSlack()
    fake.add_team(T1, TOKEN1, ["C0000GEN1", "C0000DEV1"], [member("U_MAYA", "Maya Chen", admin=True),
                                                            member("U_DANIEL", "Daniel Park"),
                                                            member("U_LENA", "Lena Novak")])
    fake.add_team(T2, TOKEN2, ["C0000GEN2"], [member("U_OTHER", "Lena Other")])
    yield fake
    fake.close()


def answer(server, fake, text: str, timeout: float = 20) -> str:
    """Run `/onno TEXT` in team one and return the private answer (it comes through the response URL)."""
    n = len(fake.responses)
    server.command(T1, text)
    wait_for(lambda: len(fake.responses) > n, timeout, f"the answer to /onno {text}")
    return fake.responses[-1]["body"]["text"]


class SlackServer:
    """`onno web` (the real aiohttp app with the Slack routes) on a free port, in its own event-loop thread."""

    def __init__(self, app: App):
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.web_app = make_web_app(app)
        self.runner = web.AppRunner(self.web_app, access_log=None)
        self.port = self.run(self._start())
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=30)

    async def _start(self) -> int:
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        return site._server.sockets[0].getsockname()[1]

    def run(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def bot(self):
        from bots.slack.web import BOT_KEY

        return self.web_app[BOT_KEY]

    def drain(self, timeout: float = 60) -> None:
        """Wait for the work listeners started after their acks."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.run(self.bot.drain(timeout))
            if not self.bot.tasks:
                return
        raise AssertionError("listener work still running")

    def post(self, path: str, body: bytes, content_type: str, *, headers: dict | None = None,
             timestamp: int | None = None, secret: str = SIGNING_SECRET) -> httpx.Response:
        h = {"Content-Type": content_type, **sign(body, secret=secret, timestamp=timestamp), **(headers or {})}
        return self.http.post(path, content=body, headers=h)

    def event(self, team: str, event: dict, *, event_id: str | None = None, headers: dict | None = None,
              **kw) -> httpx.Response:
        body = json.dumps(event_body(team, event, event_id=event_id)).encode()
        return self.post("/slack/events", body, "application/json", headers=headers, **kw)

    def command(self, team: str, text: str, *, channel: str = "C0000GEN1", user: str = "U_MAYA",
                **kw) -> httpx.Response:
        form = {"token": "legacy", "team_id": team, "team_domain": "acme", "channel_id": channel,
                "channel_name": "general", "user_id": user, "user_name": "maya", "command": "/onno", "text": text,
                "api_app_id": "A0ONNO", "response_url": f"{self.fake_base}/respond/{uuid.uuid4().hex[:8]}",
                "trigger_id": "13345224609.738474920.8088930838d88f008e0"}
        return self.post("/slack/events", urlencode(form).encode(), "application/x-www-form-urlencoded", **kw)

    def action(self, team: str, payload: dict, **kw) -> httpx.Response:
        payload = {"type": "block_actions", "team": {"id": team, "domain": "acme"}, "api_app_id": "A0ONNO",
                   "trigger_id": "1.2.3", "response_url": f"{self.fake_base}/respond/act{uuid.uuid4().hex[:6]}",
                   "token": "legacy", **payload}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post("/slack/events", body, "application/x-www-form-urlencoded", **kw)

    fake_base = ""

    def close(self) -> None:
        self.http.close()
        self.run(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.app.engine.dispose()


def slack_settings(tmp_path, fake: FakeSlack, **overrides) -> Settings:
    values = {"data_dir": tmp_path / "data", "database_url": f"sqlite:///{tmp_path / 'onno.db'}",
              "slack_signing_secret": SIGNING_SECRET, "slack_bot_token": TOKEN1, "slack_api_url": fake.api_url,
              "slack_progress_interval": 0.2, "public_url": "https://onno.test", "secret_key": "test-secret-key-0123456789"}
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def slack_server(tmp_path, fake_slack):
    """Single-workspace mode (SLACK_BOT_TOKEN for team one)."""
    servers: list[SlackServer] = []

    def start(**overrides) -> SlackServer:
        server = SlackServer(App(slack_settings(tmp_path, fake_slack, **overrides)))
        server.fake_base = fake_slack.base
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.close()


DISCORD_BASE = discord.http.Route.BASE


@pytest.fixture
def fake():
    """The fake Discord API; discord.py's route base is put back after, as the bot points it at the fake."""
    server = discord_fake.FakeDiscord()
    yield server
    server.close()
    discord.http.Route.BASE = DISCORD_BASE


@pytest.fixture
def stripe():
    """A fake Stripe API."""
    server = FakeStripe()
    yield server
    server.close()


def billing(stripe: FakeStripe) -> dict:
    """Settings that turn billing on against the fake Stripe."""
    return {"stripe_api_key": API_KEY, "stripe_webhook_secret": WEBHOOK_SECRET, "stripe_api_url": stripe.url,
            "stripe_price_pro": PRICES["pro"], "stripe_price_team": PRICES["team"]}


# What the language model (the fake OpenAI endpoint) finds in tests.bots.test_slack_files.VTT: one action item it
# is sure of, and a possible action item, decision and blocker.
UNSURE = {
    "action_items": [{"segment": 1, "text": "Write the tests for the payment step", "owner": "Daniel", "due": None,
                      "confidence": 0.95},
                     {"segment": 3, "text": "Send Maya the error page design", "owner": "Lena", "due": None,
                      "confidence": 0.4}],
    "questions": [], "metrics": [], "ticket_updates": [],
    "decisions": [{"segment": 2, "text": "Use the postal code lookup service", "confidence": 0.5}],
    "blockers": [{"segment": 0, "text": "The checkout page status is unclear", "confidence": 0.5}],
    "summary": "Daniel writes the payment tests.",
}


@pytest.fixture
def llm():
    """A fake OpenAI-compatible endpoint answering UNSURE; `llm.settings` points Onno at it."""
    from integrations.llm.breaker import reset_breakers

    reset_breakers()
    server = FakeOpenAI()
    server.reply = lambda req: (200, completion(json.dumps(UNSURE)), 0)
    server.settings = {"llm_base_url": server.url, "llm_api_key": LLM_KEY, "llm_model": LLM_MODEL,
                       "llm_max_retries": 0}
    yield server
    server.close()
    reset_breakers()
    assert not server.errors, server.errors
