"""Where a Discord server's weekly digest and team notices go: `/onno settings digest:here|off` and
`notices:here|off|auto` through the fake gateway, then the real sweeper and notice sender posting to the fake
Discord REST API (which refuses a message over 2000 characters or of the wrong shape).

Last week's meetings go through the real pipeline from VTT (tests.integrations.test_digest); billing is the real
gate with Stripe configured where the plan matters.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from sqlalchemy import update

from core.links import meeting_url
from integrations.digest import discord as digest_discord
from integrations.digest.content import Held, Item, Said, WeekDigest
from integrations.digest.schedule import due_digests
from onno import notices
from onno.service import App
from onno.sweeper import sweep_once
from storage import digest as store
from storage import discord as discord_repo
from storage import notices as notices_repo
from storage.models import utcnow
from tests.bots import discord_fake as F
from tests.bots import test_discord_bot
from tests.bots.conftest import billing
from tests.bots.test_discord_bot import Harness, posts_in
from tests.bots.test_discord_settings import ADMIN, CHANNEL_MANAGER, _closing, opt, server_ws, stored
from tests.integrations import test_digest as week
from tests.integrations.test_digest import hold_the_week

pytestmark = test_discord_bot.pytestmark
WEEKLY = {"digest_weekday": 1, "digest_hour": 0, "delivery_backoff": 0.05}  # last week's digest is due now
TEAM, STANDUP = F.TEAM_ID, F.TEXT_ID


def digest_row(h: Harness) -> store.Digest:
    with h.app.session() as s:
        [row] = s.query(store.Digest).all()
        s.expunge(row)
        return row


def notice(h: Harness, ws_id: int, key: str) -> dict:
    """A team notice made and sent the way a broken Notion board's is; where it went."""
    with h.app.session() as s:
        notices.create(s, ws_id, key=key, kind="notion_broken", text=f"Board {key} is unreachable.",
                       hint="Reconnect it.")
    notices.send_new(h.app, [key])
    with h.app.session() as s:
        return dict(notices_repo.notice_by_key(s, key).destinations)


def live_meeting_in(h: Harness, ws_id: int, channel: int) -> None:
    """A live meeting held earlier, started from `channel` (what `/onno join` leaves on record)."""
    with h.app.session() as s:
        s.add(discord_repo.DiscordLiveMeeting(workspace_id=ws_id, guild_id=str(F.GUILD_ID), voice_channel_id=str(
            F.VOICE_ID), text_channel_id=str(channel), title="Daily", folder="live/1", status="submitted"))


def test_a_server_admin_picks_the_channel_and_the_digest_goes_there_once(tmp_path, fake):
    h = Harness(tmp_path, fake, **WEEKLY)
    ws_id = server_ws(h)
    _, (standup, sync) = hold_the_week(h.app, tmp_path, ws_id)
    live_meeting_in(h, ws_id, STANDUP)

    async def main():
        await h.start(sync_commands=True)
        [onno] = fake.commands
        options = {o["name"]: o for o in next(o for o in onno["options"] if o["name"] == "settings")["options"]}
        assert [c["value"] for c in options["digest"]["choices"]] == ["here", "off"]
        assert [c["value"] for c in options["notices"]["choices"]] == ["here", "off", "auto"]

        shown = await h.command("settings", uid=F.LENA, channel_id=TEAM)
        assert "- Weekly digest (server-wide): off (turn on: `/onno settings digest:here`)" in shown
        assert "- Team notices (server-wide): the text channel of the latest live meeting" in shown

        # Server-wide: a member may not, nor may one who manages channels only.
        no = await h.command("settings", [opt("digest", "here")], uid=F.LENA, channel_id=TEAM)
        assert "needs **Manage Server**" in no and "Saved" not in no
        no = await h.command("settings", [opt("notices", "here"), opt("type", "retro")], uid=F.DANIEL,
                             permissions=CHANNEL_MANAGER, channel_id=TEAM)
        assert "needs **Manage Server**" in no
        with h.app.session() as s:
            assert store.get_settings(s, ws_id).enabled is None and notices_repo.notice_settings(s, ws_id) is None

        ok = await h.command("settings", [opt("digest", "here"), opt("notices", "here")], permissions=ADMIN,
                             channel_id=TEAM)
        assert ok.startswith(f"✅ Saved for the server: weekly digest here in <#{TEAM}> (every Monday after 00:00 "
                             f"UTC), team notices here in <#{TEAM}>.")
        assert ("- Weekly digest (server-wide): on, every Monday after 00:00 UTC: last week's digest to "
                f"<#{TEAM}>") in ok
        assert f"- Team notices (server-wide): <#{TEAM}>" in ok
        assert stored(h) == {}  # no channel's meeting settings were touched

        assert (await asyncio.to_thread(sweep_once, h.app))["digests"] == 1
        assert (await asyncio.to_thread(sweep_once, h.app))["digests"] == 0  # the week's digest is out
        went = await asyncio.to_thread(notice, h, ws_id, "board-1")
        assert list(went) == [f"discord:{TEAM}"]  # the notices channel, not the live meeting's

    try:
        asyncio.run(_closing(h, main))
        assert not fake.problems, fake.problems
        [text, warning] = posts_in(fake, TEAM)
        assert posts_in(fake, STANDUP) == []
        assert warning == "⚠️ Board board-1 is unreachable.\nReconnect it."
        row = digest_row(h)
        assert (row.week, row.status, row.discord_channel, row.note) == (week.WEEK, "sent", str(TEAM), None)
        [post] = [m for m in fake.in_channel(TEAM) if m["content"] == text]
        assert row.discord_message == post["id"] and post["allowed_mentions"] == {"parse": []}

        lines = text.splitlines()
        assert lines[0].startswith("## 🗓 Weekly digest · ") and len(text) <= 2000
        assert "2 meetings" in lines[1] and "2 open items, 1 overdue" in lines[1] and "2 done" in lines[1]
        standup_url, sync_url = (meeting_url(h.app.settings, ws_id, m) for m in (standup, sync))
        overdue = lines[lines.index("**🔴 Overdue** (1)") + 1]
        assert overdue.startswith(f"- {week.TESTS_ITEM} — **Daniel**, was due ")
        assert f"· [Checkout standup](<{standup_url}" in overdue
        still_open = lines[lines.index("**Still open** (1)") + 1]
        assert still_open.startswith(f"- {week.RETRO_ITEM} — **Maya**, due ") and f"(<{sync_url}" in still_open
        assert f"- [Launch sync](<{sync_url}>) · Thu" in text
        assert "**✅ Done this week** (2)" in text and week.DESIGN_ITEM in text and week.STATUS_ITEM not in text
        assert "**Unanswered questions** (2)" in text and "minutes processed this month" in lines[-1]

        # A sender that died after the post (its lease ran out) is resumed: nothing is posted twice.
        with h.app.session() as s:
            s.execute(update(store.Digest).values(status="sending",
                                                  lease_expires_at=utcnow() - dt.timedelta(minutes=1)))
        assert due_digests(h.app) == 1
        assert digest_row(h).status == "sent" and len(posts_in(fake, TEAM)) == 2
    finally:
        h.app.engine.dispose()


def test_off_keeps_both_out_of_discord_and_auto_brings_notices_back(tmp_path, fake):
    h = Harness(tmp_path, fake, **WEEKLY)
    ws_id = server_ws(h)
    hold_the_week(h.app, tmp_path, ws_id)
    live_meeting_in(h, ws_id, STANDUP)

    async def main():
        await h.start(sync_commands=False)
        await h.command("settings", [opt("digest", "here"), opt("notices", "here")], permissions=ADMIN,
                        channel_id=TEAM)
        ok = await h.command("settings", [opt("digest", "off"), opt("notices", "off")], permissions=ADMIN)
        assert ok.startswith("✅ Saved for the server: weekly digest off, team notices off in Discord.")
        assert "- Weekly digest (server-wide): off (turn on: `/onno settings digest:here`)" in ok
        assert "- Team notices (server-wide): off: not posted in Discord" in ok
        assert (await asyncio.to_thread(sweep_once, h.app))["digests"] == 0
        assert await asyncio.to_thread(notice, h, ws_id, "board-1") == {"log": {"ref": "logged"}}

        ok = await h.command("settings", [opt("notices", "auto")], permissions=ADMIN, channel_id=TEAM)
        assert "- Team notices (server-wide): the text channel of the latest live meeting" in ok
        assert list(await asyncio.to_thread(notice, h, ws_id, "board-2")) == [f"discord:{STANDUP}"]

    try:
        asyncio.run(_closing(h, main))
        assert not fake.problems, fake.problems
        assert posts_in(fake, TEAM) == []
        assert posts_in(fake, STANDUP) == ["⚠️ Board board-2 is unreachable.\nReconnect it."]
        with h.app.session() as s:
            assert store.get_digest(s, ws_id, week.WEEK) is None
            assert store.get_settings(s, ws_id).enabled is False
    finally:
        h.app.engine.dispose()


def test_the_free_plan_is_refused_the_digest_with_the_upgrade_link(tmp_path, fake, stripe):
    h = Harness(tmp_path, fake, **WEEKLY, **billing(stripe))
    ws_id = server_ws(h)

    async def main():
        await h.start(sync_commands=False)
        no = await h.command("settings", [opt("digest", "here"), opt("notices", "here")], permissions=ADMIN,
                             channel_id=TEAM)
        assert no.startswith("The Free plan does not include weekly digests.\nFree: 120 minutes a month")
        assert f"Team includes them: https://onno.test/billing/{ws_id}/upgrade?sig=" in no
        assert no.rstrip().endswith("plan=team\nNothing was changed.")
        ok = await h.command("settings", [opt("notices", "here")], permissions=ADMIN, channel_id=TEAM)
        assert "team notices here" in ok  # notices are every plan's
        assert "- Weekly digest (server-wide): off: The Free plan does not include weekly digests." in ok

    try:
        asyncio.run(_closing(h, main))
        assert not fake.problems, fake.problems
        with h.app.session() as s:
            assert store.get_settings(s, ws_id).discord_channel is None
            assert notices_repo.notice_settings(s, ws_id).discord_channel_id == str(TEAM)
    finally:
        h.app.engine.dispose()


def test_a_long_week_is_cut_to_one_message_that_discord_takes(tmp_path, fake):
    app = App(test_discord_bot.settings(tmp_path, fake))
    url = "https://onno.test/meetings/1/{}?sig=" + "s" * 43
    monday = week.MONDAY
    d = WeekDigest(workspace_id=1, team="Checkout team", week=week.WEEK, start=monday, end=week.NEXT_MONDAY,
                   meetings=[Held(n, f"Meeting [{n}]", monday, "standup", 1800, 3, url.format(n)) for n in range(9)],
                   open_items=[Item(f"Item {n} " + "words " * 25, "Maya", monday.isoformat(), n < 12,
                                    f"Meeting [{n % 9}]", 60.0, url.format(n % 9)) for n in range(40)],
                   decisions=[Said(f"Decision {n}", "Meeting [0]", 10.0, url.format(0)) for n in range(7)])
    text = digest_discord.digest_text(d)
    assert len(text) <= 2000
    assert "**🔴 Overdue** (12)" in text and "**Still open** (28)" in text and "**Decisions** (7)" in text
    assert "- …and " in text and " more" in text
    assert "[Meeting (0)](<https://onno.test/meetings/1/0?sig=" in text  # brackets in a title never break the link
    try:
        message_id = digest_discord.post(app, d, channel=str(TEAM), key="digest-1-2026-W47-1")
        assert not fake.problems, fake.problems
        assert fake.message(message_id)["content"] == text
    finally:
        app.engine.dispose()
