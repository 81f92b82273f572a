"""A Slack channel's integrations at intake: what the plan, the connections or this Onno cannot do is left out with a
note in the thread, and the meeting is processed all the same (as in Discord)."""

from __future__ import annotations

from sqlalchemy import select

from integrations.notion import service as notion_service
from onno.service import App
from storage import slack as slack_repo
from storage.models import Job
from tests.bots.conftest import T1, answer, billing, slack_settings
from tests.bots.test_slack_files import CHANNEL, SHARE_TS, VTT, share, thread_replies
from tests.jobs.conftest import wait_for


def notes_in_thread(fake) -> list[str]:
    return [c["args"]["text"] for c in fake.calls_to("chat.postMessage")
            if c["args"].get("thread_ts") == SHARE_TS and (c["args"].get("text") or "").startswith("ℹ️")]


def the_job(server) -> Job:
    with server.app.session() as s:
        job = s.scalar(select(Job))
        return job, {d.target: d.status for d in job.deliveries}


def test_notion_the_plan_no_longer_has_is_left_out_and_the_meeting_is_processed(tmp_path, slack_server, fake_slack,
                                                                                notion, stripe):
    # The board was connected and the channel pointed at it before billing applied (say, a lapsed trial).
    before = App(slack_settings(tmp_path, fake_slack, notion_api_url=notion.url, notion_rate=1000))
    with before.session() as s:
        ws_id = slack_repo.team_workspace(s, T1).id
    db, _ds = notion.state.add_board(title="Roadmap")
    notion_service.connect(before, ws_id, token=notion.state.token, database=db, name="roadmap")
    before.engine.dispose()
    server = slack_server(notion_api_url=notion.url, notion_rate=1000, **billing(stripe))
    shown = answer(server, fake_slack, "settings notion roadmap")
    assert "Notion: on (`roadmap`) ⚠️ left out: The Free plan does not include Notion delivery." in shown

    share(server, fake_slack, "F0LAPSE001", "standup.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    [note] = notes_in_thread(fake_slack)
    assert note.startswith("ℹ️ Not sent this time:\n• The Free plan does not include Notion delivery.")
    assert f"https://onno.test/billing/{ws_id}/upgrade?sig=" in note
    job, deliveries = the_job(server)
    assert job.status == "done" and job.meeting_id
    assert list(deliveries.values()) == ["delivered"] and next(iter(deliveries)).startswith(f"slack:{CHANNEL}/")
    assert not fake_slack.problems


def test_a_disconnected_board_and_no_smtp_are_left_out_with_a_note(slack_server, fake_slack):
    server = slack_server()
    assert "⚠️ No board `roadmap` is connected yet" in answer(server, fake_slack, "settings notion roadmap")
    shown = answer(server, fake_slack, "settings email on")
    assert "e-mail summaries: on ⚠️ nobody is on file yet" in shown and "⚠️ e-mail isn't set up on this Onno" in shown

    share(server, fake_slack, "F0NOBOARD1", "standup.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    [note] = notes_in_thread(fake_slack)
    assert "• Notion: the board `roadmap` is no longer connected to this workspace" in note
    assert "`/onno settings notion NAME`" in note
    assert "• E-mail: e-mail isn't set up on this Onno (its operator sets ONNO_SMTP_URL)" in note
    job, deliveries = the_job(server)
    assert job.status == "done" and list(deliveries.values()) == ["delivered"]

    # `/onno process` on the same channel's file says it to whoever asked too.
    newer = fake_slack.add_file(T1, "F0NOBOARD2", "retro.vtt", VTT.encode(), channel=CHANNEL,
                                share_ts="1763900001.000100", mimetype="text/vtt", filetype="vtt")
    newer["created"] += 60  # the newest in the channel
    reply = answer(server, fake_slack, "process", 90)  # answered once the job is handed over
    assert reply.startswith("Processing *retro.vtt*") and "Not sent this time:\n• Notion:" in reply
    server.drain()
    assert not fake_slack.problems
