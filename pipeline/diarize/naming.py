"""Names for the voices of a mixed recording, from what is said: introductions and being spoken to."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from pipeline.findings.people import People
from pipeline.findings.text import content_stems
from pipeline.types import Segment

SENTENCE = re.compile(r"(?<=[.?!])\s+")
FILLER = r"(?:(?:um+|uh+|erm|er|ah|oh|so|and|well|okay|ok|right|great|perfect|cool|nice|alright|yeah|yes)\s*,?\s+)*"
THANKS = re.compile(rf"^\s*{FILLER}(?:thanks|thank\s+you|cheers|great|perfect|nice)\b", re.I)
# How much one cue counts: saying one's own name outweighs being spoken to; taking on the very work someone
# was given by name outweighs merely speaking next.
INTRO, ADDRESSED, TAKES_WORK, NOT_SELF, MENTIONED = 3.0, 1.0, 1.5, 2.0, 1.0
# The uploader was most likely there and most likely the host, who calls on the others by name and opens the
# meeting: a hint, never more than one cue of being spoken to.
UPLOADER = 0.75
# A reply this short right after "Lena, can you…" in the asker's own voice is most likely Lena's, misheard as
# the asker's by the diarization: it tells nothing about who Lena is.
REPLY_WORDS = 4
# A word the recogniser wrote is taken for a participant's name when it sounds alike (the same Metaphone code)
# and is spelled somewhat alike (Jaro-Winkler), or is spelled very alike: "Marc" for Mark, "Asia" for Aisha,
# "Catherine" for Katrin, "Raul" for Rahul; not "Marcus" for Mark nor "Marketing" for Maria.
SOUNDS_ALIKE_JW, SPELLED_ALIKE_JW = 0.78, 0.93
# A capitalised word, or two ("Nick Hill"), as the recogniser may split a name it does not know.
WORD = re.compile(r"\b([A-Z][a-z]{2,})(?= ([A-Z][a-z]{2,})\b)?")
REQUEST = re.compile(r",?\s+(?:(?:can|could|would|will|do|did|are|have|were)\s+)?you\b", re.I)
# Taking work on oneself: "Sure, I'll do the migration by Friday", "I can send the list".
TAKES_ON = re.compile(r"\b(?:I'll|I\s+will|I\s+can|I'm\s+going\s+to|I\s+am\s+going\s+to|I'd\s+be\s+happy\s+to|"
                      r"let\s+me)\b", re.I)
# Asking the one called by name to do something ("Lena, can you take…", "Sam, please…"); "Lena, do you want the
# report?" asks what she wants, and whoever then sends it is somebody else.
ASKS_WORK = re.compile(r"\b(?:can|could|would|will)\s+you\b(?!\s+(?:want|need|like|remember|hear)\b)|\bplease\b|"
                       r"\byou\s+(?:take|own|handle|do|get)\b", re.I)
# Words any two tasks share ("send it by Friday", "do the review this afternoon"): they tell no task apart.
COMMON_WORK = frozenset(content_stems(
    "send sent do done take took have finish finished start started look check help work working set call "
    "monday tuesday wednesday thursday friday saturday sunday morning afternoon evening tonight night next end "
    "month time first last quick short good great"))
# What someone is said to do that gives them no work: "Maria wants the report" is done by somebody else.
NOT_DOING = ("is|has|was|does|wants|needs|thinks|says|knows|likes|means|seems|feels|agrees|asks|loves|hates|hopes|"
             "expects|prefers|mentions|sounds|looks|gets|remembers|reckons|believes|suggests")
# How far after work is given to someone by name their taking it on is looked for (turns).
TAKES_ON_WITHIN = 6


def intro_cue(people: People) -> re.Pattern:
    """'Hi, it's Maya', 'I'm Maya', 'this is Maya', 'Maya here' (and not "it's Maya's ticket")."""
    name = rf"({people.pattern})\b(?!['’]s)"
    return re.compile(rf"\b(?:I'm|I\s+am|it's|it\s+is|this\s+is|my\s+name\s+is|name's)\s+(?:(?i:um|uh),?\s+)?"
                      rf"{name}(?!\s+(?:is|was|has|will)\b)|\b{name}\s+here\b")


def opener_cue(people: People) -> re.Pattern:
    """A name after an opening word or a filler: 'Okay Josh, …', 'Um, Josh …', 'over to Lena', and at the end,
    '…, right Lena?'. "Let's have Ethan and Mark share it" speaks of two people, to neither."""
    return re.compile(rf"^\s*{FILLER}(?i:hi|hey|hello|morning|good\s+morning|and|now|so)?\s*,?\s*"
                      rf"({people.pattern})\b(?!['’]s)\s*,|\b(?i:let's\s+have|over\s+to)\s+({people.pattern})\b"
                      rf"(?!\s+(?:and|or)\b)|,\s*(?i:right|yeah|okay|no|yes)\s*,?\s+({people.pattern})\s*[?.!]?\s*$")


def thanks_cue(people: People) -> re.Pattern:
    """'Thanks Nikhil.', 'Okay, thank you, Lena': thanks for what the one who just spoke said."""
    return re.compile(rf"^\s*{FILLER}(?i:thanks|thank\s+you|cheers)\s*,?\s+({people.pattern})\b")


def heard_names(text: str, people: People) -> str:
    """The text with the recogniser's spellings of participants' names put right ("Marc" -> "Mark", "Nick Hill"
    -> "Nikhil").

    Only capitalised words within a sentence are considered, or at its start right before "you" ("Asia, do you
    want…"): a sentence's first word is capitalised whatever it is ("Same, the payroll…")."""
    import jellyfish

    firsts = [f[:1].upper() + f[1:] for f in people.by_first]

    def sound(word: str) -> str:
        return jellyfish.metaphone(word).replace("0", "T")  # "Catherine" is heard for Katrin: th as t

    def alike(heard: str) -> str | None:
        close = [f for f in firsts if (
            (s := jellyfish.jaro_winkler_similarity(heard.lower(), f.lower())) >= SPELLED_ALIKE_JW
            or (s >= SOUNDS_ALIKE_JW and sound(heard) == sound(f)))]
        return close[0] if len(close) == 1 else None

    out, at = [], 0
    for m in WORD.finditer(text):
        if m.start() < at:
            continue
        said, two = m.group(1), m.group(2)
        at_start = m.start() == 0 or re.search(r"[.?!]\s*$", text[:m.start()])
        name, end = None, m.end(1)
        if two and said not in firsts and two not in firsts and (not at_start or REQUEST.match(text, m.end(2))):
            name, end = alike(said + two.lower()), m.end(2)
        if not name and said not in firsts and not (at_start and not REQUEST.match(text, m.end(1))):
            name, end = alike(said), m.end(1)
        if name:
            out += [text[at:m.start()], name]
            at = end
    return "".join(out) + text[at:]


def turns_of(segments: list[Segment]) -> list[Segment]:
    """Consecutive segments of one voice joined into turns: the recogniser cuts sentences anywhere ("Let's have
    Ethan and" | "Mark share it."), and a cue is only read right from the whole sentence."""
    turns: list[Segment] = []
    for seg in segments:
        if turns and turns[-1].speaker == seg.speaker:
            turns[-1] = replace(turns[-1], end=seg.end, text=f"{turns[-1].text} {seg.text}")
        else:
            turns.append(seg)
    return turns


def reply_voice(turns: list[Segment], i: int, rest: list[str]) -> tuple[str | None, float]:
    """The voice that answers a request ending with `rest` of turn i, and how surely: the next voice if the asker
    stops there, less if the asker goes on, nothing if all the asker goes on with is a short reply ("Sure, no
    problem."), which is most likely the answer misheard as the asker's by the diarization."""
    if rest and len(" ".join(rest).split()) <= REPLY_WORDS:
        return None, 0.0
    return other_speaker(turns, i, 1), (0.5 if rest else 1.0)


def other_speaker(segments: list[Segment], i: int, step: int) -> str | None:
    """The speaker of the nearest segment before (step -1) or after (step 1) segment i who is not its speaker."""
    j = i + step
    while 0 <= j < len(segments):
        if segments[j].speaker != segments[i].speaker:
            return segments[j].speaker
        j += step
    return None


def given_work(people: People) -> re.Pattern:
    """Work given to someone spoken of by name: "Michael will update the runbook", "let's have Sophie own that",
    "Mark builds the refund logic" (not "Ethan tested it", "Mark has the export": said of work already given)."""
    return re.compile(rf"\b(?i:let's\s+have)\s+({people.pattern})\b(?!['’]s)|\b({people.pattern})\s+(?:(?i:will|can|"
                      rf"could|should|is\s+going\s+to|has\s+to|needs\s+to)\s+(?:also\s+)?(?!be\b)[a-z]+|"
                      rf"(?!(?:{NOT_DOING})\b)[a-z]{{2,}}[^s\W]s\b)")


def floor_cue(people: People) -> re.Pattern:
    """The floor handed to someone spoken of by name: "Lucy is going to show us the new flow", "Sam will walk us
    through it"; the voice that then starts with thanks is theirs."""
    return re.compile(rf"\b({people.pattern})\s+(?i:will|is\s+going\s+to|is\s+gonna)\s+(?i:show|walk|take|tell|give|"
                      rf"present|talk|run|demo)\s+(?i:us|everyone|you)\b")


# Clauses of one sentence that may each give work to someone else: "Ethan writes the test plan, and Mark builds…".
CLAUSE = re.compile(r",?\s+(?:and|but|while)\s+|;\s*")


def task_words(sentence: str, people: People) -> set[str]:
    """What a piece of work is about: its content words, names and words any task has left out."""
    return content_stems(people.regex.sub(" ", sentence)) - COMMON_WORK


def taker(turns: list[Segment], i: int, work: set[str], asker: str | None) -> str | None:
    """The voice that, within a few turns after turn i, takes on work sharing words with `work`, when it is not
    the asker's: "Lena, can you take the migration?" … "Sure, I'll do the migration by Friday"."""
    for seg in turns[i + 1:i + 1 + TAKES_ON_WITHIN]:
        if seg.speaker == asker:
            continue
        if any(TAKES_ON.search(x) and (content_stems(x) - COMMON_WORK) & work for x in SENTENCE.split(seg.text)):
            return seg.speaker
    return None


def votes(segments: list[Segment], people: People) -> tuple[dict[str, dict[str, float]], dict[str, int]]:
    """For each voice, how strongly what was said points at each participant's name; and how many times each
    voice calls someone by name."""
    intro, opener, thanks, work = intro_cue(people), opener_cue(people), thanks_cue(people), given_work(people)
    floor = floor_cue(people)
    tally: dict[str, dict[str, float]] = {}
    calls: dict[str, int] = {}

    def add(voice: str | None, name: str | None, weight: float) -> None:
        if voice and name:
            row = tally.setdefault(voice, {})
            row[name] = row.get(name, 0.0) + weight

    turns = turns_of(segments)
    for i, seg in enumerate(turns):
        sentences = SENTENCE.split(heard_names(seg.text, people))
        for k, sentence in enumerate(sentences):
            introduced = {people.canonical(m.group(1) or m.group(2)) for m in intro.finditer(sentence)}
            for name in introduced:
                add(seg.speaker, name, INTRO)
            m, t = opener.search(sentence), thanks.search(sentence)
            thanked = people.canonical(t.group(1)) if t else None
            called = thanked or people.vocative(sentence) or people.trailing_vocative(sentence) or (
                people.canonical(next(g for g in m.groups() if g)) if m else None)
            # People speak of others by name, hardly ever of themselves ("Lucy is going to show us…").
            for name in set(people.mentioned(sentence)) - introduced - {called}:
                add(seg.speaker, name, -MENTIONED)
            # Work given to one person by name is taken on by that person: "Sure, I'll do the migration".
            clauses = [(called, sentence)] if called and not thanked and ASKS_WORK.search(sentence) else [
                (people.canonical(g.group(1) or g.group(2)), clause) for clause in CLAUSE.split(sentence)
                if len(set(people.mentioned(clause))) == 1 for g in work.finditer(clause)]
            for owner, clause in clauses:
                if owner and owner not in introduced and (task := task_words(clause, people)):
                    add(taker(turns, i, task, seg.speaker), owner, TAKES_WORK)
            handed = floor.search(sentence)
            if handed and k == len(sentences) - 1 and i + 1 < len(turns) and THANKS.match(turns[i + 1].text):
                add(turns[i + 1].speaker, people.canonical(handed.group(1)), ADDRESSED)
            if not called or called in introduced:
                continue
            if seg.speaker:
                calls[seg.speaker] = calls.get(seg.speaker, 0) + 1
            add(seg.speaker, called, -NOT_SELF)  # nobody speaks to themselves by name
            # "Thanks, Daniel" answers the one who just spoke; "Lena, can you…" asks the one who speaks next.
            # …unless it asks a question: "Great, thanks. And the translations, where are we, Priya?"
            if thanked or (THANKS.match(sentence) and not sentence.rstrip().endswith("?")):
                add(other_speaker(turns, i, -1), called, ADDRESSED)
            else:
                voice, sureness = reply_voice(turns, i, sentences[k + 1:])
                add(voice, called, ADDRESSED * sureness)
    return tally, calls


def name_voices(segments: list[Segment], participants: list[str], *, uploader: str | None = None) -> dict[str, str]:
    """Voice label -> participant, one to one, for the voices what was said points at.

    `uploader` (who sent the recording, when known) is a hint for the voice that calls the others by name most,
    or opens the meeting when nobody calls anyone; and the one voice left unnamed takes the uploader's name when
    it is unused and nothing speaks against it."""
    from scipy.optimize import linear_sum_assignment

    people = People([*participants, uploader])
    voices = list(dict.fromkeys(s.speaker for s in segments if s.speaker))
    names = list(dict.fromkeys(people.by_first.values()))
    if not voices or not names:
        return {}
    tally, calls = votes(segments, people)
    host = people.canonical(uploader)
    if host:
        # Ties go to the voice that spoke first (voices are in order of first speaking).
        chair = max(voices, key=lambda v: calls.get(v, 0))
        tally.setdefault(chair, {})[host] = tally.get(chair, {}).get(host, 0.0) + UPLOADER
    score = np.array([[tally.get(v, {}).get(n, 0.0) for n in names] for v in voices])
    rows, cols = linear_sum_assignment(score, maximize=True)
    taken = dict(zip(rows, cols, strict=True))
    # A name two voices have equal claim to, one of which gets no other name, is a guess: neither takes it.
    named = {voices[r]: names[c] for r, c in taken.items() if score[r, c] > 0 and not any(
        score[o, c] >= score[r, c] and (o not in taken or score[o, taken[o]] <= 0) for o in range(len(voices))
        if o != r)}
    if len(voices) == len(names):
        eliminate(named, voices, names, score)
    left = [v for v in voices if v not in named]
    if host and host not in named.values() and len(left) == 1 and score[voices.index(left[0]), names.index(host)] >= 0:
        named[left[0]] = host
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


def name_speakers(segments: list[Segment], participants: list[str], *,
                  uploader: str | None = None) -> list[Segment]:
    """The segments with each named voice's label replaced by the participant's name; others stay 'Speaker N'."""
    named = name_voices(segments, participants, uploader=uploader)
    return [replace(s, speaker=named.get(s.speaker, s.speaker)) for s in segments]
