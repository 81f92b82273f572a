"""One meeting as it happens: per-speaker audio in, transcript lines and findings out as events.

    pool = TranscriptionPool(live_transcriber(settings.whisper))   # one per process, shared by every meeting
    pool.warm_up()
    session = LiveSession(info, board, pool.transcriber, on_event=post, pool=pool)
    session.feed_discord("Maya", packet_pcm)                 # or feed(speaker, pcm16k, t)
    ...
    transcript = session.close()                             # flushes, waits, returns every segment

Audio is cut into utterances per speaker (pipeline.live.vad); each finished utterance is transcribed on the pool,
then goes through the incremental findings engine (pipeline.findings.live), and `on_event` gets one event for the
transcript line and one per finding it added, changed or removed.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

import numpy as np

from pipeline.decode import SAMPLE_RATE
from pipeline.findings.live import FindingsDelta, LiveFindings
from pipeline.live.audio import Downsampler
from pipeline.live.pool import Job, TranscriptionPool
from pipeline.live.vad import Segmenter, SegmenterConfig, Utterance
from pipeline.transcribe import Transcriber
from pipeline.types import Findings, MeetingInfo, Segment, Ticket

log = logging.getLogger(__name__)

# Findings list -> event type. Follow-ups (a question nobody answered, to raise again) are suggested questions too.
EVENT_TYPES = {
    "suggested_questions": "suggested_question",
    "follow_ups": "suggested_question",
    "action_items": "action_item",
    "questions": "question",
    "decisions": "decision",
    "blockers": "blocker",
    "ticket_updates": "ticket_update",
    "metrics": "metric",
}
# With no audio from a speaker (Discord sends none while someone is quiet), silence is assumed from their last audio
# up to this long before the clock's now, leaving room for packets that arrive late.
TICK_SLACK = 0.2
TICK_EVERY = 0.1

Event = dict
OnEvent = Callable[[Event], None]


class LiveSession:
    """A live meeting (see the module docstring). `feed`, `feed_discord`, `tick` and `drop_speaker` may be called
    from any thread; `on_event` is called on a pool thread, one event at a time per session, in order per speaker.
    It must not block for long (hand the event to your own loop, e.g. `loop.call_soon_threadsafe`) and must not
    call `close()`.

    Times are seconds since the meeting began: `t` given to `feed`, and every time in events. `clock` says what
    time it is now (default: seconds since this session was created), for `emitted_at`, for `feed` without `t`,
    and for `tick`, which with `auto_tick` runs every 100 ms so that a speaker who went quiet (and sends nothing)
    has their utterance ended anyway.
    """

    def __init__(self, info: MeetingInfo, board: list[Ticket], transcriber: Transcriber, *, on_event: OnEvent,
                 pool: TranscriptionPool | None = None, config: SegmenterConfig | None = None,
                 clock: Callable[[], float] | None = None, auto_tick: bool = True) -> None:
        self.info = info
        self.on_event = on_event
        self.config = config or SegmenterConfig()
        self._own_pool = pool is None
        self.pool = pool or TranscriptionPool(transcriber)
        began = time.monotonic()
        self.clock = clock or (lambda: time.monotonic() - began)
        self.live = LiveFindings(info, board)
        self._segmenters: dict[str, Segmenter] = {}
        self._downsamplers: dict[str, Downsampler] = {}
        self._dropped: set[str] = set()
        self._arrived: dict[str, tuple[float, float]] = {}  # per speaker: (clock, stream time) at the last audio
        self._audio_lock = threading.RLock()
        self._emit_lock = threading.Lock()
        self._next: dict[str, int] = {}  # per speaker: the utterance number to publish next
        self._ready: dict[str, dict[int, tuple[Utterance, str]]] = {}
        self._outstanding = 0
        self._idle = threading.Condition(threading.Lock())
        self._segments: list[Segment] = []
        self.utterances = 0
        self.closed = False
        self._stop = threading.Event()
        self._ticker = None
        if auto_tick:
            self._ticker = threading.Thread(target=self._tick_loop, name="onno-live-tick", daemon=True)
            self._ticker.start()

    # --- audio in -----------------------------------------------------------------------------------------------

    def now(self) -> float:
        """Seconds since the meeting began, by this session's clock."""
        return self.clock()

    def feed(self, speaker: str, pcm: np.ndarray, t: float | None = None) -> None:
        """Take a chunk of one speaker's 16 kHz mono float32 audio that began at meeting time `t` (default: it
        just ended, by the clock)."""
        pcm = np.asarray(pcm, dtype=np.float32).reshape(-1)
        if t is None:
            t = self.now() - len(pcm) / SAMPLE_RATE
        with self._audio_lock:
            if self.closed or speaker in self._dropped:
                return
            seg = self._segmenters.get(speaker)
            if seg is None:
                seg = self._segmenters[speaker] = Segmenter(speaker, self.config)
                with self._emit_lock:
                    self._next.setdefault(speaker, 0)
                    self._ready.setdefault(speaker, {})
            self._send(seg.feed(pcm, t))
            self._arrived[speaker] = (self.now(), seg.buffered_until)

    def feed_discord(self, speaker: str, data: bytes, t: float | None = None) -> None:
        """Take a chunk of Discord voice audio: 48 kHz stereo signed 16-bit little-endian PCM (what discord.py's
        voice receive gives a sink after Opus decoding)."""
        with self._audio_lock:
            if self.closed or speaker in self._dropped:
                return
            down = self._downsamplers.setdefault(speaker, Downsampler())
            pcm = down(data)
        if t is None:
            t = self.now() - len(pcm) / SAMPLE_RATE
        self.feed(speaker, pcm, t)

    def tick(self, now: float | None = None) -> None:
        """A speaker who sent nothing for a while (less a little slack for late packets) has been silent that long:
        their utterance ends once the silence is long enough. `now` defaults to the clock.

        The silence is measured by the clock from when their last audio arrived, and added to their stream after
        that audio, so a sender whose `t` runs a little behind or ahead of the clock is not cut short.
        """
        now = self.now() if now is None else now
        with self._audio_lock:
            if self.closed:
                return
            for speaker, seg in self._segmenters.items():
                if not seg.speaking or speaker not in self._arrived:
                    continue
                arrived, until = self._arrived[speaker]
                target = until + (now - arrived) - TICK_SLACK
                if target > seg.buffered_until:
                    self._send(seg.silence_until(target))

    def drop_speaker(self, name: str, *, forget: bool = False) -> None:
        """Stop listening to `name` (opted out): audio held or waiting for transcription is discarded and later
        audio ignored. With `forget`, what they said so far also leaves the transcript and the findings."""
        with self._audio_lock:
            self._dropped.add(name)
            seg = self._segmenters.get(name)
            if seg is not None:
                seg.discard()
            cancelled = self.pool.cancel(lambda j: j.owner is self and j.utterance.speaker == name)
            with self._emit_lock:
                if seg is not None:
                    # Results still on their way (numbered below this) are thrown away when they arrive.
                    self._next[name] = seg.next_seq
                    self._ready[name] = {}
                if forget:
                    self._segments = [s for s in self._segments if s.speaker != name]
                    self.live = LiveFindings(self.info, self.live.tickets)
                    for s in sorted(self._segments, key=lambda s: s.start):
                        self.live.add(s)
            self._finished(len(cancelled))

    def allow_speaker(self, name: str) -> None:
        """Listen to `name` again (opted back in)."""
        with self._audio_lock:
            self._dropped.discard(name)

    # --- results ------------------------------------------------------------------------------------------------

    def transcript(self) -> list[Segment]:
        """The transcript so far, in time order."""
        with self._emit_lock:
            return sorted(self._segments, key=lambda s: (s.start, s.end))

    def findings(self) -> Findings:
        """All findings so far (with the summary), as the batch engine would give them for the transcript."""
        with self._emit_lock:
            return self.live.findings()

    def close(self, timeout: float | None = None) -> list[Segment]:
        """End the meeting: the utterances under way end, everything queued is transcribed and published; return
        the whole transcript. Waits at most `timeout` seconds for the transcription."""
        with self._audio_lock:
            if not self.closed:
                for seg in self._segmenters.values():
                    self._send(seg.flush())
                self.closed = True
        self._stop.set()
        with self._idle:
            finished = self._idle.wait_for(lambda: self._outstanding == 0, timeout=timeout)
        if self._own_pool:
            self.pool.close(wait=finished)
        return self.transcript()

    # --- inside -------------------------------------------------------------------------------------------------

    def _send(self, utterances: list[Utterance]) -> None:
        for u in utterances:
            with self._idle:
                self._outstanding += 1
            self.utterances += 1
            self.pool.submit(Job(u, self.info.language, self._deliver, owner=self))

    def _finished(self, n: int) -> None:
        if n:
            with self._idle:
                self._outstanding -= n
                self._idle.notify_all()

    def _deliver(self, u: Utterance, text: str) -> None:
        """A transcribed utterance (on a pool thread): publish it and whatever of the same speaker it unblocks."""
        try:
            with self._emit_lock:
                if u.seq < self._next.get(u.speaker, 0) or u.speaker in self._dropped:
                    return
                ready = self._ready.setdefault(u.speaker, {})
                ready[u.seq] = (u, text)
                while self._next[u.speaker] in ready:
                    done, said = ready.pop(self._next[u.speaker])
                    self._next[u.speaker] += 1
                    if said:
                        self._publish(done, said)
        finally:
            self._finished(1)

    def _publish(self, u: Utterance, text: str) -> None:
        segment = Segment(start=round(u.start, 2), end=round(u.end, 2), text=text, speaker=u.speaker)
        self._segments.append(segment)
        self._emit({"type": "transcript", "speaker": u.speaker, "text": text, "start": segment.start,
                    "end": segment.end})
        try:
            delta = self.live.add(segment)
        except Exception:  # the transcript must go on even if a detector trips on odd text
            log.exception("live findings failed on %r", text)
            return
        for event in finding_events(delta, segment):
            self._emit(event)

    def _emit(self, event: Event) -> None:
        event["emitted_at"] = round(self.now(), 3)
        try:
            self.on_event(event)
        except Exception:
            log.exception("on_event failed for a %s event", event.get("type"))

    def _tick_loop(self) -> None:
        while not self._stop.wait(TICK_EVERY):
            try:
                self.tick()
            except Exception:
                log.exception("live tick failed")


def finding_events(delta: FindingsDelta, segment: Segment) -> list[Event]:
    """One event per finding the segment added, changed or removed. `start` is where the finding was said (the
    segment's start for a checklist topic it covered); `end` the end of the segment that brought the news."""
    events = []
    for change, part in (("new", delta.new), ("changed", delta.changed), ("removed", delta.removed)):
        for kind, type_ in EVENT_TYPES.items():
            for x in getattr(part, kind):
                start = x.start if x.start is not None else segment.start
                finding = x.to_dict() if hasattr(x, "to_dict") else dataclasses.asdict(x)
                events.append({"type": type_, "change": change, "speaker": x.speaker or segment.speaker,
                               "text": finding_text(x), "start": start, "end": segment.end, "finding": finding})
    return events


def finding_text(x) -> str:
    """A finding in one line."""
    if hasattr(x, "key"):  # a ticket update
        return f"{x.key}: {x.from_status} -> {x.to}"
    if hasattr(x, "value"):  # a metric
        return x.evidence or f"{x.name} {x.value:g} {x.unit}".strip()
    return x.text
