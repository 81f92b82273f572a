"""Normalise transcript segments into sentences that know their speaker, turn and start time."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from pipeline.types import Segment

TERMINAL = re.compile(r"[.?!][\"')\]]*$")
# Where one sentence ends and the next begins: after ? or !, or after a full stop before a capital.
BOUNDARY = re.compile(r"(?<=[?!])[\"')\]]*\s+|(?<=\.)[\"')\]]*\s+(?=[\"'(\[]?[A-Za-z0-9$£€])")
ABBREVIATION = re.compile(r"\b(?:mr|mrs|ms|dr|st|vs|etc|approx|no|e\.g|i\.e|inc|ltd|jr|sr)\.$", re.I)


@dataclass
class Sentence:
    """One sentence of the meeting with where it came from."""

    index: int
    text: str
    start: float
    end: float
    speaker: str | None
    turn: int

    @property
    def is_question(self) -> bool:
        return self.text.rstrip().endswith("?")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences in a stretch of text."""
    spans: list[tuple[int, int]] = []
    begin = 0
    for m in BOUNDARY.finditer(text):
        if ABBREVIATION.search(text[begin:m.start()]):
            continue
        if text[begin:m.start()].strip():
            spans.append((begin, m.start()))
        begin = m.end()
    if text[begin:].strip():
        spans.append((begin, len(text)))
    return spans


class _Run:
    """Consecutive segments joined into one text, remembering which characters came from which segment."""

    def __init__(self, speaker: str | None) -> None:
        self.speaker = speaker
        self.text = ""
        self.pieces: list[tuple[int, int, Segment]] = []  # char start, char end, segment
        self.ends: list[int] = []

    def add(self, seg: Segment) -> None:
        piece = " ".join(seg.text.split())
        if not piece:
            return
        if self.text:
            self.text += " "
        begin = len(self.text)
        self.text += piece
        self.pieces.append((begin, len(self.text), seg))
        self.ends.append(len(self.text))

    def time_at(self, offset: int) -> float:
        """Seconds at a character offset, interpolated within its segment at an even speaking rate."""
        at = min(bisect.bisect_right(self.ends, offset), len(self.pieces) - 1)
        begin, end, seg = self.pieces[at]
        share = min(max((offset - begin) / max(end - begin, 1), 0.0), 1.0)
        return round(seg.start + share * max(seg.end - seg.start, 0.0), 2)

    def turn_breaks(self) -> set[int]:
        """Offsets where an unlabelled speaker probably changed: a segment that follows a finished sentence."""
        breaks = set()
        for (_, _, prev), (begin, _, _seg) in zip(self.pieces, self.pieces[1:], strict=False):
            if TERMINAL.search(prev.text.strip()):
                breaks.add(begin)
        return breaks


def build_sentences(segments: list[Segment]) -> list[Sentence]:
    """Cut each speaker's speech into sentences, then interleave them in time order and number the turns.

    A labelled speaker's segments are joined on their own first, so a sentence that a recogniser cut in two
    still reads whole when someone else's segment starts in between (per-speaker tracks do that). Unlabelled
    speech is one stream, and a segment that follows a finished sentence is taken as a change of speaker.
    """
    ordered = sorted((s for s in segments if s.text and s.text.strip()), key=lambda s: (s.start, s.end))
    runs: dict[str | None, _Run] = {}
    pieces: list[tuple[float, int, str, float, str | None, bool]] = []  # start, order, text, end, speaker, new turn
    for seg in ordered:
        runs.setdefault(seg.speaker, _Run(seg.speaker)).add(seg)
    for speaker, run in runs.items():
        breaks = sorted(run.turn_breaks()) if speaker is None else []
        prev_begin = None
        for begin, end in split_sentences(run.text):
            begin += len(run.text[begin:end]) - len(run.text[begin:end].lstrip())
            # A turn break between the previous sentence's start and this one's: bisect keeps this linear.
            new_turn = prev_begin is None or \
                bisect.bisect_right(breaks, begin) > bisect.bisect_right(breaks, prev_begin)
            prev_begin = begin
            pieces.append((run.time_at(begin), len(pieces), run.text[begin:end].strip(),
                           run.time_at(max(end - 1, begin)), speaker, new_turn))
    pieces.sort()
    sentences: list[Sentence] = []
    turn = -1
    for start, _, text, end, speaker, new_turn in pieces:
        if not sentences or speaker != sentences[-1].speaker or (speaker is None and new_turn):
            turn += 1
        sentences.append(Sentence(index=len(sentences), text=text, start=start, end=end, speaker=speaker,
                                  turn=turn))
    return sentences

