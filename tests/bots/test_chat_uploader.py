"""Who shared or attached a recording goes with it as the uploader, the naming stage's hint for the voice that opens
the meeting: the Slack sharer's name, the Discord uploader's display name."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from onno.jobs import meeting_info
from storage.models import Job
from tests.bots import discord_fake as F
from tests.bots import test_discord_bot
from tests.bots.test_discord_bot import Harness, until
from tests.bots.test_discord_settings import _closing, upload
from tests.bots.test_slack_files import VTT, share, thread_replies
from tests.jobs.conftest import wait_for

pytestmark = test_discord_bot.pytestmark


def uploader(app) -> str | None:
    with app.session() as s:
        return meeting_info(s.scalar(select(Job)).options).uploader


def test_the_slack_sharer_is_the_uploader(slack_server, fake_slack):
    server = slack_server()
    share(server, fake_slack, "F0UPLOAD01", "standup.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    assert uploader(server.app) == "Maya Chen"  # the file's owner, as Slack names her
    assert [c["args"]["user"] for c in fake_slack.calls_to("users.info")] == ["U_MAYA"]
    assert not fake_slack.problems


def test_the_slack_uploader_is_left_out_when_slack_does_not_say(slack_server, fake_slack):
    server = slack_server()
    fake_slack.fail_next("users.info", 200, {"ok": False, "error": "missing_scope"})
    share(server, fake_slack, "F0UPLOAD02", "standup.vtt", VTT.encode(), mimetype="text/vtt", filetype="vtt")
    wait_for(lambda: thread_replies(fake_slack), 60, "the results in the thread")
    server.drain()
    assert uploader(server.app) is None  # the meeting is processed all the same


def test_the_discord_uploader_is_the_members_display_name(tmp_path, fake):
    h = Harness(tmp_path, fake)

    async def main():
        await h.start(sync_commands=False)
        options, resolved = upload(fake)
        assert "Processing **standup.vtt**" in await h.command("process", options, resolved=resolved, uid=F.LENA)
        await until(lambda: not h.bot.tasks, 60, "the job")

    try:
        asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert uploader(h.app) == F.NAMES[F.LENA]
    assert not fake.problems, fake.problems
