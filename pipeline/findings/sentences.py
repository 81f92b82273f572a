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
    # Where each transcript segment inside the sentence starts: (character offset in `text`, seconds).
    marks: tuple[tuple[int, float], ...] = ()

    @property
    def is_question(self) -> bool:
        return self.text.rstrip().endswith("?")

    def time_at(self, offset: int) -> float:
        """When the words at a character offset were said: the start of the segment they came from."""
        when = self.start
        for at, t in self.marks:
            if at > offset:
                break
            when = t
        return when


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


# Someone else started talking at most this long before a speaker's previous segment ended: still an answer
# to it, so the speaker's next segment starts a new sentence.
OVERLAP_S = 0.2


class _Run:
    """Consecutive segments of one speaker (or of the unlabelled stream) joined into one text.

    Remembers which characters came from which segment, and where its last, possibly unfinished, sentence
    starts: text only ever grows at the end, so only that sentence is cut again when a segment arrives.
    """

    def __init__(self, speaker: str | None) -> None:
        self.speaker = speaker
        self.text = ""
        self.pieces: list[tuple[int, int, Segment]] = []  # char start, char end, segment
        self.ends: list[int] = []
        self.breaks: list[int] = []  # unlabelled: offsets where the speaker probably changed
        self.tail_begin = 0  # where the last sentence starts
        self.tail: list[Sentence] = []  # the sentences cut from text[tail_begin:]
        self.prev_begin: int | None = None  # start offset of the sentence before the tail

    def add(self, seg: Segment) -> bool:
        piece = " ".join(seg.text.split())
        if not piece:
            return False
        if self.text:
            # A segment that follows a finished sentence may be someone else talking (unlabelled speech only).
            if self.speaker is None and TERMINAL.search(self.pieces[-1][2].text.strip()):
                self.breaks.append(len(self.text) + 1)
            self.text += " "
        begin = len(self.text)
        self.text += piece
        self.pieces.append((begin, len(self.text), seg))
        self.ends.append(len(self.text))
        return True

    def time_at(self, offset: int) -> float:
        """Seconds at a character offset, interpolated within its segment at an even speaking rate."""
        at = min(bisect.bisect_right(self.ends, offset), len(self.pieces) - 1)
        begin, end, seg = self.pieces[at]
        share = min(max((offset - begin) / max(end - begin, 1), 0.0), 1.0)
        return round(seg.start + share * max(seg.end - seg.start, 0.0), 2)

    def cut_tail(self) -> list[tuple[Sentence, bool]]:
        """The sentences of text[tail_begin:] (the last one perhaps unfinished), each with whether it opens a turn.

        Sentences before the tail never change: a sentence boundary depends only on the text around it.
        """
        out: list[tuple[Sentence, bool]] = []
        prev_begin = self.prev_begin
        spans = split_sentences(self.text[self.tail_begin:])
        for n, (begin, end) in enumerate(spans):
            begin += self.tail_begin
            end += self.tail_begin
            begin += len(self.text[begin:end]) - len(self.text[begin:end].lstrip())
            # A turn break between the previous sentence's start and this one's: bisect keeps this linear.
            new_turn = prev_begin is None or \
                bisect.bisect_right(self.breaks, begin) > bisect.bisect_right(self.breaks, prev_begin)
            text = self.text[begin:end].strip()
            marks = tuple((b - begin, seg.start) for b, _, seg in self.pieces if begin < b < begin + len(text))
            sentence = Sentence(index=-1, text=text, start=self.time_at(begin),
                                end=self.time_at(max(end - 1, begin)), speaker=self.speaker, turn=-1, marks=marks)
            out.append((sentence, new_turn))
            if n < len(spans) - 1:
                prev_begin = begin
            else:
                self.tail_begin, self.prev_begin = begin, prev_begin
        return out


class SentenceBuilder:
    """Sentences of a meeting built one segment at a time; the batch engine feeds it a whole transcript.

    Each speaker's segments are joined before cutting sentences, so a sentence that a recogniser cut in two still
    reads whole. A labelled speaker's run ends when someone else talks between two of their segments: what they
    say after that is a new sentence, full stop or not (per-speaker tracks lose the punctuation there). Unlabelled
    speech is one stream, and a segment that follows a finished sentence is taken as a change of speaker.
    """

    def __init__(self) -> None:
        self.sentences: list[Sentence] = []
        self._runs: dict[str | None, _Run] = {}
        self._new_turn: dict[int, bool] = {}  # id(sentence) -> opens a turn (unlabelled speech)
        self._last_start: dict[str | None, float] = {}  # latest segment start per speaker
        self._last_end: dict[str | None, float] = {}
        self._seq = 0
        self._order: dict[int, int] = {}  # id(sentence) -> creation order, to keep equal starts stable

    def add(self, seg: Segment) -> int | None:
        """Take one segment; the index of the first sentence that changed (None when nothing did)."""
        if not seg.text or not seg.text.strip():
            return None
        speaker = seg.speaker
        run = self._runs.get(speaker)
        if run is not None and speaker is not None and self._someone_else_spoke(speaker, seg):
            run = None
        if run is None:
            run = self._runs[speaker] = _Run(speaker)
        self._last_start[speaker] = max(seg.start, self._last_start.get(speaker, seg.start))
        self._last_end[speaker] = max(seg.end, self._last_end.get(speaker, seg.end))
        old = run.tail
        run.add(seg)
        cut = run.cut_tail()
        run.tail = [s for s, _ in cut[-1:]]
        return self._replace(old, cut)

    def _someone_else_spoke(self, speaker: str, seg: Segment) -> bool:
        """Whether another speaker started talking after this speaker's last segment and before this one."""
        ended = self._last_end.get(speaker)
        if ended is None:
            return False
        return any(other != speaker and ended - OVERLAP_S <= start < seg.start
                   for other, start in self._last_start.items())

    def _replace(self, old: list[Sentence], cut: list[tuple[Sentence, bool]]) -> int:
        """Swap a run's old tail sentences for freshly cut ones; renumber from the first place that changed."""
        lo = len(self.sentences)
        for sentence in old:
            at = self._position(sentence)
            del self.sentences[at]
            self._new_turn.pop(id(sentence), None)
            self._order.pop(id(sentence), None)
            lo = min(lo, at)
        for sentence, new_turn in cut:
            self._seq += 1
            self._order[id(sentence)] = self._seq
            self._new_turn[id(sentence)] = new_turn
            key = (sentence.start, self._seq)
            at = len(self.sentences)
            while at > 0 and (self.sentences[at - 1].start, self._order[id(self.sentences[at - 1])]) > key:
                at -= 1
            self.sentences.insert(at, sentence)
            lo = min(lo, at)
        self._renumber(lo)
        return lo

    def _position(self, sentence: Sentence) -> int:
        for at in range(len(self.sentences) - 1, -1, -1):
            if self.sentences[at] is sentence:
                return at
        raise ValueError("sentence not in the meeting")

    def _renumber(self, lo: int) -> None:
        turn = self.sentences[lo - 1].turn if lo > 0 else -1
        for at in range(lo, len(self.sentences)):
            s = self.sentences[at]
            prev = self.sentences[at - 1] if at > 0 else None
            if prev is None or s.speaker != prev.speaker or (s.speaker is None and self._new_turn[id(s)]):
                turn += 1
            s.index, s.turn = at, turn


def build_sentences(segments: list[Segment]) -> list[Sentence]:
    """Cut a transcript into sentences that know their speaker, turn and start, in time order."""
    builder = SentenceBuilder()
    for seg in sorted((s for s in segments if s.text and s.text.strip()), key=lambda s: (s.start, s.end)):
        builder.add(seg)
    return builder.sentences
