"""Posted once even when Slack's answer is lost: a retry looks for its own message (by metadata) before posting.

The fake Slack carries out a chat.postMessage and then drops the connection or answers 500, as when a process dies
between Slack accepting a post and the receipt being stored; the retry must find that message and post nothing new.
"""

from __future__ import annotations

import datetime as dt
import time
from types import SimpleNamespace

from sqlalchemy import select

from integrations.slack import api
from onno import notices
from onno.sweeper import sweep_once
from storage import digest as store
from storage import slack as slack_repo
from storage.models import Delivery
from storage.notices import TeamNotice
from tests.bots.conftest import T1, TOKEN1, fake_slack, slack_server  # noqa: F401  (fixtures)
from tests.bots.test_slack_files import SHARE_TS, VTT, share
from tests.integrations.test_digest import CHANNEL, base_settings, hold_the_week  # noqa: F401
from tests.jobs.conftest import wait_for

GEN = "C0000GEN1"


def looks(fake) -> list[dict]:
    return fake.calls_to("conversations.history") + fake.calls_to("conversations.replies")


def stored(fake, *, thread_ts: str | None = None, needle: str = "") -> list[dict]:
    """Messages the fake Slack really holds: top-level ones, or the replies in one thread."""
    with fake.lock:
        return [m for m in fake.messages.values() if m.get("thread_ts") == thread_ts and needle in (m["text"] or "")]


def result_posts(fake) -> list[dict]:
    return [c for c in fake.calls_to("chat.postMessage") if c["args"].get("blocks") and c["args"].get("thread_ts")]


def with_blocks(args: dict) -> bool:
    return bool(args.get("blocks")) and bool(args.get("thread_ts"))


# -- a meeting's result in its thread ---------------------------------------------------------------------------------


def test_a_result_whose_answer_was_lost_is_found_not_posted_again(slack_server, fake_slack):  # noqa: F811
    server = slack_server(delivery_backoff=0.1)
    fake_slack.lose_next_answer("chat.postMessage", how="close", when=with_blocks)
    share(server, fake_slack, "F0ONCE0001", "sync.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")

    def delivered():
        with server.app.session() as s:
            d = s.scalar(select(Delivery))
            return d if d is not None and d.status == "delivered" else None

    d = wait_for(delivered, 60, "the result delivered after the retry")
    server.drain()
    assert d.attempts == 2  # the first attempt never heard back
    [first] = result_posts(fake_slack)  # no second post: the retry found the first
    assert first.get("lost") == "close"
    [msg] = [m for m in stored(fake_slack, thread_ts=SHARE_TS) if m["blocks"]]
    assert msg["metadata"] == {"event_type": "onno_result",
                               "event_payload": {"delivery": d.key, "meeting_id": msg["metadata"]["event_payload"]
                                                 ["meeting_id"]}}
    [look] = fake_slack.calls_to("conversations.replies")
    assert look["args"]["channel"] == GEN and look["args"]["ts"] == SHARE_TS
    assert look["args"]["include_all_metadata"] in ("1", "true", True) and float(look["args"]["oldest"]) > 0
    assert [u["args"]["ts"] for u in fake_slack.calls_to("chat.update") if u["args"].get("blocks")] == [msg["ts"]]
    with server.app.session() as s:
        f = slack_repo.get_file(s, slack_repo.team_workspace(s, T1), "F0ONCE0001")
        assert f.result_ts == msg["ts"] and f.status == "finished"
    assert fake_slack.problems == []


def test_a_first_attempt_posts_without_looking(slack_server, fake_slack):  # noqa: F811
    server = slack_server()
    share(server, fake_slack, "F0ONCE0002", "sync.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")
    wait_for(lambda: result_posts(fake_slack), 60, "the result")
    server.drain()
    assert len(result_posts(fake_slack)) == 1 and looks(fake_slack) == []
    assert fake_slack.problems == []


# -- team notices -----------------------------------------------------------------------------------------------------


def command(server, fake, text: str, channel: str = GEN) -> None:
    before = len(fake.responses)
    assert server.command(T1, text, channel=channel).status_code == 200
    wait_for(lambda: len(fake.responses) > before, 10, f"the answer to /onno {text}")


def tell(app, ws_id: int, text: str, key: str) -> None:
    with app.session() as s:
        made = notices.create(s, ws_id, key=key, kind="test", text=text)
    notices.send_new(app, [made])


def notice(app, key: str) -> TeamNotice:
    with app.session() as s:
        return s.scalar(select(TeamNotice).where(TeamNotice.key == key))


def swept_notice(app, key: str) -> TeamNotice:
    """The notice once a sweep has delivered it."""
    def delivered():
        sweep_once(app)
        row = notice(app, key)
        return row if row.status == "delivered" else None

    return wait_for(delivered, 30, f"notice {key} delivered by the sweeper")


def test_a_notice_whose_answer_was_lost_is_found_not_posted_again(database_url, slack_server, fake_slack):  # noqa: F811
    server = slack_server(database_url=database_url, delivery_backoff=0.05)
    with server.app.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
    command(server, fake_slack, "settings notices here")
    # Older messages of ours in the channel: another notice, and one with our event type but another key.
    tell(server.app, ws_id, "An earlier notice.", "once-earlier")
    fake_slack.lose_next_answer("chat.postMessage", how="500", when=lambda a: "Say it once" in (a.get("text") or ""))
    tell(server.app, ws_id, "Say it once.", "once-1")
    row = notice(server.app, "once-1")
    assert (row.status, row.attempts) == ("pending", 1) and "HTTP 500" in row.last_error
    [msg] = stored(fake_slack, needle="Say it once")  # Slack has it; we do not know its ts

    row = swept_notice(server.app, "once-1")
    assert row.attempts == 2 and row.destinations == {f"slack:{GEN}": {"ref": msg["ts"]}}
    assert len(stored(fake_slack, needle="Say it once")) == 1
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if "Say it once" in c["args"]["text"]]) == 1
    [look] = looks(fake_slack)
    assert look["method"] == "conversations.history" and look["args"]["channel"] == GEN
    assert msg["metadata"] == {"event_type": "onno_notice", "event_payload": {"key": "once-1"}}
    assert fake_slack.problems == []


def test_a_retried_notice_that_never_reached_slack_is_posted(database_url, slack_server, fake_slack):  # noqa: F811
    server = slack_server(database_url=database_url, delivery_backoff=0.05)
    with server.app.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
    command(server, fake_slack, "settings notices here")
    fake_slack.fail_next("chat.postMessage", 503, {"ok": False, "error": "service_unavailable"},
                         when=lambda a: "Try again" in (a.get("text") or ""))
    tell(server.app, ws_id, "Try again.", "once-2")
    assert stored(fake_slack, needle="Try again") == [] and looks(fake_slack) == []  # no look on a first attempt
    row = swept_notice(server.app, "once-2")
    [msg] = stored(fake_slack, needle="Try again")
    assert row.destinations == {f"slack:{GEN}": {"ref": msg["ts"]}} and len(looks(fake_slack)) == 1


def test_a_failed_look_posts_rather_than_losing_the_notice(database_url, slack_server, fake_slack):  # noqa: F811
    server = slack_server(database_url=database_url, delivery_backoff=0.05)
    with server.app.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
    command(server, fake_slack, "settings notices here")
    fake_slack.fail_next("chat.postMessage", 503, {"ok": False, "error": "service_unavailable"},
                         when=lambda a: "Look away" in (a.get("text") or ""))
    fake_slack.fail_next("conversations.history", 200, {"ok": False, "error": "missing_scope"})
    tell(server.app, ws_id, "Look away.", "once-3")
    row = swept_notice(server.app, "once-3")
    assert len(stored(fake_slack, needle="Look away")) == 1 and len(looks(fake_slack)) == 1
    assert row.last_error is None


# -- weekly digests ---------------------------------------------------------------------------------------------------


def test_a_digest_whose_answer_was_lost_is_found_not_posted_again(slack_server, fake_slack, tmp_path,  # noqa: F811
                                                                  mailbox):  # noqa: F811
    server = slack_server(**base_settings(tmp_path, f"sqlite:///{tmp_path / 'onno.db'}", mailbox.url))
    app = server.app
    with app.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
    hold_the_week(app, tmp_path, ws_id)
    with app.session() as s:  # opted in, to this channel; nobody on file: Slack only
        store.save_settings(s, ws_id, enabled=True, slack_channel=CHANNEL)
    fake_slack.lose_next_answer("chat.postMessage", how="close",
                                when=lambda a: (a.get("metadata") or {}).get("event_type") == "onno_digest")
    assert sweep_once(app)["digests"] == 1
    with app.session() as s:
        [row] = store.recent(s, ws_id)
    assert (row.status, row.attempts, row.slack_ts) == ("pending", 1, None)
    assert looks(fake_slack) == []  # the first attempt posted without looking
    [msg] = stored(fake_slack, needle="Weekly digest")

    def swept():
        sweep_once(app)
        with app.session() as s:
            r = store.get_digest(s, ws_id, row.week)
        return r if r.status == "sent" else None

    row = wait_for(swept, 30, "the digest's retry")
    assert (row.attempts, row.slack_ts, row.slack_channel) == (2, msg["ts"], CHANNEL)
    assert len(stored(fake_slack, needle="Weekly digest")) == 1
    assert len([c for c in fake_slack.calls_to("chat.postMessage") if "Weekly digest" in c["args"]["text"]]) == 1
    [look] = looks(fake_slack)
    assert look["method"] == "conversations.history" and look["args"]["channel"] == CHANNEL
    assert msg["metadata"] == {"event_type": "onno_digest", "event_payload": {"digest": row.key}}
    assert fake_slack.problems == []


# -- the look itself, against the fake's history ----------------------------------------------------------------------


def chatter(fake, channel: str, n: int, *, start: float) -> None:
    """`n` messages other people wrote in the channel after `start` (put straight into the fake's history)."""
    with fake.lock:
        for i in range(n):
            ts = f"{start + 1 + i / 1000:.6f}"
            fake.messages[(channel, ts)] = {"ts": ts, "channel": channel, "text": f"chatter {i}", "blocks": None,
                                            "thread_ts": None, "team": T1}


def test_find_posted_looks_two_pages_back_and_needs_metadata(fake_slack):  # noqa: F811
    web = api.client(SimpleNamespace(slack_api_url=fake_slack.api_url), TOKEN1)
    mine = api.call(web, "chat.postMessage", channel=GEN, text="mine", metadata={
        "event_type": "onno_notice", "event_payload": {"key": "k-1"}})["ts"]
    chatter(fake_slack, GEN, 250, start=float(mine))  # newer messages push it to the second page
    assert api.find_posted(web, GEN, event_type="onno_notice", field="key", value="k-1") == mine
    assert [c["args"].get("cursor") is None for c in fake_slack.calls_to("conversations.history")] == [True, False]
    assert api.find_posted(web, GEN, event_type="onno_digest", field="key", value="k-1") is None
    assert api.find_posted(web, GEN, event_type="onno_notice", field="key", value="k-2") is None
    assert api.find_posted(web, GEN, event_type="onno_notice", field="key", value="k-1",
                           oldest=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)) is None
    history = fake_slack.calls_to("conversations.history")[0]["args"]
    assert history["include_all_metadata"] in ("1", "true") and history["limit"] == "200"
    chatter(fake_slack, GEN, 400, start=time.time() + 10)  # too far back now: not found, so posted again
    assert api.find_posted(web, GEN, event_type="onno_notice", field="key", value="k-1") is None
    bare = api.call(web, "conversations.history", channel=GEN, limit=10)
    assert all("metadata" not in m for m in bare["messages"])  # Slack leaves it out unless asked
    assert fake_slack.problems == []
