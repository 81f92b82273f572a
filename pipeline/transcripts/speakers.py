"""Speaker labels as people wrote them: `Name:` prefixes, `[SPEAKER_01]` diarization labels, speaker lines."""

from __future__ import annotations

import re
from collections import Counter

# "[SPEAKER_01]: ", "SPEAKER_03: ", "Etan (Nimbus): ", "krithika S: ", "Dima Gusakov | Lido: ", "李雷：".
PREFIX = re.compile(r"^\s*(?P<label>\[[^\]\n]{1,60}\]|[^\s:：\[\]<>\"“”?!;,.][^:：\n<>\"“”?!;]{0,59}?)\s*(?:[:：]\s+|：\s*)(?P<rest>\S.*)$",
                    re.S)
DIARIZED = re.compile(r"^(?:SPEAKER|Speaker|speaker)[ _]?\d{1,3}$")
UNKNOWN = {"unknown", "unknown speaker", "speaker ?", "?", "unk"}
# Line openers that take a colon in speech and in notes but are never a person.
NOT_SPEAKERS = {
    "note", "notes", "nb", "n.b", "agenda", "remember", "reminder", "summary", "action", "action item",
    "action items", "todo", "to do", "to-do", "warning", "caution", "tip", "example", "e.g", "question",
    "questions", "answer", "update", "updates", "status", "re", "subject", "date", "time", "title", "location",
    "attendees", "participants", "ps", "p.s", "fyi", "important", "disclaimer", "transcript", "recording",
    "meeting", "edit", "source", "step", "next steps", "decision", "decisions", "blocker", "blockers", "result",
    "results", "goal", "goals", "problem", "solution", "fact", "bonus", "spoiler", "hint", "link", "links",
    "see", "also", "well", "so", "and", "but", "ok", "okay", "yes", "no", "um", "uh", "like", "then", "first",
    "second", "third", "finally", "basically", "honestly", "seriously", "look", "listen", "quote",
}
AFFILIATION = re.compile(r"\s*(?:\([^()]*\)|\|.*)$")  # "Etan (Nimbus)" and "Dima Gusakov | Lido": the org apart
SENTENCE_END = re.compile(r"[.?!,;…]$")
PARTICLES = {"de", "da", "di", "do", "du", "la", "le", "van", "von", "der", "den", "del", "della", "bin", "al", "y"}


def split_label(text: str) -> tuple[str, str] | None:
    """(label, rest) when text opens with something that could be a speaker label."""
    m = PREFIX.match(text)
    if not m:
        return None
    label = m["label"].strip()
    if label.startswith("[") and label.endswith("]"):
        label = label[1:-1].strip()
    return (label, m["rest"].strip()) if label else None


def person(label: str) -> str | None:
    """The speaker a label names, without an affiliation; None for an 'unknown speaker' label."""
    name = AFFILIATION.sub("", label).strip() or label.strip()
    return None if name.lower() in UNKNOWN else name


def plausible(label: str, *, loose: bool = False) -> bool:
    """Whether a label can be a person's name (`loose` for a line of its own, such as '+12*******65')."""
    if DIARIZED.match(label) or label.lower() in UNKNOWN:
        return True
    name = AFFILIATION.sub("", label).strip()
    words = name.split()
    if not words or len(words) > 6 or len(name) > 48 or "://" in name or SENTENCE_END.search(name):
        return False
    if name.lower().rstrip(".") in NOT_SPEAKERS or words[0].lower() in {"the", "a", "an", "this", "that", "it"}:
        return False
    return loose or not name[0].isdigit()


def accepted(labels: list[str | None], total: int) -> set[str]:
    """The labels that are speakers, judged over the whole file: a label that recurs, or any where most lines
    carry one; a one-off label in a file that mostly has none ("Hide these tags: ...") is text."""
    counts = Counter(label for label in labels if label and plausible(label))
    if not counts:
        return set()
    mostly = sum(counts.values()) >= 0.5 * max(total, 1)
    return {label for label, n in counts.items()
            if DIARIZED.match(label) or label.lower() in UNKNOWN or n >= 2
            or (mostly and named(label))}


def named(label: str) -> bool:
    """A label that reads as a name on its own: up to four words, each capitalised (or a particle: 'van')."""
    words = label.split()
    return len(words) <= 4 and not words[0][0].islower() \
        and all(not w[0].islower() or w in PARTICLES for w in words)
