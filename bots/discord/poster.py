"""Live posting into the meeting's thread: transcript lines batched into message edits, findings as they come.

Discord allows about five edits of a message per five seconds and five messages per channel per five seconds, and
a message holds 2000 characters. So lines wait in a queue and go out once per `interval`: appended to the current
transcript message with one edit, a new message when the next lines would not fit. Suggested questions and
action items go out on the same tick, together in one new message, and the transcript carries on below them.
discord.py's own rate limiter waits out any 429 Discord still answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import discord

from integrations.discord.format import escape, pack, transcript_line

log = logging.getLogger(__name__)

LIMIT = 1900  # leave room under Discord's 2000 characters
FINDING_LABELS = {"suggested_question": "💡 Worth asking", "action_item": "📌 Action item",
                  "decision": "✅ Decision", "blocker": "🚧 Blocker", "ticket_update": "🎫 Ticket"}
NO_MENTIONS = discord.AllowedMentions.none()


def finding_line(ev: dict) -> str | None:
    """A new finding as one line; changed or removed ones (the engine revising itself) are not posted again."""
    label = FINDING_LABELS.get(ev.get("type", ""))
    if label is None or not ev.get("text") or ev.get("change", "new") != "new":
        return None
    finding = ev.get("finding") or {}
    extra = [str(x) for x in (finding.get("owner"), f"due {finding['due']}" if finding.get("due") else None) if x]
    tail = f" ({', '.join(escape(e) for e in extra)})" if extra else ""
    return f"{label}: {escape(ev['text'])}{tail}"


class LivePoster:
    """One per meeting. `add(event)` may be called from any thread; `run()` posts until `close()`."""

    def __init__(self, channel: discord.abc.Messageable, *, interval: float = 1.5,
                 loop: asyncio.AbstractEventLoop | None = None):
        self.channel = channel
        self.interval = interval
        self.loop = loop or asyncio.get_event_loop()
        self.lines: list[str] = []
        self.findings: list[str] = []
        self.lock = threading.Lock()
        self.current: discord.Message | None = None
        self.current_text = ""
        self.posted = 0
        self.edits = 0
        self._closing = asyncio.Event()
        self._flushing = asyncio.Lock()  # run() and close() never edit at once
        self._last_flush = float("-inf")

    def add(self, event: dict) -> None:
        """An event from the live engine (any thread)."""
        if event.get("type") == "transcript":
            text = (event.get("text") or "").strip()
            if not text:
                return
            line = transcript_line(event.get("speaker"), event.get("start"), text)
            with self.lock:
                self.lines.append(line[:LIMIT])
            return
        line = finding_line(event)
        if line:
            with self.lock:
                self.findings.append(line[:LIMIT])

    def note(self, text: str) -> None:
        """A line of our own (someone opted out, the engine is unavailable) in the flow of the transcript."""
        with self.lock:
            self.findings.append(text[:LIMIT])

    async def run(self) -> None:
        while not self._closing.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.interval)
            if self._closing.is_set():
                break  # close() posts what is left, at the same pace
            try:
                await self._paced_flush()
            except discord.HTTPException as exc:  # a failed post keeps its lines for the next tick
                log.warning("live post failed: %s", exc)

    async def close(self) -> None:
        self._closing.set()
        for _ in range(3):  # whatever is still queued, a tick apart so the edit pace holds
            with self.lock:
                if not self.lines and not self.findings:
                    return
            try:
                await self._paced_flush()
            except discord.HTTPException as exc:
                log.warning("final live post failed: %s", exc)

    async def _paced_flush(self) -> None:
        """One flush at a time, at least `interval` after the last one ended (close may come mid-tick)."""
        async with self._flushing:
            loop = asyncio.get_running_loop()
            wait = self._last_flush + self.interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                await self.flush()
            finally:
                self._last_flush = loop.time()

    async def flush(self) -> None:
        with self.lock:
            lines, self.lines = self.lines, []
            findings, self.findings = self.findings, []
        if lines:
            try:
                await self._post_lines(lines)
            except Exception:
                with self.lock:
                    self.lines[:0] = lines
                raise
        if findings:
            chunks = pack(findings, LIMIT)
            while chunks:
                try:
                    await self.channel.send(chunks[0], allowed_mentions=NO_MENTIONS)
                except Exception:
                    with self.lock:  # what was not posted waits for the next tick
                        self.findings[:0] = [line for chunk in chunks for line in chunk.split("\n")]
                    raise
                chunks.pop(0)
                self.posted += 1
            self.current, self.current_text = None, ""  # the transcript goes on below the findings

    async def _post_lines(self, lines: list[str]) -> None:
        text = self.current_text
        fits = []
        while lines and len(text) + 1 + len(lines[0]) <= LIMIT:
            text = f"{text}\n{lines[0]}" if text else lines[0]
            fits.append(lines.pop(0))
        try:
            if fits and self.current is not None:
                await self.current.edit(content=text, allowed_mentions=NO_MENTIONS)
                self.current_text = text
                self.edits += 1
            elif fits:
                self.current = await self.channel.send(text, allowed_mentions=NO_MENTIONS)
                self.current_text = text
                self.posted += 1
        except Exception:
            lines[:0] = fits  # the caller puts them back in the queue
            raise
        for chunk in pack(lines, LIMIT):  # what did not fit: new messages; the last one takes later edits
            self.current = await self.channel.send(chunk, allowed_mentions=NO_MENTIONS)
            self.current_text = chunk
            self.posted += 1
