"""What a stranger sends to /slack/events (never parsed or logged unsigned, never a 500) and what a channel member
puts in a file (names shown as text, links followed only to Slack)."""

from __future__ import annotations

import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from storage import repository as repo
from storage import slack as slack_repo
from tests.bots.conftest import T1, sign
from tests.bots.test_slack_files import CHANNEL, SHARE_TS, VTT, jobs, thread_replies
from tests.jobs.conftest import wait_for

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


# -- what a channel member can put in a file's name, title or link -------------------------------------------------

def markup(value) -> list[str]:
    """Every string Slack reads as mrkdwn in a message (plain_text objects are shown as typed)."""
    if isinstance(value, dict):
        if value.get("type") == "plain_text":
            return []
        return [t for k, v in value.items() if k not in ("action_id", "block_id", "value", "url") for t in markup(v)]
    if isinstance(value, list):
        return [t for v in value for t in markup(v)]
    return [value] if isinstance(value, str) else []


def slack_texts(fake) -> str:
    """Everything the bot posted or edited in Slack, and every answer to a command, as one string."""
    posted = [c["args"] for c in fake.calls if c["method"].startswith("chat.")]
    return "\n".join(markup(posted + [r["body"] for r in fake.responses]))


def test_names_and_titles_are_posted_as_text_never_as_mentions_or_links(slack_server, fake_slack):
    server = slack_server()
    info = fake_slack.add_file(T1, "F0INJECT01", "<!channel> notes.vtt", VTT.encode(), channel=CHANNEL,
                               share_ts=SHARE_TS, mimetype="text/vtt", filetype="vtt")
    info["title"] = "<https://evil.example|Open the meeting notes> <!everyone>.vtt"
    server.event(T1, {"type": "file_shared", "file_id": "F0INJECT01", "user_id": "U_MAYA", "channel_id": CHANNEL,
                      "file": {"id": "F0INJECT01"}, "event_ts": SHARE_TS}, event_id="EvF0INJECT01")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    for text in ("meetings", "ask checkout page", "status"):
        server.command(T1, text)
    wait_for(lambda: len(fake_slack.responses) == 3, 20, "three answers")
    posted = slack_texts(fake_slack)
    for raw in ("<!channel>", "<!everyone>", "<https://evil.example"):
        assert raw not in posted
    assert "&lt;!channel&gt; notes.vtt" in posted and "&lt;https://evil.example|Open the meeting notes&gt;" in posted
    with server.app.session() as s:  # stored as the user wrote it; escaped only where it is shown
        assert slack_repo.get_file(s, slack_repo.team_workspace(s, T1), "F0INJECT01").name == "<!channel> notes.vtt"


class Catcher:
    """A server outside Slack that records every request it gets (it must get none)."""

    def __init__(self):
        self.seen: list[dict] = []
        catcher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                catcher.seen.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Type", "audio/ogg")
                self.end_headers()
                self.wfile.write(b"OggS")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_bot_token_goes_to_slack_hosts_only(slack_server, fake_slack):
    from bots.slack.files import slack_host

    server = slack_server()
    catcher = Catcher()
    try:
        info = fake_slack.add_file(T1, "F0ELSEWH01", "standup.ogg", b"OggS", channel=CHANNEL, share_ts=SHARE_TS)
        info["url_private_download"] = info["url_private"] = f"{catcher.url}/files-pri/steal"
        server.event(T1, {"type": "file_shared", "file_id": "F0ELSEWH01", "user_id": "U_MAYA", "channel_id": CHANNEL,
                          "file": {"id": "F0ELSEWH01"}, "event_ts": SHARE_TS}, event_id="EvF0ELSEWH01")
        server.drain()
        assert catcher.seen == []
        texts = [c["args"]["text"] for c in fake_slack.calls_to("chat.update")]
        assert any("does not point to Slack" in t for t in texts), texts
        assert jobs(server) == 0
    finally:
        catcher.close()
    settings = server.app.settings
    assert slack_host("https://files.slack.com/files-pri/T1-F1/download/a.ogg", settings)
    assert slack_host("https://acme.slack.com/files-pri/T1-F1/a.ogg", settings)
    for url in ("http://files.slack.com/x", "https://files.slack.com.evil.example/x", "https://evilslack.com/x",
                "https://files.slack.com:8443/x", "file:///etc/passwd"):
        assert not slack_host(url, settings), url


def test_odd_file_names_are_processed_and_titles_keep_their_slashes(slack_server, fake_slack):
    server = slack_server()
    for file_id, name in (("F0DOTDOT01", ".."), ("F0SLASH001", "Q3/Q4 planning.vtt")):
        fake_slack.add_file(T1, file_id, name, VTT.encode(), channel=CHANNEL, share_ts=SHARE_TS,
                            mimetype="text/vtt", filetype="vtt")
        server.event(T1, {"type": "file_shared", "file_id": file_id, "user_id": "U_MAYA", "channel_id": CHANNEL,
                          "file": {"id": file_id}, "event_ts": SHARE_TS}, event_id=f"Ev{file_id}")
    wait_for(lambda: len(thread_replies(fake_slack)) == 2, 90, "both results", every=0.5)
    server.drain()
    assert "Something went wrong" not in slack_texts(fake_slack)
    with server.app.session() as s:
        titles = {m.title for m in repo.list_meetings(s, slack_repo.team_workspace(s, T1))}
    assert titles == {"..", "Q3/Q4 planning"}


def test_a_file_refused_for_a_sign_in_page_can_be_processed_again(slack_server, fake_slack):
    from tests.bots.slack_fake import LOGIN_PAGE

    server = slack_server()
    fake_slack.add_file(T1, "F0AGAIN001", "standup.vtt", LOGIN_PAGE, channel=CHANNEL, share_ts=SHARE_TS,
                        mimetype="text/vtt", filetype="vtt", content_type="text/html; charset=utf-8")
    server.event(T1, {"type": "file_shared", "file_id": "F0AGAIN001", "user_id": "U_MAYA", "channel_id": CHANNEL,
                      "file": {"id": "F0AGAIN001"}, "event_ts": SHARE_TS}, event_id="EvF0AGAIN001")
    server.drain()
    refusal = fake_slack.calls_to("chat.update")[-1]["args"]["text"]
    assert "sign-in page" in refusal and "/onno process" in refusal
    fake_slack.files["F0AGAIN001"].update(content=VTT.encode(), content_type="text/vtt")  # the app was fixed
    server.command(T1, "process")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results after /onno process")
    server.drain()
    assert "already rejected" not in slack_texts(fake_slack)
    assert jobs(server) == 1
