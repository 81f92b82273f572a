"""A speaker renamed after the result went to Slack: the result message in the thread is edited, not posted again."""

from __future__ import annotations

import json

from sqlalchemy import select

from onno.speakers import rename_speaker
from storage import outbox as outbox_repo
from storage import slack as slack_repo
from storage.models import Delivery, Job
from tests.bots.conftest import T1, fake_slack, slack_server  # noqa: F401  (fixtures)
from tests.bots.test_slack_files import SHARE_TS, share
from tests.integrations.test_slack_once import result_posts, stored
from tests.jobs.conftest import wait_for

VTT = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Maya>Let's start. What's the status of the checkout page?

00:00:05.500 --> 00:00:11.000
<v Speaker 2>I finished the address form. I will write the tests for the payment step by Friday.
"""


def test_renaming_a_speaker_edits_the_result_in_the_thread(slack_server, fake_slack):  # noqa: F811
    server = slack_server()
    share(server, fake_slack, "F0RENAME01", "sync.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")

    def delivered():
        with server.app.session() as s:
            d = s.scalar(select(Delivery))
            return d if d is not None and d.status == "delivered" else None

    wait_for(delivered, 60, "the result delivered")
    server.drain()
    [post] = result_posts(fake_slack)
    assert "Speaker 2" in json.dumps(post["args"]["blocks"])
    with server.app.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
        meeting_id = s.scalar(select(Job)).meeting_id
    updates = len(fake_slack.calls_to("chat.update"))

    done = rename_speaker(server.app, meeting_id, "Speaker 2", "Daniel", workspace=ws_id)

    assert done.redelivered and done.redelivered[0].startswith("slack:")
    wait_for(delivered, 60, "the result delivered again")
    server.drain()
    assert len(result_posts(fake_slack)) == 1  # edited, not posted again
    edits = [u for u in fake_slack.calls_to("chat.update")[updates:] if u["args"].get("blocks")]
    [msg] = [m for m in stored(fake_slack, thread_ts=SHARE_TS) if m["blocks"]]
    assert edits and edits[-1]["args"]["ts"] == msg["ts"]
    blocks = json.dumps(edits[-1]["args"]["blocks"])
    assert "Daniel" in blocks and "Speaker 2" not in blocks
    assert fake_slack.problems == []


def test_a_result_sent_to_a_thread_without_an_upload_is_edited_too(slack_server, fake_slack, tmp_path):  # noqa: F811
    """`--deliver slack:CHANNEL/TS` (no recording shared in Slack): the outbox's receipt keeps the message's ts."""
    import datetime as dt

    from pipeline.types import MeetingInfo
    from tests.bots.test_slack_files import CHANNEL

    server = slack_server()
    with server.app.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
    source = tmp_path / "sync.vtt"
    source.write_text(VTT)
    info = MeetingInfo(title="Sync", type="standup", date=dt.date(2026, 11, 16), participants=[])
    job_id = server.app.runner.submit(source, info, targets=[f"slack:{CHANNEL}/{SHARE_TS}"], workspace=ws_id)
    with server.app.session() as s:
        job = s.get(Job, job_id)
        assert [d.status for d in job.deliveries] == ["delivered"]
        meeting_id, key = job.meeting_id, job.deliveries[0].key
    [post] = result_posts(fake_slack)
    updates = len(fake_slack.calls_to("chat.update"))

    done = rename_speaker(server.app, meeting_id, "Speaker 2", "Daniel", workspace=ws_id)

    assert done.redelivered == [f"slack:{CHANNEL}/{SHARE_TS}"]
    server.drain()
    assert len(result_posts(fake_slack)) == 1  # edited, not posted again
    [edit] = [u for u in fake_slack.calls_to("chat.update")[updates:] if u["args"].get("blocks")]
    [msg] = [m for m in stored(fake_slack, thread_ts=SHARE_TS) if m["blocks"]]
    assert edit["args"]["ts"] == msg["ts"] and "Daniel" in json.dumps(edit["args"]["blocks"])
    with server.app.session() as s:
        assert {d: r.ref for d, r in outbox_repo.receipts(s, key).items()} == {f"slack:{CHANNEL}": msg["ts"]}
    assert post["args"]["thread_ts"] == SHARE_TS and fake_slack.problems == []
