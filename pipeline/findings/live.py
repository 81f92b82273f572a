"""Findings while a meeting happens: one utterance at a time, re-reading only the new sentences and their neighbours.

    live = LiveFindings(info, board)
    for segment in utterances:          # e.g. from a voice-channel bot, as people speak
        delta = live.add(segment)       # what is new or changed since the last utterance
    live.findings()                     # everything so far; the batch engine's result for the same segments

Every detector of the batch engine looks at most a few sentences back and forward (a request and its answer, a
question and its reply, a status clause and the ticket named a sentence before). So when an utterance changes the
meeting from sentence `lo` on, findings anchored before `lo - AFTER` cannot change: they are kept as they were,
and the detectors run again only over the sentences from `lo - AFTER - BEFORE` on, keeping what they find from
`lo - AFTER` on. The cost of an utterance does not grow with the length of the meeting.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pipeline.findings.actions import find_action_items
from pipeline.findings.checklist import follow_up_questions, suggest_questions, topics_said
from pipeline.findings.confidence import anchor_index, assess, marked
from pipeline.findings.discourse import settle_handovers
from pipeline.findings.metrics import find_metrics
from pipeline.findings.notes import find_blockers, find_decisions
from pipeline.findings.people import People, discover_names
from pipeline.findings.questions import find_questions
from pipeline.findings.sentences import Sentence, SentenceBuilder
from pipeline.findings.summary import summarize
from pipeline.findings.tickets import Board, TicketMove, settle_moves, ticket_moves
from pipeline.types import Findings, MeetingInfo, Segment, Ticket

# How far (in sentences) the detectors look forward from a finding (a question's reply: up to 7 sentences)…
AFTER = 8
# … and back (an agreement folded into the request it answers: up to 6 sentences).
BEFORE = 8
# Findings kept per sentence they are anchored at.
ANCHORED = ("action_items", "questions", "decisions", "blockers", "metrics", "possible_action_items",
            "possible_decisions", "possible_blockers")


@dataclass
class FindingsDelta:
    """What one utterance changed: findings that appeared, that changed (a question now answered, an action item
    that got its due date, a ticket moved on further) and that went away (a checklist topic now covered, an item
    re-read once the rest of its sentence came in)."""

    new: Findings = field(default_factory=Findings)
    changed: Findings = field(default_factory=Findings)
    removed: Findings = field(default_factory=Findings)

    def __bool__(self) -> bool:
        return any(_lists(f) for f in (self.new, self.changed, self.removed))

    @property
    def answered(self) -> list:
        """Questions that this utterance answered."""
        return [q for q in self.changed.questions if q.answered]

    def to_dict(self) -> dict:
        def part(f: Findings) -> dict:
            return {k: v for k, v in f.to_dict().items() if isinstance(v, list) and v}
        return {"new": part(self.new), "changed": part(self.changed), "removed": part(self.removed)}


def _lists(f: Findings) -> bool:
    return any(isinstance(v, list) and v for v in vars(f).values())


class LiveFindings:
    """The findings engine fed one transcript segment at a time (see the module's docstring)."""

    def __init__(self, info: MeetingInfo, board: list[Ticket] | None = None) -> None:
        self.info = info
        self.tickets = list(board or [])
        self.board = Board(self.tickets) if self.tickets else None
        self.segments: list[Segment] = []
        self._builder = SentenceBuilder()
        self._speakers: list[str] = []
        self._names: Counter[str] = Counter()  # names learned from how people are addressed (no participant list)
        self._name_hits: list[list[str]] = []  # per sentence: the names it addressed
        self.people = People(info.participants)
        self._anchored: dict[str, list[tuple[int, Any]]] = {k: [] for k in ANCHORED}
        self._moves: list[TicketMove] = []
        self._said: list[set[str]] = []  # per sentence: the checklist topics its words touch
        self._said_count: Counter[str] = Counter()
        self._marked: list[bool] = []  # per sentence: whether it shows unscripted talk (an "um", a stutter)
        self._current = self._assemble(summary=False)

    @property
    def sentences(self) -> list[Sentence]:
        return self._builder.sentences

    # --- feeding ------------------------------------------------------------------------------------------------

    def add(self, segment: Segment) -> FindingsDelta:
        """Take one utterance; return the findings it added, changed or removed."""
        self.segments.append(segment)
        lo = self._builder.add(segment)
        if lo is None:
            return FindingsDelta()
        self._learn_people(segment, lo)
        self._read_from(lo)
        before, self._current = self._current, self._assemble(summary=False)
        return _diff(before, self._current)

    def findings(self) -> Findings:
        """All findings so far, as the batch engine would give them for the segments added."""
        return self._assemble(summary=True)

    # --- incremental state --------------------------------------------------------------------------------------

    def _learn_people(self, segment: Segment, lo: int) -> None:
        """Keep the participant list: those we were told, those who spoke, else names people are addressed by."""
        if segment.speaker and segment.speaker not in self._speakers:
            self._speakers.append(segment.speaker)
            self.people = People([*self.info.participants, *self._speakers])
        if self.info.participants or self._speakers:
            return
        # Nobody told us the names and nobody is labelled: learn them from how people are addressed.
        for names in self._name_hits[lo:]:
            self._names.subtract(names)
        del self._name_hits[lo:]
        for s in self.sentences[lo:]:
            names = discover_names([s.text])
            self._name_hits.append(names)
            self._names.update(names)
        learned = sorted(n for n, c in self._names.items() if c > 0)
        if learned != sorted(self.people.by_first.values()):
            self.people = People(learned)

    def _read_from(self, lo: int) -> None:
        """Run the detectors again over the sentences around and after `lo`."""
        sentences = self.sentences
        keep = max(0, lo - AFTER)  # findings anchored before this stay as they are
        ctx = max(0, keep - BEFORE)
        window = [dataclasses.replace(s, index=k) for k, s in enumerate(sentences[ctx:])]
        starts = [s.start for s in window]

        def anchored(items: list) -> list[tuple[int, Any]]:
            out = []
            for item in items:
                k = anchor_index(starts, item.start)
                at = ctx + (k or 0)
                if at >= keep:
                    out.append((at, item))
            return out

        read = Findings(action_items=find_action_items(window, self.people, self.info.date),
                        questions=find_questions(window), decisions=find_decisions(window),
                        blockers=find_blockers(window), metrics=find_metrics(window))
        # The labeller reads at most REACH sentences either side: the window holds them for what is re-read. How
        # hesitant the meeting was before the window counts too.
        del self._marked[lo:]
        self._marked.extend(marked(s.text) for s in sentences[len(self._marked):])
        assess(window, read, self.people, self.info.date, before=(sum(self._marked[:ctx]), ctx))
        found = {kind: anchored(getattr(read, kind)) for kind in ANCHORED}
        for kind, items in found.items():
            kept = [(at, x) for at, x in self._anchored[kind] if at < keep]
            if kind == "metrics":
                # The first statement of a metric is the one that counts.
                named = {m.name for _, m in kept}
                items = [(at, m) for at, m in items if m.name not in named]
            self._anchored[kind] = kept + items
        if self.board is not None:
            moves = ticket_moves(window, self.board, only=range(keep - ctx, len(window)))
            self._moves = [m for m in self._moves if m.sentence < keep] + [
                dataclasses.replace(m, sentence=m.sentence + ctx) for m in moves]
        for said in self._said[lo:]:
            self._said_count.subtract(said)
        del self._said[lo:]
        for s in sentences[lo:]:
            said = topics_said(self.info.type, s.text)
            self._said.append(said)
            self._said_count.update(said)

    def _assemble(self, *, summary: bool) -> Findings:
        f = Findings()
        for kind in ANCHORED:
            setattr(f, kind, [x for _, x in self._anchored[kind]])
        f.action_items = settle_handovers(f.action_items)  # over the whole meeting, as the batch engine does
        f.ticket_updates, f.unconfirmed_ticket_updates = settle_moves(self._moves)
        said = {t for t, c in self._said_count.items() if c > 0}
        f.suggested_questions = suggest_questions(self.info.type, [], f, said)
        f.follow_ups = follow_up_questions(f)
        if summary:
            f.summary = summarize(self.info, f)
        return f


# --- differences ------------------------------------------------------------------------------------------------

def _keyed(items: list, key) -> dict:
    out: dict = {}
    for item in items:
        k = key(item)
        n = 0
        while (k, n) in out:
            n += 1
        out[(k, n)] = item
    return out


KEYS = {
    "action_items": lambda x: x.start,
    "questions": lambda x: x.start,
    "decisions": lambda x: x.start,
    "blockers": lambda x: x.start,
    "metrics": lambda x: x.name,
    "ticket_updates": lambda x: x.key,
    "unconfirmed_ticket_updates": lambda x: x.key,
    "suggested_questions": lambda x: x.topic,
    "follow_ups": lambda x: x.start,
}


def _shown(item):
    """A finding as people see it: how sure the engine is moves with every utterance and is no change by itself."""
    return dataclasses.replace(item, confidence=None) if hasattr(item, "confidence") else item


def _diff(before: Findings, after: Findings) -> FindingsDelta:
    delta = FindingsDelta()
    for kind, key in KEYS.items():
        old = _keyed(getattr(before, kind), key)
        new = _keyed(getattr(after, kind), key)
        getattr(delta.new, kind).extend(x for k, x in new.items() if k not in old)
        getattr(delta.changed, kind).extend(x for k, x in new.items() if k in old and _shown(old[k]) != _shown(x))
        getattr(delta.removed, kind).extend(x for k, x in old.items() if k not in new)
    return delta
