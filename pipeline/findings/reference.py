"""Who and what a task's pronoun means: "Call her and ask" names the person spoken of in the sentences just before,
"I'll send it over" the thing its speaker named a sentence before ("I'd have to check the exact number.")."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pipeline.findings.people import People
from pipeline.findings.sentences import Sentence
from pipeline.findings.text import STOPWORDS, word_set, words

PRONOUN = re.compile(r"\b(?:him|her|his|he|she)\b", re.I)
LOOKBACK = 6  # sentences before the task's own that may name the person (the live engine keeps eight)
UNRESOLVED = 0.7  # a task whose "her" names nobody is that much less sure
# After "her", a word that shows it is the object ("call her and ask"), not a possessive ("her slides").
OBJECT_NEXT = word_set("""
and or to about for up back if whether when again today tomorrow by on in at with that what how why before after so
later now directly first once too please the a an this some any our your my his their know out over through
""")
# Capitalised words that are no person however they are used.
NOT_PEOPLE = word_set("""
I Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
September October November December English Okay OK God Christmas Easter Slack Jira Zoom Teams Google Notion
""")
_NAME = r"([A-Z][a-z]+(?:-[A-Z][a-z]+)?)"
# How people outside the meeting are spoken of: "Maria from finance", "Priya at Acme", "I asked Tom", "the
# contact is Priya". Only these count, so "Acme" or "Safari" is never taken for a person.
OUTSIDER = (
    re.compile(rf"\b{_NAME}\s+(?:from|at|in\s+(?:the\s+)?\w+\s+team|said|says|told|asked|mentioned|wants|wanted|"
               rf"thinks|thought|agreed|promised|replied|confirmed|hasn't|still\s+hasn't|never|is\s+out|is\s+away)\b"),
    re.compile(rf"\b(?:ask|asked|call|called|email|emailed|ping|pinged|tell|told|text|texted|message|messaged|"
               rf"contact|contacted|cc|meet|met|(?:talk|talked|spoke|speak)\s+(?:to|with)|(?:hear|heard)\s+from|"
               rf"check\s+with|(?:contact|person|lead|manager|owner)\s+is)\s+{_NAME}\b"),
)


def people_in(text: str, people: People) -> list[tuple[int, str]]:
    """(position, name) of every person a sentence speaks of: participants and outsiders said of as people."""
    found = [(m.start(), people.by_first[m.group(0).lower()]) for m in people.regex.finditer(text)]
    for cue in OUTSIDER:
        for m in cue.finditer(text):
            name = m.group(1)
            if name not in NOT_PEOPLE and people.canonical(name) is None:
                found.append((m.start(1), name))
    return sorted(set(found))


def referent(sentences: list[Sentence], i: int, people: People, exclude: Iterable[str | None] = ()) -> str | None:
    """The person spoken of last before the end of sentence i (within LOOKBACK sentences), other than `exclude`."""
    left_out = {x.split()[0].lower() for x in exclude if x}
    for s in reversed(sentences[max(0, i - LOOKBACK):i + 1]):
        speaker = s.speaker.split()[0].lower() if s.speaker else None
        for _, name in reversed(people_in(s.text, people)):
            first = name.split()[0].lower()
            if first not in left_out and first != speaker:
                return name.split()[0] if people.canonical(name) is None else name
    return None


def resolve(task: str, sentences: list[Sentence], i: int, people: People, exclude: Iterable[str | None] = ()) -> str:
    """A task with its "him"/"her"/"his" replaced by the person meant, when the sentences before name one."""
    if not PRONOUN.search(task):
        return task
    name = referent(sentences, i, people, [*exclude, sentences[i].speaker])
    if name is None:
        return task

    def put(m: re.Match) -> str:
        word = m.group(0).lower()
        if word == "his":
            return f"{name}'s"
        if word == "her":
            nxt = re.match(r"\s+([\w']+)", task[m.end():])
            return f"{name}'s" if nxt and nxt.group(1).lower() not in OBJECT_NEXT else name
        return name

    return PRONOUN.sub(put, task)


def unresolved(task: str) -> bool:
    """Whether a task still says "him" or "her" without naming who."""
    return bool(PRONOUN.search(task))


# A task whose whole object is "it": "Send it over", "Fix that", "Book them this week".
THING_TASK = re.compile(r"^(?P<verb>[\w-]+)\s+(?P<it>it|that|this|them)(?P<rest>(?:\s+(?:over|out|across|back|along|"
                        r"round|around|through|up|on|off|in|again|later|today|tomorrow|soon|then|too|first))*)\s*[.!]?$",
                        re.I)
# A thing named the way people name what they work on: "the exact number", "our pricing page", "the Q3 report".
THING = re.compile(r"\b(?:the|our|your|their|my|this|that|these|those)\s+(?P<np>(?:[\w-]+\s+){0,3}[\w-]+)", re.I)
NOT_THINGS = STOPWORDS | word_set("moment time point idea way case thing stuff lot bit question end meeting call")


def resolve_thing(task: str, sentences: list[Sentence], i: int) -> str:
    """A task whose object is only "it" with the thing its speaker named in the sentence before, same breath."""
    m = THING_TASK.match(task)
    if not m or i == 0:
        return task
    s, prev = sentences[i], sentences[i - 1]
    if prev.turn != s.turn or prev.is_question:
        return task
    for found in reversed(list(THING.finditer(re.split(r"[,;]\s*(?:but|and|so|because)\b", prev.text)[-1]))):
        np_words = words(found.group("np"))
        # The phrase up to its last word that says what (a noun more than a stopword): "the exact number".
        while np_words and np_words[-1] in NOT_THINGS:
            np_words.pop()
        if np_words and any(w not in NOT_THINGS for w in np_words):
            said = found.group(0).split()[0] + " " + " ".join(found.group("np").split()[:len(np_words)])
            return f"{m['verb']} {said}{m['rest']}"
    return task
