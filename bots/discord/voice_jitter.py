"""One sender's packets put back in order and placed on the meeting's clock, as a voice client's jitter buffer does.

`JitterBuffer` releases packets in sequence order at once; when one is missing it waits briefly (a late packet is
put back in its place) and then gives that one up, only that one: the caller conceals it (FEC from the next
packet, else the decoder's packet-loss concealment). Duplicates are dropped without touching their neighbours.

`SenderClock` places a sender's RTP time (48 kHz, the sender's own sample clock) on the meeting's wall clock:
anchored on arrival, pulled back whenever the sender's clock runs ahead or behind, so speakers stay aligned.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

RTP_CLOCK = 48000
WAIT = 0.06  # seconds a missing packet is waited for (three frames) before it is given up
DEPTH = 10  # packets held behind a missing one before it is given up regardless
MAX_CONCEAL = 5  # lost frames in a row concealed by the decoder; a longer gap is silence
TOLERANCE = 0.02  # seconds a sender may sit late on the wall clock before its clock is pulled back
WINDOW = 100  # packets over which the earliest arrival is looked for (about 2 s of talk)
NEW_SPURT = 0.25  # seconds of RTP time skipped between two packets: the sender paused, re-anchor on arrival


def unwrap(value: int, reference: int, bits: int) -> int:
    """`value` (mod 2**bits) as the integer nearest `reference`: RTP sequence numbers and times wrap."""
    size = 1 << bits
    delta = (value - reference) % size
    if delta >= size // 2:
        delta -= size
    return reference + delta


@dataclass
class Counts:
    received: int = 0
    lost: int = 0
    late: int = 0
    duplicate: int = 0
    reordered: int = 0  # arrived after a later one, in time to be put back in its place


@dataclass
class JitterBuffer:
    """Packets of one SSRC by extended sequence number; `pop` gives them back in order, None for one given up."""

    wait: float = WAIT
    depth: int = DEPTH
    next_seq: int | None = None
    held: dict = field(default_factory=dict)  # seq -> (arrival, item)
    released: deque = field(default_factory=lambda: deque(maxlen=64))
    counts: Counts = field(default_factory=Counts)
    _ref: int | None = None

    def push(self, seq: int, now: float, make: Callable[[], object]) -> bool:
        """Hold a packet, its item made by `make()` only when it is wanted (a duplicate is never decrypted);
        False when it is a duplicate or arrived after it was given up."""
        ref = self.next_seq if self.next_seq is not None else self._ref
        ext = seq if ref is None else unwrap(seq, ref, 16)
        if ext in self.held or ext in self.released:
            self.counts.duplicate += 1
            return False
        if self.next_seq is not None and ext < self.next_seq:
            self.counts.late += 1
            return False
        if self._ref is not None and ext < self._ref:
            self.counts.reordered += 1
        self._ref = ext if self._ref is None else max(self._ref, ext)
        self.counts.received += 1
        self.held[ext] = (now, make())
        return True

    def pop(self, now: float, *, drain: bool = False) -> list[tuple[int, object | None]]:
        """Everything that can go now, in order: (seq, item), with item None for a packet given up."""
        out: list[tuple[int, object | None]] = []
        while self.held:
            first = min(self.held)
            if self.next_seq is None:  # the stream's start: wait a moment for an earlier packet to show up
                if not drain and now - self.held[first][0] < self.wait and len(self.held) < self.depth:
                    break
                self.next_seq = first
            if first == self.next_seq:
                out.append((first, self.held.pop(first)[1]))
                self.released.append(first)
                self.next_seq += 1
                continue
            oldest = min(arrival for arrival, _ in self.held.values())
            if not drain and now - oldest < self.wait and len(self.held) < self.depth:
                break
            missing = first - self.next_seq
            self.counts.lost += missing
            out.extend((s, None) for s in range(max(self.next_seq, first - MAX_CONCEAL), first))
            self.next_seq = first
        return out


@dataclass
class SenderClock:
    """A sender's RTP time as seconds on the meeting's clock."""

    offset: float | None = None
    last_ts: int | None = None
    _min_late: float = float("inf")
    _seen: int = 0
    corrections: int = 0

    def place(self, timestamp: int, arrival: float) -> float:
        """Where the packet stamped `timestamp` belongs, given it arrived at `arrival` (meeting seconds)."""
        ts = timestamp if self.last_ts is None else unwrap(timestamp, self.last_ts, 32)
        rtp = ts / RTP_CLOCK
        paused = self.last_ts is not None and (ts - self.last_ts) / RTP_CLOCK > NEW_SPURT
        self.last_ts = ts if self.last_ts is None else max(self.last_ts, ts)
        if self.offset is None:
            self.offset = arrival - rtp
        late = arrival - rtp - self.offset
        if late < 0:  # earlier than its place: the anchor sat late, or the sender's clock runs fast
            self.offset += late
            late = 0.0
        elif paused and late > TOLERANCE:  # a new talk spurt: its first packet shows where it really begins
            self.offset += late
            self.corrections += 1
            late = 0.0
        self._min_late = min(self._min_late, late)
        self._seen += 1
        if self._seen >= WINDOW:  # even the earliest arrivals came late: the sender's clock runs slow
            if self._min_late > TOLERANCE:
                self.offset += self._min_late
                self.corrections += 1
            self._min_late, self._seen = float("inf"), 0
        return rtp + self.offset
