"""After a restart: a meeting whose voice channel still has people in it is joined again and recorded on; one
whose recording was refused at the end has its audio removed once it has been kept long enough.

The rejoined meeting is the same row and the same folder: each member's track carries on after its last whole page
(`OggOpusWriter` reopens it), on a clock counted from when the meeting started, so the time the bot was away is
silence in every track and the tracks stay aligned.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import shutil
import time
from pathlib import Path

import discord

from bots.discord import commands as cmd
from bots.discord.meeting import LiveMeeting
from pipeline.types import MeetingInfo
from storage import discord as discord_repo
from storage import repository as repo

log = logging.getLogger(__name__)

KEEP_REFUSED = dt.timedelta(days=7)  # how long the audio of a meeting refused at its end is kept for a look


def since(started: dt.datetime):
    """Seconds since `started` (stored as naive UTC): the clock of a meeting that began before this process."""
    began = started.replace(tzinfo=dt.UTC).timestamp() if started.tzinfo is None else started.timestamp()
    return lambda: time.time() - began


def _details(app, row_id: int) -> dict | None:
    with app.session() as s:
        row = s.get(discord_repo.DiscordLiveMeeting, row_id)
        if row is None or row.status != "recording":
            return None
        ws = repo.workspace_by_id(s, row.workspace_id)
        return {"workspace_id": row.workspace_id, "guild_id": int(row.guild_id),
                "voice_id": int(row.voice_channel_id), "thread_id": int(row.thread_id or row.text_channel_id),
                "title": row.title, "type": row.type, "started": row.started_at, "board": repo.board(s, ws)}


async def rejoin(bot, row_id: int) -> bool:
    """Join the meeting's voice channel again if people are still in it; False when it is to be finished."""
    d = await bot.db(_details, bot.app, row_id)
    if d is None or d["guild_id"] in bot.meetings:
        return False
    guild = bot.get_guild(d["guild_id"])
    channel = guild.get_channel(d["voice_id"]) if guild is not None else None
    humans = [m for m in getattr(channel, "members", []) if not m.bot]
    if not humans:
        return False
    post_channel = bot.get_channel(d["thread_id"]) or bot.get_partial_messageable(d["thread_id"])
    started = d["started"] or dt.datetime.now(dt.UTC)
    info = MeetingInfo(title=d["title"], type=d["type"], date=started.date(),
                       participants=[m.display_name for m in humans])
    opted = await bot.db(cmd.opted_out, bot.app, d["workspace_id"])
    clock = bot.clock_factory() if bot.clock_factory else since(started)
    meeting = LiveMeeting(bot, row_id=row_id, workspace_id=d["workspace_id"], guild_id=guild.id,
                          voice_channel_id=channel.id, post_channel=post_channel, info=info, board=d["board"],
                          opted_out=opted, clock=clock)
    bot.meetings[guild.id] = meeting
    try:
        meeting.vc = await bot.connect_voice(channel)
        meeting.vc.listen(meeting.sink)
    except Exception as exc:
        log.warning("rejoining meeting %s failed (%s); finishing it instead", row_id, exc)
        bot.meetings.pop(guild.id, None)
        await meeting.stop()
        return False
    log.info("rejoined meeting %s in %s after a restart", row_id, channel)
    await bot._set_nick(guild, cmd.RECORDING_NICK)
    with contextlib.suppress(discord.HTTPException):
        await post_channel.send("🔁 I was restarted in the middle of this meeting and have joined again; what was "
                                "said while I was away is not in the notes.",
                                allowed_mentions=discord.AllowedMentions.none())
    return True


def clean_refused(app, *, now: dt.datetime | None = None) -> int:
    """Delete the kept audio of meetings refused (or failed) at their end once `KEEP_REFUSED` has passed."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    removed = 0
    with app.session() as s:
        q = discord_repo.DiscordLiveMeeting
        for row in s.query(q).filter(q.status == "failed").all():
            folder = Path(app.settings.resolved_blob_dir) / row.folder if row.folder else None
            ended = row.ended_at or row.started_at
            if folder is None or not folder.exists() or ended is None:
                continue
            if now - ended.replace(tzinfo=None) >= KEEP_REFUSED:
                shutil.rmtree(folder, ignore_errors=True)
                row.error = ((row.error or "") + " (audio deleted after 7 days)")[:2000]
                removed += 1
    if removed:
        log.info("deleted the kept audio of %d refused meeting(s)", removed)
    return removed
