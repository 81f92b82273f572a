"""Names for the voices of a mixed recording, from what is said: introductions and being spoken to."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from pipeline.findings.people import People
from pipeline.types import Segment

SENTENCE = re.compile(r"(?<=[.?!])\s+")
THANKS = re.compile(r"^\s*(?:ok(?:ay)?,?\s+)?(?:thanks|thank\s+you|cheers|great|perfect|nice)\b", re.I)
# How much one cue counts: saying one's own name outweighs being spoken to.
INTRO, ADDRESSED, NOT_SELF, MENTIONED = 3.0, 1.0, 2.0, 1.0


def intro_cue(people: People) -> re.Pattern:
    """'Hi, it's Maya', 'I'm Maya', 'this is Maya', 'Maya here' (and not "it's Maya's ticket")."""
    name = rf"({people.pattern})\b(?!['’]s)"
    return re.compile(rf"\b(?:I'm|I\s+am|it's|it\s+is|this\s+is|my\s+name\s+is|name's)\s+{name}|\b{name}\s+here\b")


def opener_cue(people: People) -> re.Pattern:
    """A name right after an opening word: 'Okay Josh, …', 'Hi Josh, good to see you', 'So Lena …'."""
    return re.compile(rf"^\s*(?i:okay|ok|right|so|and|now|hi|hey|hello|morning|good\s+morning)\s*,?\s+"
                      rf"({people.pattern})\b(?!['’]s)|\b(?i:let's\s+have|over\s+to)\s+({people.pattern})\b")


def other_speaker(segments: list[Segment], i: int, step: int) -> str | None:
    """The speaker of the nearest segment before (step -1) or after (step 1) segment i who is not its speaker."""
    j = i + step
    while 0 <= j < len(segments):
        if segments[j].speaker != segments[i].speaker:
            return segments[j].speaker
        j += step
    return None


def votes(segments: list[Segment], people: People) -> dict[str, dict[str, float]]:
    """For each voice, how strongly what was said points at each participant's name."""
    intro, opener = intro_cue(people), opener_cue(people)
    tally: dict[str, dict[str, float]] = {}

    def add(voice: str | None, name: str | None, weight: float) -> None:
        if voice and name:
            row = tally.setdefault(voice, {})
            row[name] = row.get(name, 0.0) + weight

    for i, seg in enumerate(segments):
        for sentence in SENTENCE.split(seg.text):
            introduced = {people.canonical(m.group(1) or m.group(2)) for m in intro.finditer(sentence)}
            for name in introduced:
                add(seg.speaker, name, INTRO)
            m = opener.search(sentence)
            called = people.vocative(sentence) or people.trailing_vocative(sentence) or (
                people.canonical(m.group(1) or m.group(2)) if m else None)
            # People speak of others by name, hardly ever of themselves ("Lucy is going to show us…").
            for name in set(people.mentioned(sentence)) - introduced - {called}:
                add(seg.speaker, name, -MENTIONED)
            if not called:
                continue
            add(seg.speaker, called, -NOT_SELF)  # nobody speaks to themselves by name
            # "Thanks, Daniel" answers the one who just spoke; "Lena, can you…" asks the one who speaks next.
            add(other_speaker(segments, i, -1 if THANKS.match(sentence) else 1), called, ADDRESSED)
    return tally


def name_voices(segments: list[Segment], participants: list[str]) -> dict[str, str]:
    """Voice label -> participant, one to one, for the voices what was said points at."""
    from scipy.optimize import linear_sum_assignment

    people = People(participants)
    voices = list(dict.fromkeys(s.speaker for s in segments if s.speaker))
    names = list(dict.fromkeys(people.by_first.values()))
    if not voices or not names:
        return {}
    tally = votes(segments, people)
    score = np.array([[tally.get(v, {}).get(n, 0.0) for n in names] for v in voices])
    rows, cols = linear_sum_assignment(score, maximize=True)
    named = {voices[r]: names[c] for r, c in zip(rows, cols, strict=True) if score[r, c] > 0}
    if len(voices) == len(names):
        eliminate(named, voices, names, score)
    return named


def eliminate(named: dict[str, str], voices: list[str], names: list[str], score: np.ndarray) -> None:
    """With every participant heard, a voice with one name left that nothing speaks against takes it."""
    while True:
        left = [n for n in names if n not in named.values()]
        open_voices = [v for v in voices if v not in named]
        fits = {v: [n for n in left if score[voices.index(v), names.index(n)] >= 0] for v in open_voices}
        sure = [(v, f[0]) for v, f in fits.items() if len(f) == 1]
        if not sure:
            return
        named[sure[0][0]] = sure[0][1]


def name_speakers(segments: list[Segment], participants: list[str]) -> list[Segment]:
    """The segments with each named voice's label replaced by the participant's name; others stay 'Speaker N'."""
    named = name_voices(segments, participants)
    return [replace(s, speaker=named.get(s.speaker, s.speaker)) for s in segments]
