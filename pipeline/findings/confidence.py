"""Confidence and evidence: the learned labeller's say over what the rule detectors found, and what they missed.

Every action item, decision and blocker gets the probability of its sentence (pipeline/findings/acts.py) as its
confidence and that sentence as its evidence. Confident findings are delivered; less sure ones are kept apart as
"possible", for a person to keep or drop; the rest are dropped. A sentence the labeller is confident about where no
rule anchored a finding becomes one, worded from the sentence itself.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re

import numpy as np

from pipeline.findings.actions import ACCEPT, REQUEST, SELF
from pipeline.findings.acts import ActLabeller, default_labeller
from pipeline.findings.dates import first_date
from pipeline.findings.notes import PAST, PROPOSAL, UNBLOCKED, said_as_decision
from pipeline.findings.people import People
from pipeline.findings.procedure import is_procedural, is_unspecific, opens_procedural
from pipeline.findings.reference import UNRESOLVED, resolve, unresolved
from pipeline.findings.sentences import Sentence
from pipeline.findings.text import HESITATION, REPEAT, clean_spoken, content_offset, word_count
from pipeline.types import ActionItem, Findings, Note

# Findings list, its "possible" list, and the labeller's kind.
LISTS = (("action_items", "possible_action_items", "action"), ("decisions", "possible_decisions", "decision"),
         ("blockers", "possible_blockers", "blocker"))
MIN_WORDS = 4  # a learned finding needs words enough to say what it is ("Okay, yeah." is never one)
WIDE = 8  # sentences either side that tell unscripted talk (the live engine keeps eight either side)
SPONTANEOUS = 0.3  # share of them with an "um", a stutter or a broken-off word
# Or so far in the meeting (up to WIDE sentences on), once MEETING_LEAST sentences are in (AMI meetings run at 20 to
# 46 %, the scripted ones, natural talk included, at most 17 %). Both: 96 % of AMI dev's sentences, 0.3 % of the 40
# scripted meetings' (7 % of the most hesitant one).
MEETING_SPONTANEOUS = 0.25
MEETING_LEAST = 30
# A word broken off: a lower-case run of one or two consonants standing alone ("we can change from th", "f you").
BROKEN_WORD = re.compile(r"(?:^|\s)(?![ai]\b)[b-df-hj-np-tv-xz]{1,2}(?=[\s,.]|$)")
NEAR = 2  # a rule's finding this many sentences away already speaks for the stretch of talk
# What the rules know a finding is not, whatever the labeller thinks: a proposal or a past decision is no
# decision taken now, and "we're no longer blocked" is no blocker.
NOT_KIND = {"decision": (PROPOSAL, PAST), "blocker": (UNBLOCKED,)}
# The labeller's own finding of these kinds is delivered only when said as one (else possible): amid hesitant talk
# its score alone is mostly noise, and in tidy talk it is sure enough only where the words say so anyway.
SAID_SO = {"decision": said_as_decision}


def anchor_index(starts: list[float], start: float | None) -> int | None:
    """Index of the sentence (by sorted start times) that a finding starting at `start` belongs to."""
    if start is None or not starts:
        return None
    i = max(bisect.bisect_right(starts, start + 1e-6) - 1, 0)
    while i > 0 and starts[i - 1] == starts[i]:
        i -= 1
    return i


def anchors(sentences: list[Sentence], findings: Findings) -> dict[str, set[int]]:
    """Per kind, the sentences where a rule detector anchored a finding."""
    starts = [s.start for s in sentences]
    return {kind: {i for i in (anchor_index(starts, x.start) for x in getattr(findings, name)) if i is not None}
            for name, _, kind in LISTS}


def assess(sentences: list[Sentence], findings: Findings, people: People, today: dt.date, *,
           labeller: ActLabeller | None = None, before: tuple[int, int] = (0, 0)) -> None:
    """Score the rule detectors' findings, move the unsure ones to "possible", add what only the labeller saw.

    `before`: of the meeting's sentences before these (the live engine reads a window), how many are marked as
    unscripted talk (`marked`) and how many there are.
    """
    labeller = labeller or default_labeller()
    starts = [s.start for s in sentences]
    scores = labeller.score(sentences, anchors(sentences, findings))
    near, so_far = spontaneous(sentences, before)
    unscripted = scores.hesitant | near | so_far
    for name, possible_name, kind in LISTS:
        head = labeller.heads[kind]
        confident, possible = [], []
        taken: set[int] = set()
        probability = [float(p) for p in scores.p[kind]]
        # A blocker's thresholds go by hesitant talk close by only: told from the meeting so far, on AMI dev they
        # delivered 45 more problems of which 3 were right.
        hesitant = scores.hesitant | near if kind == "blocker" else unscripted
        for item in getattr(findings, name):
            i = anchor_index(starts, item.start)
            if i is None:
                confident.append(item)
                continue
            p = _sureness(kind, item, probability[i])
            _evidence(item, sentences[i], p)
            taken.add(i)
            if is_procedural(sentences[i].text) or kind != "blocker" and opens_procedural(item.text):
                continue  # a line that runs the meeting is no task, decision or blocker, however it scores
            if p >= head.sure(rule=True, hesitant=bool(hesitant[i])) and _specific(kind, item) and \
                    not (kind != "blocker" and _stumbles(item.text)) and \
                    not (kind == "action" and hesitant[i] and _put_to_nobody(sentences, i, people)) and \
                    not (kind == "decision" and hesitant[i] and not said_as_decision(sentences[i].text)):
                confident.append(item)
            elif p >= head.possible:
                possible.append(item)
        learned_at = -2
        for i, s in enumerate(sentences):
            p = probability[i]
            if p < head.possible or taken & set(range(i - NEAR, i + NEAR + 1)) or word_count(s.text) < MIN_WORDS:
                continue
            if kind != "action" and s.is_question or any(r.search(s.text) for r in NOT_KIND.get(kind, ())) \
                    or is_procedural(s.text):
                continue
            if learned_at == i - 1 and sentences[i - 1].turn == s.turn:
                continue  # the same thought, said on: one finding per stretch of talk
            item = _learned(kind, sentences, i, people, today)
            if item is None:
                continue
            p = _sureness(kind, item, p)
            if p < head.possible:
                continue
            _evidence(item, s, p)
            learned_at = i
            sure = p >= head.sure(rule=False, hesitant=bool(hesitant[i])) and _specific(kind, item) and \
                not (kind in SAID_SO and not SAID_SO[kind](s.text))
            (confident if sure else possible).append(item)
        setattr(findings, name, sorted(confident, key=_when))
        setattr(findings, possible_name, sorted(possible, key=_when))


def marked(text: str) -> bool:
    """Whether a sentence shows unscripted speech: an "um", a stutter, a word broken off."""
    return bool(HESITATION.search(text) or REPEAT.search(text) or BROKEN_WORD.search(text))


def spontaneous(sentences: list[Sentence], before: tuple[int, int] = (0, 0)) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence, whether the talk around it is unscripted, hesitant speech (a hand transcript of a real meeting):
    marked sentences (see `marked`) make at least SPONTANEOUS of those within WIDE either side, or MEETING_SPONTANEOUS
    of the meeting's so far (to WIDE sentences on). Wider than the labeller's own look, so a stretch of real talk
    without an "um" close by still counts; the live engine re-reads WIDE sentences back and keeps the counts before.
    Returns the two apart: close by, and so far in the meeting."""
    marks = np.array([marked(s.text) for s in sentences], dtype=float)
    if not len(marks):
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    sums = np.concatenate(([0.0], np.cumsum(marks)))
    lo = np.maximum(np.arange(len(marks)) - WIDE, 0)
    hi = np.minimum(np.arange(len(marks)) + WIDE + 1, len(marks))
    near = (sums[hi] - sums[lo]) / (hi - lo) >= SPONTANEOUS
    so_far_marked, so_far = before[0] + sums[hi], before[1] + hi
    meeting = (so_far >= MEETING_LEAST) & (so_far_marked / so_far >= MEETING_SPONTANEOUS)
    return near, meeting


def _put_to_nobody(sentences: list[Sentence], i: int, people: People) -> bool:
    """A request to no one by name, with more than one to put it to and nobody taking it up ("Can you draw a
    rabbit?", "You need to put it on and turn"): amid hesitant talk mostly a question of the moment or how a thing works, not work handed out, so
    only possible there."""
    s = sentences[i]
    reply = next((x for x in sentences[i + 1:i + 4] if x.turn != s.turn), None)
    return bool(REQUEST.search(s.text)) and not SELF.search(s.text) and people.vocative(s.text) is None \
        and people.trailing_vocative(s.text) is None and people.other_than(s.speaker) is None \
        and not (reply is not None and ACCEPT.match(reply.text))


def _stumbles(text: str) -> bool:
    """Whether a rule's finding itself stutters, breaks a word off or hesitates more than once ("Give it uh a t a
    two"): a pattern caught in a broken sentence, so it is shown as possible, not delivered."""
    return bool(REPEAT.search(text) or BROKEN_WORD.search(text)) or len(HESITATION.findall(text)) >= 2


def _specific(kind: str, item: ActionItem | Note) -> bool:
    """Whether a finding says enough to be delivered: a task names what it is about ("Put it in there" does not),
    a decision what was decided ("Let's take it." does not), and neither breaks off mid-phrase."""
    return kind == "blocker" or not is_unspecific(item.text, least=1 if kind == "action" else 2)


def _sureness(kind: str, item: ActionItem | Note, p: float) -> float:
    """The labeller's probability, lowered for a task whose "her" or "him" names nobody said before."""
    return p * UNRESOLVED if kind == "action" and unresolved(item.text) else p


def _when(item) -> float:
    return item.start if item.start is not None else -1.0


def _evidence(item: ActionItem | Note, s: Sentence, p: float) -> None:
    item.confidence = round(p, 3)
    item.evidence = s.text
    item.end = s.end


def _learned(kind: str, sentences: list[Sentence], i: int, people: People,
             today: dt.date) -> ActionItem | Note | None:
    """A finding worded from its sentence: hesitations gone; for a task, its owner, date and who "her" is."""
    s = sentences[i]
    text = clean_spoken(s.text)
    if word_count(text) < MIN_WORDS:
        return None
    # The finding starts where its words do, not at the "um, so" before them.
    start = s.time_at(content_offset(s.text))
    if kind != "action":
        return Note(text=text.rstrip("."), start=start, speaker=s.speaker)
    owner = people.vocative(s.text) or (s.speaker if SELF.search(s.text) else None)
    named = people.mentioned(s.text)
    if owner is None and len(named) == 1:
        owner = named[0]
    due = first_date(s.text, today)
    text = resolve(text, sentences, i, people, [owner])
    return ActionItem(text=text.rstrip("."), owner=owner, due=due.date.isoformat() if due else None,
                      start=start, speaker=s.speaker)
