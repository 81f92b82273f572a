"""What a stranger sends to /slack/events: never parsed or logged unsigned, never a 500 (issue 18)."""

from __future__ import annotations

import json
import logging
import time

from tests.bots.conftest import sign

MALFORMED = {
    "bad json": (b'{"type": "event_callback", "event": ', "application/json"),
    "not utf-8": (b'{"type": "\xff\xfe"}', "application/json"),
    "deep array": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "a list": (b"[1, 2]", "application/json"),
    "bad form payload": (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
}


def test_unsigned_bodies_of_any_shape_get_401_and_are_neither_parsed_nor_logged(slack_server, caplog):
    server = slack_server()
    caplog.set_level(logging.DEBUG)
    marker = b"STRANGER-BODY-7f3a"
    for name, (body, ctype) in {**MALFORMED, "plain": (b'{"marker": "' + marker + b'"}', "application/json")}.items():
        r = server.http.post("/slack/events", content=body, headers={"Content-Type": ctype})
        assert r.status_code == 401, name
        assert "only Slack may call" in r.text
        bad = {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=" + "0" * 64}
        r = server.http.post("/slack/events", content=body, headers={"Content-Type": ctype, **bad})
        assert r.status_code == 401, name
        wrong = {**sign(body), "X-Slack-Signature": "v0=" + "1" * 64}
        assert server.http.post("/slack/events", content=body, headers={"Content-Type": ctype, **wrong}
                                ).status_code == 401
    odd = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": ("v0=" + "é" * 64).encode()}
    assert server.http.post("/slack/events", content=b"{}", headers=odd).status_code == 401
    huge_ts = {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=" + "0" * 64}
    assert server.http.post("/slack/events", content=b"{}", headers=huge_ts).status_code == 401
    assert marker.decode() not in caplog.text


def test_signed_but_malformed_bodies_get_400(slack_server):
    server = slack_server()
    for name, (body, ctype) in MALFORMED.items():
        r = server.post("/slack/events", body, ctype)
        assert r.status_code == 400, name
        assert "as Slack sends them" in r.text
    ok = json.dumps({"type": "url_verification", "challenge": "c1", "token": "legacy"}).encode()
    assert server.post("/slack/events", ok, "application/json").json()["challenge"] == "c1"
