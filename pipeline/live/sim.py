"""Play per-speaker track folders into live sessions on a clock, as a voice-channel bot would receive them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pipeline.decode import SAMPLE_RATE, decode_audio
from pipeline.live.pool import TranscriptionPool
from pipeline.live.session import LiveSession
from pipeline.live.vad import SegmenterConfig
from pipeline.run import track_files
from pipeline.types import MeetingInfo, Ticket

CHUNK_S = 0.02  # what a voice client sends: 20 ms of audio per packet


@dataclass
class Meeting:
    """A tracks folder to play: its name in the events and each speaker's decoded audio."""

    name: str
    tracks: dict[str, np.ndarray]
    info: MeetingInfo
    board: list[Ticket] = field(default_factory=list)

    @property
    def samples(self) -> int:
        return max(len(a) for a in self.tracks.values())


def load_meeting(folder: Path, info: MeetingInfo, board: list[Ticket] | None = None,
                 name: str | None = None) -> Meeting:
    """Decode every track of a folder (one file per speaker, named after them, all starting together)."""
    tracks = {f.stem: decode_audio(f) for f in track_files(folder)}
    if not info.participants:
        info.participants = sorted(tracks)
    return Meeting(name or folder.name, tracks, info, list(board or []))


@dataclass
class SimStats:
    """What a simulation did, for a summary."""

    seconds: float = 0.0  # wall time
    events: dict[str, dict[str, int]] = field(default_factory=dict)  # meeting -> event type -> count
    utterances: dict[str, int] = field(default_factory=dict)
    transcribed: int = 0
    busy_seconds: float = 0.0
    max_lag: float = 0.0  # how far (meeting seconds) feeding fell behind the clock at worst


def simulate(meetings: list[Meeting], pool: TranscriptionPool, *, speed: float = 1.0,
             emit: Callable[[str, dict], None], config: SegmenterConfig | None = None) -> SimStats:
    """Feed all meetings at once, in chunks of 20 ms of wall time, each starting at the same moment; `emit` gets
    (meeting name, event) for every event. Returns when every meeting has ended and been transcribed.

    At `speed` X each chunk holds 20 ms × X of audio, so the feeding cost stays the same at any speed; times in
    the events are meeting seconds (wall seconds × X).
    """
    stats = SimStats()
    began = time.monotonic()

    def clock() -> float:
        return (time.monotonic() - began) * speed

    sessions: dict[str, LiveSession] = {}
    for m in meetings:
        stats.events[m.name] = {}

        def on_event(event: dict, name: str = m.name) -> None:
            counts = stats.events[name]
            counts[event["type"]] = counts.get(event["type"], 0) + 1
            emit(name, event)

        sessions[m.name] = LiveSession(m.info, m.board, pool.transcriber, on_event=on_event, pool=pool,
                                       config=config, clock=clock, auto_tick=False)
    closers: list[threading.Thread] = []
    open_meetings = list(meetings)
    step = CHUNK_S * speed * SAMPLE_RATE  # samples per chunk
    k = 0
    while open_meetings:
        due = began + (k + 1) * CHUNK_S  # a chunk can be sent once its audio has been spoken
        wait = due - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        lo, hi = round(k * step), round((k + 1) * step)
        stats.max_lag = max(stats.max_lag, clock() - hi / SAMPLE_RATE)
        for m in list(open_meetings):
            session = sessions[m.name]
            for speaker, audio in m.tracks.items():
                if lo < len(audio):
                    session.feed(speaker, audio[lo:hi], lo / SAMPLE_RATE)
            if hi >= m.samples:
                open_meetings.remove(m)
                closer = threading.Thread(target=session.close, name=f"close-{m.name}")
                closer.start()
                closers.append(closer)
        k += 1
    for closer in closers:
        closer.join()
    stats.seconds = time.monotonic() - began
    stats.utterances = {name: s.utterances for name, s in sessions.items()}
    stats.transcribed = pool.transcribed
    stats.busy_seconds = pool.busy_seconds
    return stats
