"""Discord, as Slack: a channel's Notion that the plan no longer includes, or whose board was disconnected, is left
out with a note and the meeting is processed."""

from __future__ import annotations

import asyncio

from integrations.notion import service as notion_service
from tests.bots import test_discord_bot
from tests.bots.conftest import billing
from tests.bots.test_discord_bot import Harness, until
from tests.bots.test_discord_settings import ADMIN, _closing, deliveries, opt, server_ws, the_intake, upload

pytestmark = test_discord_bot.pytestmark


def test_notion_left_out_after_the_plan_lapses_and_after_a_disconnect(tmp_path, fake, notion, stripe):
    before = Harness(tmp_path, fake, notion_api_url=notion.url, notion_rate=1000)
    db, _ds = notion.state.add_board(title="Roadmap")
    notion_service.connect(before.app, server_ws(before), token=notion.state.token, database=db, name="roadmap")

    async def turn_notion_on():
        await before.start(sync_commands=False)
        assert "Notion on (board `roadmap`)" in await before.command("settings", [opt("notion", "roadmap")],
                                                                    permissions=ADMIN)

    asyncio.run(_closing(before, turn_notion_on))
    before.app.engine.dispose()

    h = Harness(tmp_path, fake, notion_api_url=notion.url, notion_rate=1000, **billing(stripe))

    async def main():
        await h.start(sync_commands=False)
        options, resolved = upload(fake)
        reply = await h.command("process", options, resolved=resolved)
        assert reply.startswith("Processing **standup.vtt**")
        assert "Not sent this time:\n- The Free plan does not include Notion delivery." in reply
        await until(lambda: not h.bot.tasks, 60, "the job")

    try:
        asyncio.run(_closing(h, main))
        job_id, _channel, _by = the_intake(h, "upload")
        assert list(deliveries(h, job_id).values()) == ["delivered"]  # only the post in the channel
        assert not any(t.startswith("notion:") for t in deliveries(h, job_id))
        assert notion_service.disconnect(h.app, server_ws(h), "roadmap")
    finally:
        h.app.engine.dispose()

    after = Harness(tmp_path, fake, notion_api_url=notion.url, notion_rate=1000)

    async def disconnected():
        await after.start(sync_commands=False)
        options, resolved = upload(fake)
        reply = await after.command("process", options, resolved=resolved)
        assert "Not sent this time:\n- Notion: the board `roadmap` is no longer connected to this server" in reply
        assert "`/onno settings notion:`" in reply
        await until(lambda: not after.bot.tasks, 60, "the job")

    try:
        asyncio.run(_closing(after, disconnected))
    finally:
        after.app.engine.dispose()
    assert not fake.problems, fake.problems
