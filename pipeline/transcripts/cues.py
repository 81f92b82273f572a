"""Timed cues (from any caption format) to segments: markup out, rolling captions deduplicated, speakers found."""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.transcripts import speakers
from pipeline.transcripts.markup import TAG, clean
from pipeline.types import Segment

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


def to_segments(cues: list[Cue], *, speaker_lines: bool = False) -> list[Segment]:
    """Segments from cues; `speaker_lines`: a cue's first line may be its speaker's name (Teams text)."""
    lines = [cue_lines(c) for c in cues]
    if rolling(cues, lines):
        return deduplicated(cues, lines)
    heads = [ls[0] if speaker_lines and len(ls) > 1 and speakers.plausible(ls[0], loose=True) else None
             for ls in lines]
    named_lines = speakers.accepted(heads, sum(1 for ls in lines if len(ls) > 1)) if speaker_lines else set()
    bodies, labels = [], []
    for cue, ls, head in zip(cues, lines, heads, strict=True):
        if head in named_lines:
            ls = ls[1:]
            labels.append(head)
            bodies.append(" ".join(ls))
            continue
        text = " ".join(ls)
        found = None if cue.voice else speakers.split_label(text)
        labels.append(cue.voice or (found[0] if found else None))
        bodies.append(text)
    voiced = sum(1 for c in cues if c.voice) + sum(1 for h in heads if h in named_lines)
    names = speakers.accepted([lab for lab, c in zip(labels, cues, strict=True) if not c.voice], len(cues) - voiced)
    out = []
    for cue, text, label, head in zip(cues, bodies, labels, heads, strict=True):
        speaker = None
        if cue.voice or (head and head in named_lines):
            speaker = speakers.person(label)
        elif label in names:
            speaker, text = speakers.person(label), speakers.split_label(text)[1]
        if text:
            out.append(Segment(start=cue.start, end=max(cue.start, cue.end), text=text, speaker=speaker))
    return out
