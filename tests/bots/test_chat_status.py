"""`/onno status` and `/onno rename-speaker` in Slack and Discord: the same answers, each in its own markup."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from storage import jobs as jobs_repo
from storage import slack as slack_repo
from storage.models import Job, Meeting
from tests.bots import discord_fake as F
from tests.bots import test_discord_bot
from tests.bots.conftest import T1, answer, billing
from tests.bots.test_discord_bot import Harness, until
from tests.bots.test_discord_settings import _closing, upload
from tests.bots.test_slack_files import CHANNEL, VTT, share, thread_replies
from tests.jobs.conftest import wait_for

pytestmark = test_discord_bot.pytestmark


def speakers(app) -> set[str]:
    with app.session() as s:
        meeting = s.scalar(select(Meeting))
        return {g.speaker for g in meeting.segments}


def test_slack_status_and_rename_speaker(slack_server, fake_slack, stripe):
    server = slack_server(**billing(stripe))
    shown = answer(server, fake_slack, "status")
    assert shown.startswith("No recordings from this channel yet.")
    assert "*Processing*\n• nothing right now\n*Last meeting*\n• none yet\n*Plan*\n• *Free plan*: 0 of 120 minutes " \
           "used, 120 left" in shown
    assert "*Integrations*\n• Slack: connected\n• Notion: no board connected\n• E-mail: not set up on this Onno" in shown
    assert answer(server, fake_slack, "rename-speaker Lena Lenny") == "No meeting here yet to rename a speaker in."

    share(server, fake_slack, "F0STATUS01", "standup.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    with server.app.session() as s:  # a recording another channel's member is uploading, half transcribed
        ws = slack_repo.team_workspace(s, T1)
        job = Job(id=jobs_repo.new_job_id(), workspace_id=ws.id, source_name="retro <b>.m4a", status="running",
                  step="transcribe", progress=0.4, options={})
        s.add(job)
    shown = answer(server, fake_slack, "status")
    assert shown.startswith("*Recordings in this channel*, newest first:\n• *standup.vtt*: done, <https://onno.test/")
    assert "*Processing*\n• retro &lt;b&gt;.m4a: transcribing… 40%\n*Last meeting*\n• <https://onno.test/meetings/" in shown
    assert "|standup>" in shown and "*Free plan*: 0 of 120 minutes used" in shown  # a transcript takes no minutes

    # The speaker everyone calls Lena is Lena Novak: the meeting and its thread reply are updated.
    assert answer(server, fake_slack, "rename-speaker Lena").startswith("Usage: `/onno rename-speaker OLD NEW`")
    assert answer(server, fake_slack, 'rename-speaker "Lena').startswith("A quote is left open.")
    no = answer(server, fake_slack, "rename-speaker Zoe Zed")
    assert no.startswith("Nothing was renamed:") and "Zoe" in no
    updates = len(fake_slack.calls_to("chat.update"))
    done = answer(server, fake_slack, "rename-speaker Lena “Lena Novak”", 60)
    assert done.startswith("Meeting 1: Lena is now Lena Novak (") and f"updating slack:{CHANNEL}/" in done
    assert speakers(server.app) == {"Maya", "Daniel", "Lena Novak"}
    edited = wait_for(lambda: [c for c in fake_slack.calls_to("chat.update")[updates:] if c["args"].get("blocks")],
                      30, "the thread reply edited")
    assert "Daniel, Lena Novak, Maya" in json.dumps(edited[-1]["args"]["blocks"])  # the participants, renamed
    [result_ts] = [ts for (_c, ts), m in fake_slack.messages.items() if m["blocks"] and m["thread_ts"]]
    assert edited[-1]["args"]["ts"] == result_ts
    assert not fake_slack.problems


def test_discord_status_and_rename_speaker(tmp_path, fake):
    h = Harness(tmp_path, fake)

    async def main():
        await h.start(sync_commands=True)
        [onno] = fake.commands
        names = {o["name"] for o in onno["options"]}
        assert {"status", "rename-speaker", "board"} <= names
        shown = await h.command("status")
        assert shown.startswith("**Processing**\n- nothing right now\n**Last meeting**\n- none yet\n**Plan**\n- "
                                "Billing is off here")
        assert "**Integrations**\n- Discord: connected\n- Notion: no board connected\n- E-mail: not set up" in shown
        assert await h.command("rename-speaker", [{"name": "old", "type": 3, "value": "Lena"},
                                                  {"name": "new", "type": 3, "value": "Lenny"}]) == \
            "No meeting here yet to rename a speaker in."

        options, resolved = upload(fake)
        await h.command("process", options, resolved=resolved)
        await until(lambda: not h.bot.tasks, 60, "the job")
        shown = await h.command("status")
        assert "**Last meeting**\n- [standup](<https://onno.test/meetings/" in shown

        edits = len(fake.calls_to("PATCH", r"/channels/\d+/messages/\d+"))
        done = await h.command("rename-speaker", [{"name": "old", "type": 3, "value": "Lena"},
                                                  {"name": "new", "type": 3, "value": "Lena Novak"}])
        assert done.startswith("Meeting 1: Lena is now Lena Novak (") and f"updating discord:{F.TEXT_ID}/" in done
        await until(lambda: len(fake.calls_to("PATCH", r"/channels/\d+/messages/\d+")) > edits, 30, "the edit")
        edited = fake.calls_to("PATCH", r"/channels/\d+/messages/\d+")[edits:]
        assert any("Lena Novak" in json.dumps(c["json"]) for c in edited)

    try:
        asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert speakers(h.app) == {"Maya", "Daniel", "Lena Novak"}
    assert not fake.problems, fake.problems
