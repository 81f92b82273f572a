"""Participant names: finding them in sentences and working out who is being spoken to."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.findings.sentences import Sentence
from pipeline.findings.text import word_set

# Words that look like names at the start of a sentence but are not (for transcripts without a participant list).
NOT_NAMES = word_set("""
okay ok so and but yes yeah right well great good nice thanks thank sure sorry hi hello hey morning then now also
please perfect cool fine alright oh um uh look listen honestly anyway everyone everybody guys folks team all
""")


class People:
    """The meeting's participants, matched by first name as they are said."""

    def __init__(self, names: Iterable[str | None]) -> None:
        self.by_first: dict[str, str] = {}
        for name in names:
            if name and name.strip():
                self.by_first.setdefault(name.strip().split()[0].lower(), name.strip())
        firsts = sorted(self.by_first, key=len, reverse=True)
        # Names are matched capitalised only, so "mark the ticket" or "will" never read as a person.
        alternation = "|".join(re.escape(f[:1].upper() + f[1:]) for f in firsts) or r"(?!x)x"
        self.pattern = alternation
        self.regex = re.compile(rf"\b(?:{alternation})\b")

    def __len__(self) -> int:
        return len(self.by_first)

    def canonical(self, said: str | None) -> str | None:
        """The participant's full name for a first name as said."""
        if not said:
            return None
        return self.by_first.get(said.strip().split()[0].lower())

    def mentioned(self, text: str) -> list[str]:
        """Participants named in a text, in order."""
        return [self.by_first[m.group(0).lower()] for m in self.regex.finditer(text)]

    def vocative(self, text: str) -> str | None:
        """The person a sentence is addressed to: "Peter, can you…", "…, Peter?", "Then Josh, …"."""
        m = re.search(rf"(?:^|[,.;!?]\s*|\b(?:and|so|then|okay|right|now)\s+)({self.pattern})\s*,", text)
        if m:
            return self.canonical(m.group(1))
        m = re.search(rf",\s*({self.pattern})\s*[?.!]?\s*$", text)
        if m:
            return self.canonical(m.group(1))
        # Recognisers lower-case names ("then josh, can you…"); right before a request that is still a name.
        m = re.search(rf"\b({self.pattern}),?\s+(?:can|could|would|will)\s+you\b", text, re.I)
        if m:
            return self.canonical(m.group(1))
        return None

    def trailing_vocative(self, text: str) -> str | None:
        """A name that ends a sentence ("One last thing, James.") and so addresses the next one."""
        m = re.search(rf"(?:^|,)\s*({self.pattern})\s*[.!]\s*$", text)
        return self.canonical(m.group(1)) if m else None

    def other_than(self, speaker: str | None) -> str | None:
        """In a two-person meeting, the one who is not speaking."""
        if speaker is None or len(self.by_first) != 2:
            return None
        others = [n for n in self.by_first.values() if n != speaker]
        return others[0] if len(others) == 1 else None


# How a name is said when nobody told us the participants: "Peter, can you…", "let's have Priya…", "Thanks, Sam."
NAME_CUES = (
    re.compile(r"(?:^|[.?!,]\s+|\b(?:then|so|and|okay|right)\s+)([A-Z][a-z]{2,}),\s+(?:can|could|would|will)\s+you\b"),
    re.compile(r"\blet's\s+have\s+([A-Z][a-z]{2,})\b"),
    re.compile(r"^(?:thanks|thank\s+you|hi|hey|morning|bye)\s*,?\s+([A-Z][a-z]{2,})\b", re.I),
    re.compile(r"\b([A-Z][a-z]{2,}),\s+you(?:'re|\s+are)\s+(?:up|next)\b"),
)


def discover_names(texts: Iterable[str]) -> list[str]:
    """Participant names guessed from how people are addressed, for recordings with no participant list."""
    found: dict[str, int] = {}
    for text in texts:
        for cue in NAME_CUES:
            for m in cue.finditer(text):
                name = m.group(1)
                if name.lower() not in NOT_NAMES and name[0].isupper():
                    found[name] = found.get(name, 0) + 1
    return sorted(found)


def next_speaker(sentences: list[Sentence], i: int) -> str | None:
    """The speaker of the turn after sentence i, when speakers are known."""
    for s in sentences[i + 1:i + 8]:
        if s.turn != sentences[i].turn:
            return s.speaker
    return None
