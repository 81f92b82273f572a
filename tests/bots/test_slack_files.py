"""Recordings shared in Slack: one job per file whatever Slack retries, results in the thread, buttons, commands."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage import slack as slack_repo
from storage.models import Delivery, Job
from tests.bots.conftest import T1, T2, TOKEN1
from tests.jobs.conftest import wait_for
from tests.media import SAMPLE

VTT = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Maya>Let's start. Daniel, what's the status of the checkout page?

00:00:05.500 --> 00:00:11.000
<v Daniel>I finished the address form. I will write the tests for the payment step by Friday.

00:00:11.500 --> 00:00:16.000
<v Lena>We decided to use the postal code lookup service, not build our own.

00:00:16.500 --> 00:00:21.000
<v Maya>Lena, can you send me the design for the error page by Wednesday?

00:00:21.500 --> 00:00:25.000
<v Lena>Yes, I will send you the error page design by Wednesday.
"""

CHANNEL, SHARE_TS = "C0000GEN1", "1763900000.000200"


def jobs(server) -> int:
    with server.app.session() as s:
        return s.scalar(select(func.count()).select_from(Job))


def thread_replies(fake, channel=CHANNEL, thread=SHARE_TS) -> list[dict]:
    return [c for c in fake.calls_to("chat.postMessage")
            if c["args"].get("channel") == channel and c["args"].get("thread_ts") == thread and c["args"].get("blocks")]


def share(server, fake, file_id: str, name: str, content: bytes, **kw):
    fake.add_file(T1, file_id, name, content, channel=CHANNEL, share_ts=SHARE_TS, **kw)
    return server.event(T1, {"type": "file_shared", "file_id": file_id, "user_id": "U_MAYA", "channel_id": CHANNEL,
                             "file": {"id": file_id}, "event_ts": SHARE_TS}, event_id=f"Ev{file_id}")


def test_recording_to_thread_reply_end_to_end(slack_server, fake_slack):
    """file_shared on a real recording → ack, download, job, progress in one message, Block Kit reply in the thread."""
    server = slack_server(job_lease_seconds=1.5)
    r = share(server, fake_slack, "F0SAMPLE01", "standup.ogg", SAMPLE.read_bytes())
    assert r.status_code == 200
    # Slack's retry of the same event, and the message event of the same upload: neither starts a second job.
    retry = server.event(T1, {"type": "file_shared", "file_id": "F0SAMPLE01", "user_id": "U_MAYA",
                              "channel_id": CHANNEL, "file": {"id": "F0SAMPLE01"}, "event_ts": SHARE_TS},
                         event_id="EvF0SAMPLE01", headers={"X-Slack-Retry-Num": "1",
                                                           "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200
    dup = server.event(T1, {"type": "message", "subtype": "file_share", "channel": CHANNEL, "user": "U_MAYA",
                            "ts": SHARE_TS, "files": [{"id": "F0SAMPLE01", "name": "standup.ogg"}],
                            "channel_type": "channel"})
    assert dup.status_code == 200
    replies = wait_for(lambda: thread_replies(fake_slack), 180, "the results in the thread", every=0.5)
    server.drain()
    assert jobs(server) == 1 and len(replies) == 1
    assert not fake_slack.problems

    # Every call used team one's bot token; the file came from url_private_download with it.
    assert {c["token"] for c in fake_slack.calls if c["method"] != "auth.test"} == {TOKEN1}
    assert len(fake_slack.calls_to("download")) == 1
    assert fake_slack.calls_to("files.info")[0]["args"]["file"] == "F0SAMPLE01"

    reply = replies[0]["args"]
    text = json.dumps(reply["blocks"])
    assert "Action items" in text and "<@U_LENA>" in text  # the owner "Lena" is a member: mentioned
    assert "Summary" in text and "postal code lookup" in text
    assert "onno_item_done" in text and "onno_item_not_action" in text and "onno_email_me" in text

    # One progress message, updated in place: never a second status post, and it ends "Done".
    status_posts = [c for c in fake_slack.calls_to("chat.postMessage") if not c["args"].get("blocks")]
    assert len(status_posts) == 1 and "Downloading" in status_posts[0]["args"]["text"]
    updates = [c["args"]["text"] for c in fake_slack.calls_to("chat.update")]
    assert any("Transcribing" in u for u in updates), updates
    status_ts = [m for m in fake_slack.messages.values() if "Done" in (m["text"] or "")]
    assert status_ts and status_ts[0]["thread_ts"] == SHARE_TS

    # /onno status shows it done, with a signed link to the meeting.
    server.command(T1, "status")
    wait_for(lambda: fake_slack.responses, 10, "the status answer")
    assert "done" in fake_slack.responses[-1]["body"]["text"] and "https://onno.test/meetings/" in \
        fake_slack.responses[-1]["body"]["text"]


def test_transcript_file_buttons_home_and_isolation(slack_server, fake_slack):
    server = slack_server()
    share(server, fake_slack, "F0VTT00001", "checkout-standup.vtt", VTT.encode(), mimetype="text/vtt",
          filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    msg = fake_slack.messages[(CHANNEL, [ts for (c, ts), m in fake_slack.messages.items() if m["blocks"]][0])]
    item_blocks = [b for b in msg["blocks"] if b.get("block_id", "").startswith("item-")]
    assert item_blocks, msg["blocks"]
    finding_id = int(item_blocks[0]["block_id"].removeprefix("item-"))

    # Another team cannot mark this workspace's item, even knowing its id.
    server.action(T2, {"user": {"id": "U_OTHER", "team_id": T2}, "container": {"type": "message"},
                       "channel": {"id": "C0000GEN2"}, "message": msg,
                       "actions": [{"action_id": "onno_item_done", "block_id": f"item-{finding_id}",
                                    "value": str(finding_id), "type": "button"}]})
    wait_for(lambda: fake_slack.responses, 10, "the refusal")
    assert "isn't in this workspace" in fake_slack.responses[-1]["body"]["text"]
    with server.app.session() as s:
        assert slack_repo.marks(s, slack_repo.team_workspace(s, T1)) == {}

    # Its own team marks it done: stored, and the message shows it struck through without buttons.
    r = server.action(T1, {"user": {"id": "U_DANIEL", "team_id": T1},
                           "container": {"type": "message", "message_ts": msg["ts"], "channel_id": CHANNEL},
                           "channel": {"id": CHANNEL}, "message": msg,
                           "actions": [{"action_id": "onno_item_done", "block_id": f"item-{finding_id}",
                                        "value": str(finding_id), "type": "button"}]})
    assert r.status_code == 200
    wait_for(lambda: any(c["args"].get("blocks") for c in fake_slack.calls_to("chat.update")), 10, "the update")
    server.drain()
    with server.app.session() as s:
        assert slack_repo.marks(s, slack_repo.team_workspace(s, T1)) == {finding_id: "done"}
    updated = [c for c in fake_slack.calls_to("chat.update") if c["args"].get("blocks")][-1]["args"]["blocks"]
    assert not any(b.get("block_id") == f"item-{finding_id}" for b in updated)
    assert any("✅ done" in (b.get("text") or {}).get("text", "") for b in updated)

    # App Home: Lena's open items (the error page design is hers), and recent meetings.
    server.event(T1, {"type": "app_home_opened", "user": "U_LENA", "channel": "D0HOME", "tab": "home"})
    wait_for(lambda: fake_slack.calls_to("views.publish"), 10, "the home view")
    server.drain()
    view = fake_slack.calls_to("views.publish")[-1]["args"]
    view = json.loads(view["view"]) if isinstance(view["view"], str) else view["view"]
    home = json.dumps(view)
    assert fake_slack.calls_to("views.publish")[-1]["args"]["user_id"] == "U_LENA"
    assert "error page" in home.lower() and "checkout-standup" in home

    # ask: this workspace finds who said it; the other team finds nothing of it.
    n = len(fake_slack.responses)
    server.command(T1, "ask postal code lookup")
    server.command(T2, "ask postal code lookup", channel="C0000GEN2", user="U_OTHER")
    wait_for(lambda: len(fake_slack.responses) == n + 2, 10, "two answers")
    answers = {r["body"]["text"] for r in fake_slack.responses[n:]}
    mine = next(a for a in answers if a.startswith("*postal"))
    assert "Lena" in mine and "checkout-standup" in mine and "https://onno.test/meetings/" in mine
    assert any("Nothing in this workspace's meetings" in a for a in answers)

    # E-mail me: not configured on this server, said privately.
    server.action(T1, {"user": {"id": "U_MAYA", "team_id": T1}, "container": {"type": "message"},
                       "channel": {"id": CHANNEL}, "message": msg,
                       "actions": [{"action_id": "onno_email_me", "value": "1", "type": "button"}]})
    wait_for(lambda: "configured" in fake_slack.responses[-1]["body"]["text"], 10, "the e-mail answer")
    assert not fake_slack.problems


def test_login_page_oversize_and_non_media_get_clear_replies(slack_server, fake_slack):
    server = slack_server()
    from tests.bots.slack_fake import LOGIN_PAGE

    share(server, fake_slack, "F0LOGIN001", "call.m4a", LOGIN_PAGE, mimetype="audio/mp4", filetype="m4a",
          content_type="text/html; charset=utf-8")
    share(server, fake_slack, "F0HUGE0001", "all-hands.mp4", b"\0" * 100, mimetype="video/mp4", filetype="mp4",
          size=5 * 10**9)
    share(server, fake_slack, "F0PDF00001", "minutes.pdf", b"%PDF-1.4", mimetype="application/pdf",
          filetype="pdf")
    server.drain()
    texts = [c["args"]["text"] for c in fake_slack.calls_to("chat.update")]
    assert any("sign-in page" in t and "call.m4a" in t for t in texts), texts
    assert any("too large" in t and "all-hands.mp4" in t for t in texts), texts
    assert not any("minutes.pdf" in (c["args"].get("text") or "") for c in fake_slack.calls)  # ignored quietly
    assert [c["args"]["file"] for c in fake_slack.calls_to("download")] == ["F0LOGIN001"]  # never the huge one
    assert jobs(server) == 0
    assert not fake_slack.problems


def test_rate_limited_result_is_retried_after_retry_after(slack_server, fake_slack):
    server = slack_server(delivery_backoff=0.1)
    # The result post (the one with blocks) is refused once with 429 and Retry-After.
    fake_slack.fail_next("chat.postMessage", 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"},
                         when=lambda args: bool(args.get("blocks")))
    share(server, fake_slack, "F0VTT00002", "sync.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the result after the retry")
    server.drain()
    posts = [c for c in fake_slack.calls_to("chat.postMessage") if c["args"].get("blocks")]
    assert len(posts) == 2  # refused once, then delivered once
    assert posts[1]["at"] - posts[0]["at"] >= 1.0  # Retry-After honoured
    with server.app.session() as s:
        d = s.scalar(select(Delivery))
        assert d.status == "delivered" and d.attempts == 2 and d.target.startswith("slack:C0000GEN1/")


def test_caption_files_are_taken_unasked_text_and_word_transcripts_only_when_asked():
    from bots.slack.files import is_recording, title_of

    for name in ("call.vtt", "call.srt", "call.sbv", "call.m4a"):
        assert is_recording({"name": name}) and is_recording({"name": name}, asked=True)
    for name in ("notes.txt", "Weekly sync.docx", "whisper.json", "otter.md"):
        assert not is_recording({"name": name}) and is_recording({"name": name}, asked=True)
    assert not is_recording({"name": "minutes.pdf"}, asked=True)
    assert title_of({"name": "Weekly_sync.docx"}) == "Weekly sync"
