"""Whatever a stranger sends to any route of `onno web` gets a 4xx, never a 500."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer

from core.links import billing_signature, meeting_signature
from onno.service import App
from onno.settings import Settings
from onno.web import make_web_app

KEY = "a-test-secret-key-long-enough-0123456789"
BIG = str(2**70)
ODD = "%C3%A9" * 32  # é, percent-encoded: a non-ASCII signature
ODD_HEADER = "v0=" + "é" * 64

SWEEP = [
    ("GET", f"/meetings/1/1?sig={ODD}", {}, b""),
    ("GET", f"/meetings/{BIG}/1?sig=00", {}, b""),
    ("GET", f"/meetings/1/{BIG}?sig=00", {}, b""),
    ("GET", f"/meetings/1/{BIG}?sig={meeting_signature(KEY, 1, 2**70)}", {}, b""),
    ("GET", f"/meetings/{BIG}/1?sig={meeting_signature(KEY, 2**70, 1)}", {}, b""),
    ("GET", f"/billing/{BIG}/upgrade?sig={billing_signature(KEY, 2**70)}", {}, b""),
    ("GET", f"/billing/1/upgrade?sig={ODD}", {}, b""),
    ("GET", f"/billing/{BIG}/manage?sig=00", {}, b""),
    ("GET", f"/notion/connect/1?exp=9999999999&sig={ODD}", {}, b""),
    ("GET", f"/notion/connect/1?exp={BIG}{BIG}&sig=00", {}, b""),
    ("GET", f"/notion/connect/{BIG}?exp=1&sig=00", {}, b""),
    ("GET", f"/notion/oauth/callback?state={ODD}&code=x", {}, b""),
    ("POST", "/notion/oauth/pick", {"Content-Type": "application/x-www-form-urlencoded"}, b"key=\xff\xfe&title=\xff"),
    ("POST", "/notion/oauth/pick", {"Content-Type": "multipart/form-data; boundary=x"}, b"--x\r\nbroken"),
    ("GET", f"/unsubscribe/{ODD}.{ODD}", {}, b""),
    ("POST", f"/unsubscribe/{ODD}.{ODD}", {}, b""),
    ("GET", "/unsubscribe/%FF%FE.%FF", {}, b""),
    ("GET", f"/confirm/{ODD}.{ODD}", {}, b""),
    ("POST", "/confirm/%FF%FE.%FF", {}, b""),
    ("POST", "/stripe/webhook", {"Stripe-Signature": "t=1,v1=" + "é" * 64}, b"{}"),
    ("POST", "/stripe/webhook", {"Stripe-Signature": "t=abc,v1=zz"}, b"\xff"),
    ("POST", "/slack/events", {"X-Slack-Request-Timestamp": "1", "X-Slack-Signature": ODD_HEADER}, b"{}"),
    ("GET", f"/slack/oauth_redirect?state={ODD}&code=x", {}, b""),
    ("GET", "/slack/install", {}, b""),
]


def sweep(app: App) -> list[tuple[str, str, int, str]]:
    async def go():
        out = []
        async with TestClient(TestServer(make_web_app(app))) as client:
            for method, path, headers, body in SWEEP:
                r = await client.request(method, path, headers=headers, data=body, allow_redirects=False)
                out.append((method, path, r.status, (await r.text())[:200]))
        return out

    return asyncio.run(go())


def test_malformed_requests_to_every_route_get_4xx(tmp_path, database_url):
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url, public_url="https://onno.test",
                       secret_key=KEY,
                       slack_signing_secret="8f742231b10e8888abcd99yyyzzz85a5", slack_client_id="1.2",
                       slack_client_secret="s", stripe_webhook_secret="whsec_test", notion_client_id="n",
                       notion_client_secret="ns"))
    answers = sweep(app)
    app.engine.dispose()
    errors = [a for a in answers if a[2] >= 500]
    assert errors == [], "\n".join(map(str, errors))


def test_row_ids_beyond_what_a_database_holds_name_nothing(onno):
    r = onno("meetings", "show", BIG)
    assert r.exit_code != 0 and f"There is no meeting {BIG}" in r.output
    r = onno("meetings", "list", "--workspace", BIG)
    assert r.exit_code != 0 and "workspace" in r.output.lower()
