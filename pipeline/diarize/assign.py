"""Words to speakers by time (as whisperX's assign_word_speakers): a turn change inside a segment splits it."""

from __future__ import annotations

import bisect
import re

from pipeline.diarize.turns import Turn
from pipeline.transcribe import Piece, Word, split_words
from pipeline.types import Segment


def anonymous(speaker: int) -> str:
    """The label of a speaker nobody has named yet: 'Speaker 1' is the first to talk."""
    return f"Speaker {speaker + 1}"


def is_anonymous(speaker: str) -> bool:
    """Whether a speaker label is one nobody has named yet."""
    return re.fullmatch(r"Speaker \d+", speaker) is not None


class Timeline:
    """Speaker turns in time order, asked which speaker a span of time belongs to."""

    def __init__(self, turns: list[Turn]) -> None:
        self.turns = sorted(turns, key=lambda t: t.start)
        self.starts = [t.start for t in self.turns]

    def speaker(self, start: float, end: float) -> int | None:
        """The speaker who talks most within [start, end]; else the nearest turn's (words in gaps)."""
        if not self.turns:
            return None
        i = bisect.bisect_right(self.starts, end)
        talk: dict[int, float] = {}
        j = i - 1
        # Turns do not overlap, so walking back from the last turn that starts before `end` finds them all.
        while j >= 0 and self.turns[j].end > start:
            t = self.turns[j]
            talk[t.speaker] = talk.get(t.speaker, 0.0) + min(end, t.end) - max(start, t.start)
            j -= 1
        if talk:
            return max(talk, key=talk.__getitem__)
        near = [t for t in self.turns[max(0, i - 1):i + 1]]
        return min(near, key=lambda t: max(t.start - end, start - t.end, 0.0)).speaker


def speaker_segments(pieces: list[Piece], turns: list[Turn]) -> list[Segment]:
    """Segments whose words all belong to one speaker, labelled 'Speaker N' (N by order of first speaking)."""
    timeline = Timeline(turns)
    order: dict[int, int] = {}
    segments: list[Segment] = []
    for piece in pieces:
        if not piece.words:
            # No word times (the recogniser gave none): the piece stays whole, with the voice of its span.
            if piece.text:
                segments.append(Segment(start=round(piece.start, 2), end=round(piece.end, 2), text=piece.text,
                                        speaker=label(timeline.speaker(piece.start, piece.end), order)))
            continue
        run: list[Word] = []
        who: int | None = None
        for word in piece.words:
            speaker = timeline.speaker(word.start, word.end)
            if run and speaker != who:
                segments += split_words(run, speaker=label(who, order), at_sentence_end=False)
                run = []
            run.append(word)
            who = speaker
        if run:
            segments += split_words(run, speaker=label(who, order), at_sentence_end=False)
    return segments


def label(speaker: int | None, order: dict[int, int]) -> str | None:
    if speaker is None:
        return None
    return anonymous(order.setdefault(speaker, len(order)))
