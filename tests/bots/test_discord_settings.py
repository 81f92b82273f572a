"""`/onno settings` in Discord through the fake gateway and REST API, and what the settings do to a meeting.

Commands arrive as INTERACTION_CREATE payloads with the member's permissions, as Discord sends them; Notion is the
fake Notion API (a board connected the real way), e-mail a real SMTP server (aiosmtpd), billing the real gate with
Stripe configured. Jobs run in-process on SQLite, so an upload's e-mail is held, approved and sent for real.
"""

from __future__ import annotations

import asyncio

from integrations.notion import service as notion_service
from storage import discord as discord_repo
from storage import jobs as jobs_repo
from storage import mail
from storage import repository as repo
from tests.bots import discord_fake as F
from tests.bots import test_discord_bot
from tests.bots.conftest import billing
from tests.bots.test_discord_bot import Harness, posts_in, until, windows
from tests.bots.test_discord_review import custom_ids, interact, private_text
from tests.bots.test_slack_files import VTT

pytestmark = test_discord_bot.pytestmark  # libopus, for the live meeting's voice

ADMIN = str(int(F.MEMBER_PERMISSIONS) | F.MANAGE_GUILD)
CHANNEL_MANAGER = str(int(F.MEMBER_PERMISSIONS) | F.MANAGE_CHANNELS)
MAYA_MAIL, LENA_MAIL = "maya@example.com", "lena@example.com"


def opt(name: str, value: str) -> dict:
    return {"name": name, "type": 3, "value": value}


def server_ws(h: Harness) -> int:
    with h.app.session() as s:
        return discord_repo.guild_workspace(s, F.GUILD_ID, "Checkout team").id


def stored(h: Harness) -> dict[str, dict]:
    with h.app.session() as s:
        rows = s.query(discord_repo.DiscordChannelSettings).all()
        return {r.channel_id: {"type": r.meeting_type, "email": r.email, "notion": r.notion,
                               "board": r.notion_target, "review": r.review_first} for r in rows}


def upload(fake: F.FakeDiscord, text: str = VTT) -> tuple[dict, dict]:
    """An attached standup.vtt: (the command's options, its `resolved`)."""
    url = fake.add_file("standup.vtt", text.encode(), "text/vtt")
    attachment = {"id": "1300000000000000777", "filename": "standup.vtt", "size": len(text), "url": url,
                  "proxy_url": url, "content_type": "text/vtt; charset=utf-8"}
    return [{"name": "recording", "type": 11, "value": attachment["id"]}], {"attachments": {attachment["id"]:
                                                                                            attachment}}


def deliveries(h: Harness, job_id: str) -> dict[str, str]:
    with h.app.session() as s:
        return {d.target: d.status for d in jobs_repo.get_job(s, job_id).deliveries}


def the_intake(h: Harness, kind: str) -> tuple[str, str, str]:
    with h.app.session() as s:
        row = s.query(discord_repo.DiscordIntake).filter_by(kind=kind).one()
        return row.job_id, row.channel_id, row.started_by


def test_anyone_sees_the_settings_and_only_managers_change_them(tmp_path, fake, notion):
    h = Harness(tmp_path, fake, notion_api_url=notion.url, notion_rate=1000)

    async def main():
        await h.start(sync_commands=True)
        [onno] = fake.commands
        command = next(o for o in onno["options"] if o["name"] == "settings")
        options = {o["name"]: o for o in command["options"]}
        assert set(options) == {"type", "email", "notion", "review", "for", "digest", "notices"}
        assert options["notion"]["autocomplete"] and not any(o.get("required") for o in options.values())

        shown = await h.command("settings", uid=F.LENA)
        assert f"**Onno settings for <#{F.TEXT_ID}>**" in shown
        assert "- Meeting type: `general` (the default)" in shown
        assert "- E-mail summary: **off** (the default)" in shown and "- Notion: **off** (the default)" in shown
        assert "- Review first: **off** (the server's)" in shown

        # Lena has no Manage Channels; Daniel manages channels but not the server: neither changes the server's.
        no = await h.command("settings", [opt("email", "on")], uid=F.LENA)
        assert "**Manage Channels**" in no and "Saved" not in no
        no = await h.command("settings", [opt("review", "on"), opt("for", "server")], uid=F.DANIEL,
                             permissions=CHANNEL_MANAGER)
        assert "server-wide defaults need **Manage Server**" in no
        assert stored(h) == {}

        ok = await h.command("settings", [opt("type", "standup"), opt("email", "on"), opt("review", "on")],
                             permissions=ADMIN)
        assert ok.startswith(f"✅ Saved for <#{F.TEXT_ID}>: meeting type standup, e-mail summary on, review first on.")
        assert "- Meeting type: `standup` (this channel's)" in ok
        assert "- E-mail summary: **on** (this channel's): mailed to the meeting's participants on file (0 people" in ok
        assert "nobody is on file" in ok and "e-mail isn't set up on this Onno" in ok  # no ONNO_SMTP_URL here
        assert "- Review first: **on** (this channel's)" in ok and "Approve & send" in ok

        # The server's default applies where the channel has none; `default` hands a setting back to the server.
        ok = await h.command("settings", [opt("type", "planning"), opt("for", "server")], permissions=ADMIN)
        assert ok.startswith("✅ Saved for the server-wide default: meeting type planning.")
        assert "- Meeting type: `standup` (this channel's)" in ok
        ok = await h.command("settings", [opt("type", "default"), opt("review", "off")], uid=F.DANIEL,
                             permissions=CHANNEL_MANAGER)
        assert "- Meeting type: `planning` (the server's)" in ok and "- Review first: **off** (this channel's)" in ok

        # Notion: only a board connected to this server; a name that is not one changes nothing and says why.
        no = await h.command("settings", [opt("notion", "roadmap")], permissions=ADMIN)
        assert "No Notion board `roadmap` is connected to this server. No board is connected yet." in no
        assert "Nothing was changed." in no
        no = await h.command("settings", [opt("notion", "on"), opt("email", "off")], permissions=ADMIN)
        assert "No Notion board is connected to this server yet" in no and "Nothing was changed." in no
        db, _ds = notion.state.add_board(title="Roadmap")
        await asyncio.to_thread(notion_service.connect, h.app, server_ws(h), token=notion.state.token, database=db,
                                name="roadmap")
        no = await h.command("settings", [opt("notion", "notion:roadmp")], permissions=ADMIN)
        assert "No Notion board `roadmp` is connected to this server. The boards connected are `roadmap`." in no
        no = await h.command("settings", [opt("notion", "road map!")], permissions=ADMIN)
        assert "is not a Notion connection name" in no and "Nothing was changed." in no

        # Typing in `notion` offers the connected boards (Discord's autocomplete).
        asked = fake.autocomplete("settings", [{"name": "notion", "type": 3, "value": "road", "focused": True}])
        h.gateway("INTERACTION_CREATE", asked)
        await until(lambda: fake.responses(asked["id"]), 20, "the autocomplete answer")
        [answer] = fake.responses(asked["id"])
        assert answer["type"] == 8
        assert [c["value"] for c in answer["data"]["choices"]] == ["roadmap"]

        ok = await h.command("settings", [opt("notion", "notion:roadmap")], permissions=ADMIN)
        assert "- Notion: **on** (this channel's): cards on the board `roadmap`" in ok
        ok = await h.command("settings", [opt("notion", "off"), opt("for", "server")], permissions=ADMIN)
        assert "- Notion: **on** (this channel's)" in ok  # the channel's own choice still wins

    try:
        asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert not fake.problems, fake.problems
    assert stored(h) == {
        str(F.TEXT_ID): {"type": None, "email": True, "notion": True, "board": "roadmap", "review": False},
        discord_repo.SERVER: {"type": "planning", "email": None, "notion": False, "board": None, "review": None}}


def test_a_plan_without_integrations_is_refused_them_with_the_upgrade_link(tmp_path, fake, stripe):
    before = Harness(tmp_path, fake)  # billing off (no STRIPE_API_KEY): no limits

    async def turn_email_on():
        await before.start(sync_commands=False)
        ok = await before.command("settings", [opt("email", "on")], permissions=ADMIN)
        assert "e-mail summary on" in ok

    asyncio.run(_closing(before, turn_email_on))
    before.app.engine.dispose()

    h = Harness(tmp_path, fake, smtp_url="smtp://127.0.0.1:9", mail_from="Onno <onno@onno.test>", **billing(stripe))
    ws_id = server_ws(h)
    link = f"https://onno.test/billing/{ws_id}/upgrade?sig="

    async def main():
        await h.start(sync_commands=False)
        no = await h.command("settings", [opt("notion", "on"), opt("type", "retro")], permissions=ADMIN)
        assert no.startswith("The Free plan does not include Notion delivery.\nFree: 120 minutes a month")
        assert f"Pro includes it: {link}" in no and no.rstrip().endswith("plan=pro\nNothing was changed.")
        no = await h.command("settings", [opt("email", "on"), opt("for", "server")], permissions=ADMIN)
        assert "The Free plan does not include e-mailed summaries." in no and link in no
        ok = await h.command("settings", [opt("review", "on")], permissions=ADMIN)  # every plan reviews
        assert "review first on" in ok
        # E-mail turned on before billing applied: shown as left out, and an upload goes on without it.
        assert "⚠️ left out: The Free plan does not include e-mailed summaries." in ok

        options, resolved = upload(fake)
        reply = await h.command("process", options, resolved=resolved, uid=F.LENA)
        assert "Processing **standup.vtt**" in reply
        assert "Not sent this time:\n- The Free plan does not include e-mailed summaries." in reply and link in reply
        await until(lambda: not h.bot.tasks, 60, "the job")

    try:
        asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert not fake.problems, fake.problems
    job_id, channel, started_by = the_intake(h, "upload")
    assert (channel, started_by) == (str(F.TEXT_ID), str(F.LENA))
    assert deliveries(h, job_id) == {f"discord:{F.TEXT_ID}/{_status_message(fake)}": "delivered"}
    assert stored(h) == {str(F.TEXT_ID): {"type": None, "email": True, "notion": None, "board": None, "review": True}}


def test_an_upload_with_review_first_mails_once_the_uploader_approves(tmp_path, fake, mailbox):
    h = Harness(tmp_path, fake, smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>")
    with h.app.session() as s:
        ws = discord_repo.guild_workspace(s, F.GUILD_ID, "Checkout team")
        mail.add_person(s, ws, "Maya", MAYA_MAIL)
        mail.add_person(s, ws, "Lena", LENA_MAIL)

    async def main():
        await h.start(sync_commands=False)
        ok = await h.command("settings", [opt("type", "standup"), opt("email", "on"), opt("review", "on")],
                             permissions=ADMIN)
        assert "(2 people on file for this server)" in ok and "⚠️" not in ok

        options, resolved = upload(fake)
        reply = await h.command("process", options, resolved=resolved, uid=F.LENA)
        assert "Processing **standup.vtt**" in reply and "Not sent" not in reply
        await until(lambda: not h.bot.tasks, 60, "the job")
        job_id, _channel, started_by = the_intake(h, "upload")
        assert started_by == str(F.LENA)
        held = deliveries(h, job_id)
        assert held["email:participants"] == "held" and mailbox.received == []
        with h.app.session() as s:
            job = jobs_repo.get_job(s, job_id)
            meeting = repo.get_meeting(s, repo.workspace_by_id(s, job.workspace_id), job.meeting_id)
            assert meeting.type == "standup"  # the channel's type: the upload named none
            meeting_id = meeting.id

        [panel] = [m for m in fake.in_channel(F.TEXT_ID) if m["content"].startswith("**Action items**")]
        assert "E-mail waits for your review" in panel["content"]
        approve = f"onno:review:approve:{meeting_id}"
        assert custom_ids(panel)[-1] == [approve]
        # Daniel neither uploaded it nor manages messages; Lena uploaded it, so she may send it.
        no = await interact(h, fake.click(panel["id"], approve, uid=F.DANIEL), "the refusal")
        assert "Manage Messages" in private_text(fake, no) and mailbox.received == []
        yes = await interact(h, fake.click(panel["id"], approve, uid=F.LENA), "the approval")
        assert yes["type"] == 6
        await until(lambda: mailbox.to(MAYA_MAIL) and mailbox.to(LENA_MAIL), 30, "the e-mails")
        await until(lambda: not fake.message(panel["id"])["components"], 10, "the panel to say it was approved")
        assert fake.message(panel["id"])["content"].splitlines()[1] == f"✅ Approved by <@{F.LENA}>: sent to E-mail."
        # Approving again (say, from the CLI) releases nothing: nothing is mailed twice.
        assert await asyncio.to_thread(h.app.runner.approve, meeting_id, job.workspace_id) == []
        return job_id

    try:
        job_id = asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert not fake.problems, fake.problems
    assert len(mailbox.to(MAYA_MAIL)) == 1 and len(mailbox.to(LENA_MAIL)) == 1 and len(mailbox.received) == 2
    assert deliveries(h, job_id)["email:participants"] == "delivered"


def test_a_live_meeting_hands_over_with_the_channels_settings(tmp_path, fake, mailbox):
    h = Harness(tmp_path, fake, smtp_url=mailbox.url, mail_from="Onno <onno@onno.test>")
    with h.app.session() as s:
        mail.add_person(s, discord_repo.guild_workspace(s, F.GUILD_ID, "Checkout team"), "Maya", MAYA_MAIL)

    async def main():
        bot = await h.start(sync_commands=False)
        await h.command("settings", [opt("type", "retro"), opt("email", "on"), opt("review", "on")],
                        permissions=ADMIN)
        assert "Recording" in await h.command("join")  # no type given: the channel's
        thread = fake.threads()[0]["id"]
        await feed_maya(h)
        await h.command("leave")
        await until(lambda: not bot.tasks, 300, "the meeting's job and delivery")
        job_id, channel, started_by = the_intake(h, "live")
        # The settings are the channel's where `/onno join` was typed, not the meeting thread's (it has none).
        assert (channel, started_by) == (str(F.TEXT_ID), str(F.MAYA))
        assert deliveries(h, job_id) == {f"discord:{thread}": "delivered", "email:participants": "held"}
        with h.app.session() as s:
            job = jobs_repo.get_job(s, job_id)
            assert repo.get_meeting(s, repo.workspace_by_id(s, job.workspace_id), job.meeting_id).type == "retro"
        [panel] = [m for m in fake.in_channel(thread) if m["content"].startswith("**Action items**")]
        assert mailbox.received == []
        await interact(h, fake.click(panel["id"], custom_ids(panel)[-1][0], uid=F.MAYA), "the approval")
        await until(lambda: mailbox.to(MAYA_MAIL), 30, "the e-mail")
        return thread

    try:
        thread = asyncio.run(_closing(h, main))
    finally:
        h.app.engine.dispose()
    assert not fake.problems, fake.problems
    assert len(mailbox.received) == 1
    assert not any(p.startswith("ℹ️ Not sent") for p in posts_in(fake, thread))


async def feed_maya(h: Harness) -> None:
    """Maya takes an action item (the sample standup, 22-28 s)."""
    from tests.bots.discord_support import feed

    await feed(h.vcs[0], windows(h.dave, [(F.MAYA, "Maya", 22.3, 27.6)]), clock=h.clock)


def _status_message(fake: F.FakeDiscord) -> str:
    return next(m["id"] for m in fake.in_channel(F.TEXT_ID) if m["content"].startswith(("📥", "✅ Done")))


async def _closing(h: Harness, main):
    try:
        return await main()
    finally:
        if h.bot is not None:
            await h.bot.close()
