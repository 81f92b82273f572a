"""One live meeting: voice in (through the DAVE-aware sink), tracks on disk, the live engine, posts in the thread.

`finish_meeting` is the end-of-meeting hand-off, shared by `/onno leave`, an emptied channel and a restarted bot:
the flushed tracks become a tracks folder (`Maya.ogg` …) submitted to the job runner, whose `discord:` delivery
posts the full result in the meeting's thread, beside the channel's e-mail and Notion (`/onno settings`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import shutil
import tempfile
from pathlib import Path

from bots.discord import settings as channel_settings
from bots.discord.poster import LivePoster
from bots.discord.receive import MeetingSink, monotonic_clock
from bots.discord.recorder import FLUSH_EVERY, TrackRecorder, build_tracks, meeting_folder
from core.errors import InputError
from integrations.discord.adapter import target as discord_target
from pipeline.types import MeetingInfo
from storage import discord as discord_repo
from storage import jobs as jobs_repo
from storage import repository as repo

log = logging.getLogger(__name__)


def live_session_class():
    """The live engine (pipeline.live), or None where it is not available: the meeting is still recorded."""
    try:
        from pipeline.live import LiveSession
    except ImportError:
        try:
            from pipeline.live.session import LiveSession
        except ImportError:
            return None
    return LiveSession


class LiveMeeting:
    """Everything one recording holds while it runs; created by `/onno join`, ended by `stop()`."""

    def __init__(self, bot, *, row_id: int, workspace_id: int, guild_id: int, voice_channel_id: int,
                 post_channel, info: MeetingInfo, board: list, opted_out: set[int], clock=None):
        self.bot = bot
        self.app = bot.app
        self.row_id = row_id
        self.workspace_id = workspace_id
        self.guild_id = guild_id
        self.voice_channel_id = voice_channel_id
        self.post_channel = post_channel
        self.info = info
        self.loop = asyncio.get_running_loop()
        self.clock = clock or monotonic_clock()
        self.excluded: set[int] = set(opted_out)
        self.names: dict[int, str] = {}
        self.ending = False
        self.folder = meeting_folder(self.app.settings.resolved_blob_dir, row_id)
        self.recorder = TrackRecorder(self.folder)
        self.poster = LivePoster(post_channel, interval=self.app.settings.discord_edit_interval, loop=self.loop)
        self.sink = MeetingSink(self.on_audio, allowed=self.allowed, clock=self.clock)
        self.live = None
        factory = bot.live_factory if bot.live_factory is not None else live_session_class()
        if factory is not None:
            try:
                self.live = factory(info, board, self.app.transcriber, on_event=self.poster.add,
                                    pool=bot.live_pool(), clock=self.clock)
            except Exception:
                log.exception("the live engine did not start; recording without a live transcript")
        if self.live is None:
            self.poster.note("ℹ️ The live transcript is not available right now; the full notes come when the "
                             "meeting ends.")
        self.vc = None
        self.tasks = [self.loop.create_task(self.poster.run()), self.loop.create_task(self._flusher())]

    # -- the voice thread ---------------------------------------------------------------------------------------

    def allowed(self, user_id: int) -> bool:
        return not self.ending and user_id not in self.excluded

    def on_audio(self, user_id: int, name: str, opus: bytes, pcm: bytes, t: float) -> None:
        """One 20 ms frame of one member (called on voice_recv's router thread)."""
        if not self.allowed(user_id):  # opted out between the sink's check and here
            return
        name = self.names.get(user_id) or self._name_for(user_id, name)
        if self.recorder.write(user_id, name, opus, t):
            self.loop.call_soon_threadsafe(self.bot.spawn, self.bot.db(self._add_speaker, user_id, name))
        if self.live is not None:
            try:
                self.live.feed_discord(name, pcm, t)
            except Exception:
                log.exception("live engine: feed failed for %s", name)

    def _name_for(self, user_id: int, name: str) -> str:
        """Members' display names, made unique within the meeting (two "Alex"es become "Alex" and "Alex (2)")."""
        taken = {n.lower() for n in self.names.values()}
        unique, n = name, 2
        while unique.lower() in taken:
            unique, n = f"{name} ({n})", n + 1
        self.names[user_id] = unique
        return unique

    def _add_speaker(self, user_id: int, name: str) -> None:
        with self.app.session() as s:
            discord_repo.add_speaker(s, self.row_id, str(user_id), name, f"{user_id}.ogg")

    # -- consent ---------------------------------------------------------------------------------------------------

    async def opt_out(self, user_id: int) -> None:
        """From now on nothing of theirs is kept; what was recorded of them is deleted, the engine forgets them."""
        self.excluded.add(user_id)
        self.sink.forget(user_id)
        await asyncio.to_thread(self.recorder.discard, user_id)
        name = self.names.get(user_id)
        if name is not None and self.live is not None:
            try:  # `forget`: what they said so far leaves the live transcript and findings too
                await asyncio.to_thread(functools.partial(self.live.drop_speaker, name, forget=True))
            except Exception:
                log.exception("live engine: dropping %s failed", name)
        await self.bot.db(self._drop_speaker, user_id)

    def opt_in(self, user_id: int) -> None:
        self.excluded.discard(user_id)
        self.recorder.allow(user_id)
        name = self.names.get(user_id)
        if name is not None and self.live is not None and hasattr(self.live, "allow_speaker"):
            self.live.allow_speaker(name)

    def _drop_speaker(self, user_id: int) -> None:
        with self.app.session() as s:
            discord_repo.drop_speaker(s, self.row_id, str(user_id))

    # -- running and stopping ----------------------------------------------------------------------------------------

    async def _flusher(self) -> None:
        while True:
            await asyncio.sleep(getattr(self.bot, "flush_every", FLUSH_EVERY))
            try:
                await asyncio.to_thread(self.recorder.flush)
            except Exception:
                log.exception("flushing meeting %s failed", self.row_id)

    async def stop(self) -> None:
        """Stop listening and leave the channel; the tracks are closed on disk, the last live lines posted."""
        self.ending = True
        if self.vc is not None:
            with contextlib.suppress(Exception):
                self.vc.stop_listening()
            with contextlib.suppress(Exception):
                await self.vc.disconnect(force=True)
        flusher = self.tasks[1]
        flusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flusher
        if self.live is not None:
            try:
                await asyncio.to_thread(self.live.close)
            except Exception:
                log.exception("closing the live engine failed")
        await self.poster.close()
        poster = self.tasks[0]
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(poster, 10)
        await asyncio.to_thread(self.recorder.close)


# -- the hand-off (blocking: run in the jobs pool) ------------------------------------------------------------------


def live_job_id(meeting_id: int) -> str:
    return f"discord-live-{meeting_id}"


def finish_meeting(app, meeting_id: int) -> tuple[str, str | None, list[str]]:
    """Submit a meeting's recorded tracks as a job; return (status, job id or the reason it was not submitted,
    the channel's deliveries left out and why).

    Safe to call twice (a restart while finishing): a submitted meeting is left alone, and the job id is fixed
    per meeting so a job submitted just before a crash is found rather than submitted again.
    """
    with app.session() as s:
        row = s.get(discord_repo.DiscordLiveMeeting, meeting_id)
        if row is None:
            return "missing", None, []
        if row.status not in discord_repo.LIVE_OPEN:
            return row.status, row.job_id or row.error, []
        row.status, row.ended_at = "finishing", row.ended_at or discord_repo.utcnow()
        ws = repo.workspace_by_id(s, row.workspace_id)
        excluded = discord_repo.opted_out(s, ws)
        names = {uid: v.get("name") for uid, v in (row.speakers or {}).items() if v.get("name")}
        folder = Path(app.settings.resolved_blob_dir) / row.folder
        thread = row.thread_id or row.text_channel_id
        started = row.started_at
        title, mtype, ws_id = row.title, row.type, row.workspace_id
        job_id = live_job_id(meeting_id)
        existing = jobs_repo.get_job(s, job_id) is not None
        intake = discord_repo.intake(s, job_id)  # where `/onno join` was typed (a thread: its parent channel)
        settings_channel = intake.channel_id if intake is not None else row.text_channel_id
    if existing:
        _mark(app, meeting_id, status="submitted", job_id=job_id)
        return "submitted", job_id, []
    # Read at the hand-off, not the start: a setting changed during the meeting applies to it.
    extra = channel_settings.delivery(app, ws_id, settings_channel)
    with tempfile.TemporaryDirectory(prefix="onno-discord-") as tmp:
        tracks = Path(tmp) / f"discord-meeting-{meeting_id}"
        speakers = build_tracks(folder, tracks, names=names, exclude=excluded) if folder.exists() else []
        if not speakers:
            _mark(app, meeting_id, status="empty", error="nobody spoke")
            shutil.rmtree(folder, ignore_errors=True)
            return "empty", "Nobody said anything I could record, so there are no notes.", []
        date = (started or dt.datetime.now(dt.UTC)).date()
        info = MeetingInfo(title=title, type=mtype, date=date, participants=speakers)
        try:
            # Gated when it started (live voice, minutes left), never half-way: its minutes count, it is not refused.
            app.runner.submit(tracks, info, targets=[discord_target(thread), *extra.targets], workspace=ws_id,
                              job_id=job_id, admitted=True, review_first=extra.review_first)
        except InputError as exc:  # unreadable tracks: the recording is kept, the reason goes to the thread
            reason = str(exc)
            _mark(app, meeting_id, status="failed", error=reason)
            return "failed", reason, []
    _mark(app, meeting_id, status="submitted", job_id=job_id)
    shutil.rmtree(folder, ignore_errors=True)  # the job keeps its own copy in the blob store
    return "submitted", job_id, extra.left_out


def _mark(app, meeting_id: int, **values) -> None:
    with app.session() as s:
        row = s.get(discord_repo.DiscordLiveMeeting, meeting_id)
        for k, v in values.items():
            setattr(row, k, v)
