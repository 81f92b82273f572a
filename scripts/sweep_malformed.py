"""Malformed input over every route of `onno web`: how many answers are 5xx (the goal is none).

    .venv/bin/python scripts/sweep_malformed.py

Serves the real aiohttp app, configured as in production (Slack OAuth, Stripe, Notion, a secret key), on SQLite
in a temporary folder, and sends it the requests of tests/onno/test_strangers.py plus unsigned and signed
malformed bodies on /slack/events. Prints each 5xx and the count.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import sys
import tempfile
import time
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from onno.service import App  # noqa: E402
from onno.settings import Settings  # noqa: E402
from onno.web import make_web_app  # noqa: E402
from tests.onno.test_strangers import KEY, SWEEP  # noqa: E402

SLACK_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BODIES = [(b'{"type": "event_callback", "event": ', "application/json"), (b'{"type": "\xff\xfe"}', "application/json"),
          (b"[" * 100_000 + b"]" * 100_000, "application/json"), (b"[1, 2]", "application/json"),
          (b"payload=%7Bnot-json", "application/x-www-form-urlencoded")]


def slack_requests() -> list[tuple[str, str, dict, bytes]]:
    out = []
    for body, ctype in BODIES:
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SLACK_SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
        out += [("POST", "/slack/events", {"Content-Type": ctype}, body),
                ("POST", "/slack/events", {"Content-Type": ctype, "X-Slack-Request-Timestamp": "abc",
                                           "X-Slack-Signature": "v0=" + "0" * 64}, body),
                ("POST", "/slack/events", {"Content-Type": ctype, "X-Slack-Request-Timestamp": ts,
                                           "X-Slack-Signature": sig}, body)]
    return out


async def sweep(app: App) -> list[tuple[str, str, int]]:
    out = []
    async with TestClient(TestServer(make_web_app(app))) as client:
        for method, path, headers, body in [*SWEEP, *slack_requests()]:
            r = await client.request(method, path, headers=headers, data=body, allow_redirects=False)
            out.append((method, path[:70], r.status))
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = App(Settings(data_dir=Path(tmp) / "data", public_url="https://onno.test", secret_key=KEY,
                           slack_signing_secret=SLACK_SECRET, slack_client_id="1.2", slack_client_secret="s",
                           stripe_webhook_secret="whsec_test", notion_client_id="n", notion_client_secret="ns"))
        answers = asyncio.run(sweep(app))
        app.engine.dispose()
    errors = [a for a in answers if a[2] >= 500]
    for method, path, status in errors:
        print(f"{status} {method} {path}")
    print(f"{len(answers)} malformed requests, {len(errors)} answered 5xx")


if __name__ == "__main__":
    main()
