"""A live meeting's voice link watched: a dead one is reconnected, and the thread told how much audio was lost.

discord.py reconnects on the close codes it knows, but a voice websocket whose poll loop ended on an error, or one
that stopped answering heartbeats, stays dead with the bot still shown in the channel. The watchdog looks every few
seconds (`OnnoVoiceClient.health`), leaves and joins again with the same sink, and posts one short line once audio
flows again. Gaps inside a working link (frames that would not decrypt while DAVE re-keyed) get the same line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import discord

log = logging.getLogger(__name__)

CHECK_EVERY = 5.0  # seconds between looks at the voice link
RETRY_MAX = 60.0  # seconds between reconnect attempts at most
NOTICE_MIN = 1.0  # seconds of lost audio worth telling the thread about


def lost_notice(seconds: float, why: str) -> str:
    """The thread's line about a gap in the recording."""
    if why == "decrypt_ongoing":
        return (f"⚠️ For {seconds:.0f} s I haven't been able to decrypt the audio (Discord's end-to-end "
                "encryption); I'm asking Discord to let me back in and will say when it works again.")
    cause = {"decrypt": "while Discord's end-to-end encryption was re-keyed",
             "link": "while the voice connection was down"}.get(why, why)
    return f"⚠️ About {seconds:.0f} s of audio were lost {cause}; recording goes on."


class VoiceWatch:
    """Reconnects `meeting.vc` when it dies; `meeting` is a LiveMeeting (its bot, sink, channel and poster)."""

    def __init__(self, meeting, *, every: float = CHECK_EVERY):
        self.meeting = meeting
        self.every = every
        self.reconnecting = False
        self.reconnects = 0
        self.lost_seconds = 0.0
        self.last_ok: float | None = None  # meeting time of the last look that found the link working

    def gap(self, seconds: float, why: str) -> None:
        """Audio was lost for `seconds` (from any thread): one line in the meeting's thread."""
        if why != "decrypt_ongoing":  # counted once it is over
            self.lost_seconds += seconds
        log.info("voice: %.1f s of audio lost (%s) in meeting %s", seconds, why, self.meeting.row_id)
        if seconds < NOTICE_MIN or self.meeting.ending:
            return
        post = self.meeting.post_channel.send(lost_notice(seconds, why),
                                              allowed_mentions=discord.AllowedMentions.none())
        asyncio.run_coroutine_threadsafe(_quietly(post), self.meeting.loop)

    async def run(self) -> None:
        while not self.meeting.ending:
            await asyncio.sleep(self.every)
            vc = self.meeting.vc
            health = getattr(vc, "health", None)
            reason = health() if health is not None else None
            if reason is None:
                self.last_ok = self.meeting.clock()
                continue
            # Dead at two looks in a row: a disconnect Discord meant (kicked, channel deleted) ends the meeting
            # through the voice state update in between, and is not undone here.
            await asyncio.sleep(self.every)
            if not self.meeting.ending and vc is self.meeting.vc and health() is not None:
                await self.reconnect(reason)

    async def reconnect(self, reason: str) -> None:
        """Leave and join again until it works (or the meeting ends); the sink and its tracks carry on."""
        m = self.meeting
        log.warning("voice: the link of meeting %s is dead (%s); reconnecting", m.row_id, reason)
        # It died after the last look that found it well (or at the last packet heard, if that was later).
        lost_at = max(m.sink.last_heard, self.last_ok if self.last_ok is not None else m.clock() - self.every)
        self.reconnecting = True
        delay = 1.0
        try:
            while not m.ending:
                with contextlib.suppress(Exception):
                    m.vc.stop_listening()
                with contextlib.suppress(Exception):
                    await m.vc.disconnect(force=True)
                channel = m.bot.get_channel(m.voice_channel_id)
                try:
                    if channel is None:
                        raise RuntimeError("the voice channel is gone")
                    m.vc = await m.bot.connect_voice(channel)
                    m.vc.listen(m.sink)
                except Exception as exc:
                    log.warning("voice: reconnecting meeting %s failed (%s); again in %.0f s", m.row_id, exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
                    continue
                self.reconnects += 1
                log.info("voice: meeting %s reconnected", m.row_id)
                self.gap(m.clock() - lost_at, "link")
                return
        finally:
            self.reconnecting = False


async def _quietly(coro) -> None:
    with contextlib.suppress(discord.HTTPException):
        await coro
