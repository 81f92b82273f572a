"""Timed cues (from any caption format) to segments: markup out, rolling captions deduplicated, speakers found."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pipeline.transcripts import speakers
from pipeline.transcripts.markup import TAG, clean
from pipeline.types import Segment

SPEAKER_LINE_SHARE = 0.8
ROLLING_SHARE = 0.3  # of cues that repeat the previous cue's last line: YouTube's auto-captions do it in most


@dataclass
class Cue:
    """One caption as its file gives it: times in seconds, its text lines (with markup), a voice tag's name."""

    start: float
    end: float
    lines: list[str]
    voice: str | None = None


def cue_lines(cue: Cue) -> list[str]:
    return [text for text in (clean(line) for line in cue.lines) if text]


def rolling(cues: list[Cue], lines: list[list[str]]) -> bool:
    """YouTube-style auto-captions: each line shown again in the next cue, words timed inline."""
    if any(TAG.search(line) and "<c" in line for cue in cues[:20] for line in cue.lines):
        return True
    repeats = sum(1 for prev, cur in zip(lines, lines[1:], strict=False) if prev and cur and cur[0] == prev[-1])
    return len(cues) >= 3 and repeats >= ROLLING_SHARE * (len(cues) - 1)


def deduplicated(cues: list[Cue], lines: list[list[str]]) -> list[Segment]:
    """One segment per distinct spoken line, at the cue where it first appears, ending where it was last shown."""
    out: list[Segment] = []
    for cue, texts in zip(cues, lines, strict=True):
        for text in texts:
            recent = next((s for s in out[-2:] if s.text == text), None)
            if recent:
                recent.end = max(recent.end, cue.end)
            else:
                out.append(Segment(start=cue.start, end=max(cue.start, cue.end), text=text))
    return out


def speaker_line_names(lines: list[list[str]]) -> set[str]:
    """The names on cues' first lines when nearly every cue has one and a few names take turns (Teams text)."""
    multi = [ls for ls in lines if len(ls) > 1]
    heads = Counter(ls[0] for ls in multi if speakers.plausible(ls[0], loose=True) and speakers.named(ls[0]))
    if len(multi) < SPEAKER_LINE_SHARE * len(lines) or sum(heads.values()) < SPEAKER_LINE_SHARE * len(multi) \
            or len(heads) > max(2, len(multi) // 2):
        return set()
    return set(heads)


def to_segments(cues: list[Cue], *, speaker_lines: bool = False) -> list[Segment]:
    """Segments from cues; `speaker_lines`: a cue's first line may be its speaker's name (Teams text)."""
    lines = [cue_lines(c) for c in cues]
    if rolling(cues, lines):
        return deduplicated(cues, lines)
    named_lines = speaker_line_names(lines) if speaker_lines else set()
    items = []  # (cue, words, the speaker its markup or layout gives, a "Name:" label still to judge)
    for cue, ls in zip(cues, lines, strict=True):
        if len(ls) > 1 and ls[0] in named_lines:
            items.append((cue, " ".join(ls[1:]), ls[0], None))
        else:
            text = " ".join(ls)
            items.append((cue, text, cue.voice, None if cue.voice else speakers.split_label(text)))
    unmarked = [label for _, _, given, label in items if given is None]
    names = speakers.accepted([label[0] if label else None for label in unmarked], len(unmarked))
    out = []
    for cue, text, given, label in items:
        speaker = speakers.person(given) if given else None
        if label and label[0] in names:
            speaker, text = speakers.person(label[0]), label[1]
        if text:
            out.append(Segment(start=cue.start, end=max(cue.start, cue.end), text=text, speaker=speaker))
    return out
