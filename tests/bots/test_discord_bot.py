"""The Discord bot against a local server playing Discord's REST API, with gateway events fed to discord.py.

Slash commands arrive as INTERACTION_CREATE payloads handed to discord.py's own parser (as its gateway would);
everything the bot sends goes over HTTP to the fake. Voice is the real receive path (voice_recv + DAVE stand-in +
libopus) with only the voice server left out; jobs run in-process on SQLite with the bundled speech model.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import discord
import pytest
from sqlalchemy import select

from bots.discord.bot import OnnoDiscord
from bots.discord.meeting import live_job_id
from bots.discord.poster import LivePoster
from integrations.deliver import DeliveryContext
from integrations.discord import adapter as discord_adapter
from onno.service import App
from onno.settings import Settings
from storage import discord as discord_repo
from storage import jobs as jobs_repo
from storage import repository as repo
from storage.models import Meeting
from tests.bots import discord_fake as F
from tests.bots.discord_support import Clock, LocalVoiceClient, StandInDave, feed, logged_in, speech

pytestmark = pytest.mark.skipif(not discord.opus.is_loaded() and not discord.opus._load_default(),
                                reason="libopus (Debian package libopus0) is not installed")

def settings(tmp_path: Path, fake: F.FakeDiscord, **overrides) -> Settings:
    values = {"data_dir": tmp_path / "data", "database_url": f"sqlite:///{tmp_path / 'onno.db'}",
              "discord_token": F.TOKEN, "discord_api_url": fake.api_url, "discord_edit_interval": 0.3,
              "discord_empty_grace": 0.3, "public_url": "https://onno.test", "secret_key": "test-secret-key-0123456789",
              "inline_retry_wait": 1.0, "whisper_beam_size": 1}
    values.update(overrides)
    return Settings(**values)


async def until(pred, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


class Harness:
    """One bot process: logged in to the fake, the server handed over, voice joined locally."""

    def __init__(self, tmp_path: Path, fake: F.FakeDiscord, *, in_voice=(F.MAYA, F.DANIEL), **overrides):
        self.fake = fake
        self.app = App(settings(tmp_path, fake, **overrides))
        self.in_voice = in_voice
        self.dave = StandInDave()
        for uid in (F.MAYA, F.DANIEL, F.LENA):
            self.dave.add_member(uid)
        self.clock = Clock()
        self.vcs: list[LocalVoiceClient] = []
        self.bot: OnnoDiscord | None = None

    async def start(self, **kw) -> OnnoDiscord:
        kw.setdefault("recover", False)
        self.bot = OnnoDiscord(self.app, connect_voice=self.connect, clock_factory=lambda: self.clock,
                               flush_every=0.3, **kw)
        await logged_in(self.fake, self.bot, in_voice=self.in_voice)
        return self.bot

    async def connect(self, channel):
        vc = LocalVoiceClient(self.bot, channel)
        vc.setup(self.dave)
        self.vcs.append(vc)
        return vc

    def gateway(self, event: str, payload: dict) -> None:
        self.bot._connection.parsers[event](payload)

    async def command(self, sub: str, options: list[dict] | None = None, **kw) -> str:
        """Run `/onno SUB` and return the private reply the caller sees."""
        payload = F.interaction(sub, options, **kw)
        iid = payload["id"]
        self.gateway("INTERACTION_CREATE", payload)
        await until(lambda: self.reply(iid) is not None, 30, f"the reply to /onno {sub}")
        return self.reply(iid)

    def reply(self, iid: str) -> str | None:
        for c in self.fake.calls_to("POST", rf"/interactions/{iid}/"):
            if c["json"]["type"] == 4:
                assert c["json"]["data"].get("flags", 0) & F.EPHEMERAL, "replies to one person are private"
                return c["json"]["data"]["content"]
        for c in self.fake.calls_to("POST", rf"/webhooks/{F.APP_ID}/tok-{iid}$"):
            return c["json"]["content"]
        return None

    async def close(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        self.app.engine.dispose()


def posts_in(fake: F.FakeDiscord, channel_id: int) -> list[str]:
    """What the bot posted in a channel for everyone (not replies to interactions), oldest first."""
    return [m["content"] for m in sorted(fake.in_channel(channel_id), key=lambda m: int(m["id"]))
            if not m["interaction"]]


def windows(dave: StandInDave, spans: list[tuple[int, str, float, float]]) -> list[tuple]:
    """Packets of each (member, speaker, from, to) span of the sample meeting, in time order."""
    out = []
    for uid, name, start, end in spans:
        for i, frame in enumerate(speech(name, end - start, start)):
            out.append((uid, start + i * 0.02, frame))
    out.sort(key=lambda p: p[1])
    return [(uid, t, dave.encrypt(uid, frame), 0) for uid, t, frame in out]


def test_a_live_meeting_from_join_to_posted_notes(tmp_path, fake):
    h = Harness(tmp_path, fake)

    async def main():
        bot = await h.start(sync_commands=True)
        assert [c["name"] for c in fake.commands] == ["onno"]
        subs = {o["name"] for o in fake.commands[0]["options"]}
        assert {"join", "leave", "process", "tickets", "ask", "plan", "optout", "optin"} <= subs

        reply = await h.command("join", [{"name": "type", "type": 3, "value": "standup"}])
        assert f"Recording <#{F.VOICE_ID}>" in reply
        # Consent first: the nickname and the announcement (with how to opt out) before any audio is taken.
        assert fake.nick == "Onno (recording)"
        announcement = posts_in(fake, F.TEXT_ID)[0]
        assert "Recording" in announcement and "/onno optout" in announcement
        thread = fake.threads()[0]["id"]
        meeting = bot.meetings[F.GUILD_ID]
        assert meeting.post_channel.id == thread and h.vcs[0].is_listening()

        # Maya opens, Daniel reports, Maya takes an action item (the sample standup, 0-28 s).
        await feed(h.vcs[0], windows(h.dave, [(F.MAYA, "Maya", 0.3, 7.2), (F.DANIEL, "Daniel", 7.4, 14.2),
                                              (F.MAYA, "Maya", 22.3, 27.6)]), clock=h.clock)
        # Lena joins mid-meeting: she is told, by a mention, and opts out; her audio is then never taken.
        h.gateway("VOICE_STATE_UPDATE", F.voice_state(F.LENA, F.VOICE_ID))
        await until(lambda: any(f"<@{F.LENA}>" in p for p in posts_in(fake, thread)), 10, "the joiner notice")
        notice = next(c for c in fake.calls_to("POST", rf"/channels/{thread}/messages$")
                      if f"<@{F.LENA}>" in c["json"]["content"])
        assert "/onno optout" in notice["json"]["content"]
        assert [str(u) for u in notice["json"]["allowed_mentions"]["users"]] == [str(F.LENA)]
        reply = await h.command("optout", uid=F.LENA)
        assert "opted out" in reply
        await feed(h.vcs[0], windows(h.dave, [(F.LENA, "Lena", 27.6, 29.0)]), clock=h.clock)
        assert F.LENA not in h.dave.calls

        reply = await h.command("leave")
        assert "Meeting ended" in reply
        await until(lambda: not bot.tasks, 300, "the meeting's job and delivery")
        return thread

    thread = asyncio.run(main_with_close(h, main))
    assert not fake.problems, fake.problems
    posts = posts_in(fake, thread)
    live = "\n".join(posts)
    # The live transcript: lines with speakers' display names, batched into edits within Discord's pace.
    assert "**Maya**" in live and "**Daniel**" in live
    assert "payment card" in live.lower(), live
    assert "📌 Action item" in live, live
    for m in fake.in_channel(thread):
        edits = m["edits"]
        assert all(b - a > 0.2 for a, b in zip(edits, edits[1:], strict=False)), "one edit per message per tick"
        assert all(len([e for e in edits if t <= e < t + 5]) <= 5 for t in edits)
    # The end: recording stopped, nickname back, the full notes in the thread from the job.
    assert fake.nick is None
    assert any("Recording stopped" in p for p in posts)
    result = next(p for p in posts if p.startswith("## ✅"))
    assert "Action items" in result and "platform team" in result.lower()
    with h.app.session() as s:
        row = s.query(discord_repo.DiscordLiveMeeting).one()
        assert row.status == "done" and row.job_id == live_job_id(row.id)
        job = jobs_repo.get_job(s, row.job_id)
        assert job.status == "done"
        ws = repo.workspace_by_id(s, row.workspace_id)
        assert ws.platform == "discord" and ws.external_id == str(F.GUILD_ID)
        m = repo.get_meeting(s, ws, job.meeting_id)
        assert m.type == "standup" and {seg.speaker for seg in m.segments} == {"Maya", "Daniel"}
        assert discord_repo.is_opted_out(s, ws, F.LENA)
    assert not (h.app.settings.resolved_blob_dir / "discord-live" / str(row.id)).exists()


async def main_with_close(h: Harness, main):
    try:
        return await main()
    finally:
        await h.close()


def test_join_says_clearly_why_it_cannot_start(tmp_path, fake):
    async def main():
        h = Harness(tmp_path, fake, in_voice=(F.MAYA,))
        await h.start(sync_commands=False)
        try:
            reply = await h.command("join", uid=F.LENA)  # not in a voice channel
            assert "Join a voice channel first" in reply
            # The bot lacks Create Public Threads here, and Connect in the voice channel.
            h.gateway("GUILD_UPDATE", {**F.guild_create([F.MAYA]), "roles": [
                {"id": str(F.GUILD_ID), "name": "@everyone", "permissions": str(1 << 10 | 1 << 11 | 1 << 21),
                 "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}]})
            reply = await h.command("join", app_permissions=str(1 << 10 | 1 << 11))
            assert f"**Connect in <#{F.VOICE_ID}>**" in reply
            assert f"**Create Public Threads in <#{F.TEXT_ID}>**" in reply
            assert fake.nick is None and not h.vcs and len(posts_in(fake, F.TEXT_ID)) == 0
        finally:
            await h.close()

        # Billing on: the Free plan has no live voice; the reply says so with an upgrade link.
        h = Harness(tmp_path, fake, in_voice=(F.MAYA,), stripe_api_key="sk_test_123")
        await h.start(sync_commands=False)
        try:
            reply = await h.command("join")
            assert "Free plan does not include live voice meetings" in reply
            assert "https://onno.test/billing/" in reply
            assert fake.nick is None and not h.vcs
            plan = await h.command("plan")
            assert "**Free plan**" in plan and "Upgrade: <https://onno.test/billing/" in plan
        finally:
            await h.close()

    asyncio.run(main())
    assert not fake.problems, fake.problems


def test_everyone_leaving_ends_the_meeting(tmp_path, fake):
    async def main():
        h = Harness(tmp_path, fake)
        bot = await h.start(sync_commands=False)
        try:
            await h.command("join")
            thread = fake.threads()[0]["id"]
            h.gateway("VOICE_STATE_UPDATE", F.voice_state(F.MAYA, None))
            await asyncio.sleep(0.5)
            assert F.GUILD_ID in bot.meetings  # Daniel is still there
            h.gateway("VOICE_STATE_UPDATE", F.voice_state(F.DANIEL, None))
            await until(lambda: F.GUILD_ID not in bot.meetings, 10, "the meeting to end")
            await until(lambda: not bot.tasks, 30, "the hand-off")
            posts = posts_in(fake, thread)
            assert any("Recording stopped (everyone left)" in p for p in posts)
            assert any("Nobody said anything" in p for p in posts)  # nothing was recorded: no job, no minutes
            assert fake.nick is None and h.vcs[0].disconnected
        finally:
            await h.close()

    asyncio.run(main())
    assert not fake.problems, fake.problems


def test_opting_out_and_in_is_per_member_and_per_server(tmp_path, fake):
    async def main():
        h = Harness(tmp_path, fake)
        bot = await h.start(sync_commands=False)
        try:
            assert "opted out" in await h.command("optout", uid=F.DANIEL)
            # Without Change Nickname the meeting still starts, and the announcement says what is missing.
            fake.fail_next("PATCH", r"/members/@me$", 403, {"message": "Missing Permissions", "code": 50013})
            await h.command("join")
            assert "Change Nickname" in posts_in(fake, F.TEXT_ID)[0]
            meeting = bot.meetings[F.GUILD_ID]
            assert F.DANIEL in meeting.excluded  # opted out before: never recorded in this meeting
            assert "opted in again" in await h.command("optin", uid=F.DANIEL)
            assert F.DANIEL not in meeting.excluded
            await h.command("leave")
            await until(lambda: not bot.tasks, 30, "the hand-off")
        finally:
            await h.close()

    asyncio.run(main())
    app = App(settings(tmp_path, fake))
    with app.session() as s:
        ws = discord_repo.guild_workspace(s, F.GUILD_ID)
        other = discord_repo.guild_workspace(s, 42)
        assert not discord_repo.is_opted_out(s, ws, F.DANIEL)
        discord_repo.set_opt_out(s, ws, F.DANIEL, True)
        assert discord_repo.is_opted_out(s, ws, F.DANIEL) and not discord_repo.is_opted_out(s, other, F.DANIEL)
        assert discord_repo.set_opt_out(s, ws, F.DANIEL, True) is False  # twice is once
    app.engine.dispose()
    assert not fake.problems, fake.problems


VTT = """WEBVTT

00:00:01.000 --> 00:00:05.000
<v Maya>Morning everyone. Daniel, do you want to start?

00:00:05.500 --> 00:00:11.000
<v Daniel>I finished the saved payment cards yesterday, but I'm blocked on the logging account.

00:00:11.500 --> 00:00:16.000
<v Maya>Okay, I'll ask the platform team for the logging access this afternoon.
"""


def test_process_an_attached_recording_posts_its_notes(tmp_path, fake):
    url = fake.add_file("standup.vtt", VTT.encode(), "text/vtt")
    attachment = {"id": "1300000000000000777", "filename": "standup.vtt", "size": len(VTT), "url": url,
                  "proxy_url": url, "content_type": "text/vtt; charset=utf-8"}

    async def main():
        h = Harness(tmp_path, fake)
        bot = await h.start(sync_commands=False)
        try:
            reply = await h.command("process", [{"name": "recording", "type": 11, "value": attachment["id"]}],
                                    resolved={"attachments": {attachment["id"]: attachment}})
            assert "Processing **standup.vtt**" in reply
            await until(lambda: not bot.tasks, 60, "the job")
            tickets = await h.command("tickets")
            assert "No board yet" in tickets
            asked = await h.command("ask", [{"name": "question", "type": 3, "value": "logging access"}])
            assert "platform team" in asked
        finally:
            await h.close()

    asyncio.run(main())
    assert not fake.problems, fake.problems
    posts = posts_in(fake, F.TEXT_ID)
    status = next(m for m in fake.in_channel(F.TEXT_ID) if m["content"].startswith("✅ Done"))
    assert status["edits"], "the status message is edited to say it is done"
    result = next(p for p in posts if p.startswith("## ✅"))
    assert "Action items" in result and "platform team" in result and "https://onno.test/meetings/" in result


def test_a_retried_delivery_edits_what_it_posted(tmp_path, fake):
    app = App(settings(tmp_path, fake))
    with app.session() as s:
        ws = discord_repo.guild_workspace(s, F.GUILD_ID)
        ws_id = ws.id
    result = {"meeting": {"title": "Standup", "type": "standup", "date": "2026-11-16", "duration": 60.0,
                          "participants": ["Maya"]},
              "action_items": [{"text": f"Item {i} " + "x" * 80, "owner": "Maya", "start": i} for i in range(40)]}
    ctx = DeliveryContext(app=app, key="job1-abc", job_id="job1", workspace_id=ws_id, meeting_id=7, result=result)
    discord_adapter.send(str(F.TEXT_ID), ctx)
    first = fake.calls_to("POST", rf"/channels/{F.TEXT_ID}/messages$")
    assert len(first) >= 2  # too long for one message: split at line ends
    discord_adapter.send(str(F.TEXT_ID), ctx)  # the receipt was lost: the same key comes again
    assert len(fake.calls_to("POST", rf"/channels/{F.TEXT_ID}/messages$")) == len(first)
    assert len(fake.calls_to("PATCH", rf"/channels/{F.TEXT_ID}/messages/")) == len(first)
    assert all(len(p) <= 2000 for p in posts_in(fake, F.TEXT_ID))
    assert discord_adapter.check("123/456") is not None and discord_adapter.check(str(F.TEXT_ID)) is None
    app.engine.dispose()
    assert not fake.problems, fake.problems


def test_a_post_whose_answer_was_lost_is_not_made_twice(tmp_path, fake):
    """The message was created but the answer never came (a cut connection, a crash): the retry carries the same
    nonce with enforce_nonce, and Discord hands back the first message instead of making a second."""
    from integrations.errors import TransientError

    app = App(settings(tmp_path, fake))
    with app.session() as s:
        ws_id = discord_repo.guild_workspace(s, F.GUILD_ID).id
    result = {"meeting": {"title": "Standup", "type": "standup", "date": "2026-11-16", "duration": 60.0,
                          "participants": ["Maya"]},
              "action_items": [{"text": "Send the design", "owner": "Maya", "start": 3.0}]}
    ctx = DeliveryContext(app=app, key="job2-def", job_id="job2", workspace_id=ws_id, meeting_id=8, result=result)
    fake.lose_answers = 1
    with pytest.raises(TransientError):
        discord_adapter.send(str(F.TEXT_ID), ctx)
    assert len(posts_in(fake, F.TEXT_ID)) == 1  # it was made all the same
    discord_adapter.send(str(F.TEXT_ID), ctx)  # the outbox's retry
    assert len(fake.calls_to("POST", rf"/channels/{F.TEXT_ID}/messages$")) == 2
    assert len(posts_in(fake, F.TEXT_ID)) == 1 and not fake.problems, fake.problems
    app.engine.dispose()


def test_live_lines_are_batched_into_edits_and_new_messages_when_full(fake):
    async def main():
        client = discord.Client(intents=discord.Intents.none())
        await logged_in(fake, client, in_voice=())
        try:
            poster = LivePoster(client.get_partial_messageable(F.TEXT_ID), interval=0.25)
            task = asyncio.get_running_loop().create_task(poster.run())
            fake.rate_limit_next("PATCH", r"/messages/\d+$", retry_after=0.3)
            for i in range(120):
                poster.add({"type": "transcript", "speaker": "Maya", "text": f"line {i} " + "word " * 8,
                            "start": i * 2.0, "end": i * 2.0 + 1})
                if i == 60:
                    poster.add({"type": "action_item", "change": "new", "text": "Ask the platform team",
                                "finding": {"owner": "Maya", "due": "today"}})
                    poster.add({"type": "action_item", "change": "changed", "text": "Ask the platform team"})
                await asyncio.sleep(0.01)
            await poster.close()
            await task
        finally:
            await client.close()

    asyncio.run(main())
    assert not fake.problems, fake.problems
    posts = posts_in(fake, F.TEXT_ID)
    text = "\n".join(posts)
    assert [f"line {i} " in text for i in range(120)] == [True] * 120
    order = [text.index(f"line {i} ") for i in range(120)]
    assert order == sorted(order)
    assert text.count("📌 Action item: Ask the platform team (Maya, due today)") == 1
    assert len(posts) >= 3 and all(len(p) <= 2000 for p in posts)
    assert len(fake.calls_to("PATCH", r"/messages/")) < 120  # batched, not one edit per line
    for m in fake.in_channel(F.TEXT_ID):
        assert all(b - a > 0.15 for a, b in zip(m["edits"], m["edits"][1:], strict=False))


def test_a_restarted_bot_finishes_the_meeting_from_flushed_audio(tmp_path, fake):
    async def first_life():
        h = Harness(tmp_path, fake)
        bot = await h.start(sync_commands=False)
        await h.command("join")
        thread = fake.threads()[0]["id"]
        await feed(h.vcs[0], windows(h.dave, [(F.MAYA, "Maya", 22.3, 27.6)]), clock=h.clock)
        meeting = bot.meetings[F.GUILD_ID]
        await asyncio.sleep(1.0)  # the flusher runs every 0.3 s here (5 s in production)
        folder = meeting.folder
        assert (folder / f"{F.MAYA}.ogg").stat().st_size > 10000
        # The process dies: nothing is closed or finished; the last half-written page is cut short.
        for task in meeting.tasks:
            task.cancel()
        meeting.ending = True
        h.vcs[0].stop_listening()
        if meeting.live is not None:
            meeting.live.close(timeout=0)
        with (folder / f"{F.MAYA}.ogg").open("ab") as out:
            out.write(b"OggS\x00\x00\x01")
        bot.meetings.clear()
        await discord.Client.close(bot)
        h.app.engine.dispose()
        return thread

    thread = asyncio.run(first_life())
    fake.nick = "Onno (recording)"

    async def second_life():
        h = Harness(tmp_path, fake, in_voice=())  # everyone left while it was down: nothing to rejoin
        bot = await h.start(sync_commands=False, recover=True)
        try:
            await bot.on_ready()
            await until(lambda: not bot.tasks, 300, "the recovered meeting's job")
        finally:
            await h.close()
        return h

    h = asyncio.run(second_life())
    assert not fake.problems, fake.problems
    posts = posts_in(fake, thread)
    assert any("I was restarted" in p for p in posts)
    assert fake.nick is None
    result = next(p for p in posts if p.startswith("## ✅"))
    assert "platform team" in result.lower()
    with h.app.session() as s:
        row = s.query(discord_repo.DiscordLiveMeeting).one()
        assert row.status == "done"
        ws = repo.workspace_by_id(s, row.workspace_id)
        m = repo.get_meeting(s, ws, jobs_repo.get_job(s, row.job_id).meeting_id)
        assert {seg.speaker for seg in m.segments} == {"Maya"}


def test_names_and_words_are_posted_as_text_never_as_mentions_or_disguised_links(tmp_path, fake):
    """A title or a line of the transcript must not ping @everyone or show a masked link."""
    name = "[Open the notes](https://evil.example) @everyone.vtt"
    vtt = VTT.replace("<v Maya>Okay, I'll ask", "<v Maya>@everyone see [the doc](https://evil.example). I'll ask")
    url = fake.add_file("inject.vtt", vtt.encode(), "text/vtt")
    attachment = {"id": "1300000000000000778", "filename": name, "size": len(vtt), "url": url,
                  "proxy_url": url, "content_type": "text/vtt; charset=utf-8"}

    async def main():
        h = Harness(tmp_path, fake)
        bot = await h.start(sync_commands=False)
        try:
            await h.command("process", [{"name": "recording", "type": 11, "value": attachment["id"]}],
                            resolved={"attachments": {attachment["id"]: attachment}})
            await until(lambda: not bot.tasks, 60, "the job")
            return await h.command("ask", [{"name": "question", "type": 3, "value": "platform team"}])
        finally:
            await h.close()

    asked = asyncio.run(main())
    posted = "\n".join([*posts_in(fake, F.TEXT_ID), asked])
    assert "platform team" in asked
    assert re.findall(r"[^\\]\]\(https://evil", posted) == []  # every "](" escaped: no masked link renders
    assert "@everyone" not in posted
    app = App(settings(tmp_path, fake))
    with app.session() as s:  # the stored title keeps what the name said, slashes and all
        assert list(s.scalars(select(Meeting.title))) == ["[Open the notes](https://evil.example) @everyone"]
    app.engine.dispose()
