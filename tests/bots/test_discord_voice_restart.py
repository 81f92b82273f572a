"""A restarted bot: people still in the voice channel get the meeting recorded on (same row, same tracks);
a meeting refused at its end keeps its audio a week, then the audio goes."""

from __future__ import annotations

import asyncio
import datetime as dt

import discord

from bots.discord import voice_rejoin
from bots.discord.ogg import repair
from storage import discord as discord_repo
from storage import repository as repo
from tests.bots import discord_fake as F
from tests.bots.discord_support import feed
from tests.bots.test_discord_bot import Harness, posts_in, until, windows


def die(h, bot) -> None:
    """The process dies mid-meeting: nothing closed or finished."""
    meeting = bot.meetings[F.GUILD_ID]
    for task in meeting.tasks:
        task.cancel()
    meeting.ending = True
    h.vcs[0].stop_listening()
    if meeting.live is not None:
        meeting.live.close(timeout=0)
    bot.meetings.clear()


def test_a_restarted_bot_joins_a_meeting_still_going_and_records_on(tmp_path, fake):
    async def first_life():
        h = Harness(tmp_path, fake)
        bot = await h.start(sync_commands=False)
        await h.command("join")
        await feed(h.vcs[0], windows(h.dave, [(F.MAYA, "Maya", 22.3, 25.0)]), clock=h.clock)
        await asyncio.sleep(1.0)  # flushed (every 0.3 s here)
        folder = bot.meetings[F.GUILD_ID].folder
        die(h, bot)
        await discord.Client.close(bot)
        h.app.engine.dispose()
        return fake.threads()[0]["id"], folder

    thread, folder = asyncio.run(first_life())
    maya_before = repair(folder / f"{F.MAYA}.ogg")[1]

    async def second_life():
        h = Harness(tmp_path, fake)  # Maya and Daniel are still in the channel
        h.clock.t = 40.0  # the meeting's clock went on while the bot was away
        bot = await h.start(sync_commands=False, recover=True)
        try:
            await bot.on_ready()
            await until(lambda: F.GUILD_ID in bot.meetings and h.vcs, 30, "the rejoin")
            meeting = bot.meetings[F.GUILD_ID]
            assert meeting.folder == folder
            spoken = [(uid, t + 40.0, p, pad) for uid, t, p, pad in
                      windows(h.dave, [(F.DANIEL, "Daniel", 7.5, 10.0)])]
            await feed(h.vcs[0], spoken, clock=h.clock)
            await asyncio.sleep(1.0)
            with h.app.session() as s:
                assert s.query(discord_repo.DiscordLiveMeeting).one().status == "recording"
        finally:
            for m in list(bot.meetings.values()):
                m.ending = True
                for task in m.tasks:
                    task.cancel()
                await asyncio.to_thread(m.recorder.flush)
            bot.meetings.clear()
            await discord.Client.close(bot)
            h.app.engine.dispose()

    asyncio.run(second_life())
    posts = posts_in(fake, thread)
    assert any("joined again" in p for p in posts) and not any("finishing the notes" in p for p in posts)
    # Maya's track still holds what she said before the restart; Daniel's starts on the same clock, 40 s in.
    assert repair(folder / f"{F.MAYA}.ogg")[1] >= maya_before
    daniel_end = repair(folder / f"{F.DANIEL}.ogg")[1] / 48000
    assert 47.0 < daniel_end < 51.0


def test_the_audio_of_a_refused_meeting_is_kept_a_week_then_deleted(tmp_path, fake):
    h = Harness(tmp_path, fake)
    app = h.app
    ended = dt.datetime(2026, 3, 1, 10, 0)
    with app.session() as s:
        ws_id = repo.get_or_create_workspace(s, "Checkout team").id
        row = discord_repo.DiscordLiveMeeting(
            workspace_id=ws_id, guild_id=str(F.GUILD_ID), voice_channel_id=str(F.VOICE_ID),
            text_channel_id=str(F.TEXT_ID), thread_id=None, started_by=str(F.MAYA), title="Daily meeting",
            type="standup", folder="", speakers={}, status="failed", error="unreadable tracks", ended_at=ended)
        s.add(row)
        s.flush()
        folder = app.settings.resolved_blob_dir / "discord-live" / str(row.id)
        row.folder = str(folder.relative_to(app.settings.resolved_blob_dir))
    folder.mkdir(parents=True)
    (folder / "1.ogg").write_bytes(b"OggS")
    assert voice_rejoin.clean_refused(app, now=ended + dt.timedelta(days=6)) == 0 and folder.exists()
    assert voice_rejoin.clean_refused(app, now=ended + dt.timedelta(days=7, minutes=1)) == 1
    assert not folder.exists()
    with app.session() as s:
        assert "deleted" in s.query(discord_repo.DiscordLiveMeeting).one().error
    app.engine.dispose()


def test_a_dead_voice_link_is_reconnected_and_the_thread_told_how_much_was_lost(tmp_path, fake):
    async def main():
        h = Harness(tmp_path, fake)
        bot = await h.start(sync_commands=False)
        bot.voice_check_every = 0.2
        try:
            await h.command("join")
            thread = fake.threads()[0]["id"]
            await feed(h.vcs[0], windows(h.dave, [(F.MAYA, "Maya", 22.3, 23.3)]), clock=h.clock)
            h.vcs[0].disconnected = True  # the link dies (the websocket loop ended; discord.py gave up)
            h.clock.t += 3.0  # three seconds pass before the watchdog's reconnect is through
            await until(lambda: len(h.vcs) == 2, 30, "the reconnect")
            meeting = bot.meetings[F.GUILD_ID]
            assert meeting.vc is h.vcs[1] and h.vcs[1].is_listening()
            assert meeting.sink.dave.connection is h.vcs[1]._connection  # the new link's DAVE session
            await until(lambda: any("audio were lost" in p for p in posts_in(fake, thread)), 10, "the notice")
            # Audio flows again into the same tracks.
            spoken = [(uid, t + 3.0, p, pad) for uid, t, p, pad in
                      windows(h.dave, [(F.MAYA, "Maya", 23.3, 24.3)])]
            await feed(h.vcs[1], spoken, clock=h.clock)
            await asyncio.sleep(0.5)
            await asyncio.to_thread(meeting.recorder.flush)
            assert repair(meeting.folder / f"{F.MAYA}.ogg")[1] / 48000 > 26.5
            return posts_in(fake, thread)
        finally:
            await h.close()

    posts = asyncio.run(main())
    notice = next(p for p in posts if "audio were lost" in p)
    assert "voice connection was down" in notice and "About 3 s" in notice
    assert not any("Recording stopped" in p for p in posts[:-1])  # not ended by the reconnect itself


def test_the_receive_log_is_a_line_a_minute_not_a_line_a_packet(caplog):
    import logging
    import random

    from bots.discord.receive import MeetingSink
    from tests.bots.discord_support import speech

    frames = speech("Maya", 20.0)
    rng = random.Random(1)
    clock = [0.0]
    sink = MeetingSink(lambda *a: None, allowed=lambda uid: True, clock=lambda: clock[0],
                       connection=type("Plain", (), {"dave_session": None, "dave_protocol_version": 0})(),
                       resolve=lambda ssrc: type("M", (), {"id": F.MAYA, "display_name": "Maya"})())

    class Packet:
        ssrc, padding = 1111, False

    caplog.set_level(logging.DEBUG, logger="bots.discord")
    for i in range(4500):  # 90 s of talk, 2 % lost
        clock[0] = i * 0.02
        if rng.random() < 0.02:
            continue
        p = Packet()
        p.sequence, p.timestamp, p.decrypted_data = i & 0xFFFF, i * 960, frames[i % len(frames)]
        sink.feed(p)
        sink.tick()
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert len(info) == 1 and info[0].startswith("voice: last minute") and "lost" in info[0]
