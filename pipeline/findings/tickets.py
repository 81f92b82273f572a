"""Status changes of board tickets said in passing ("the API docs are underway" moves "Backend API documentation")."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pipeline.findings.questions import asked
from pipeline.findings.sentences import Sentence
from pipeline.findings.text import content_stems, stem, words
from pipeline.types import Ticket, TicketUpdate

DONE = re.compile(
    r"\b(?:finished|done|fixed|merged|shipped|completed?|deployed|released|resolved|closed|wrapped\s+up|landed|"
    r"went\s+(?:out|live)|(?:is|are)\s+(?:out|live)|signed\s+off|delivered|sorted\s+out|all\s+set)\b", re.I)
IN_PROGRESS = re.compile(
    r"\b(?:started|starting\s+on|underway|under\s+way|in\s+progress|working\s+on|picked\s+up|began|begun|"
    r"kicked\s+off|half\s*way|(?:about|almost|nearly|mostly|over)\s+(?:half|two\s+thirds|three\s+quarters|"
    r"done|there|finished|complete)|nearly\s+there|in\s+review|wiring\s+up|making\s+progress|still\s+going|"
    r"still\s+working|back\s+on|part\s*way|in\s+flight|being\s+worked\s+on|in\s+testing|in\s+qa|"
    r"(?:ready|up|out)\s+for\s+(?:code\s+)?(?:review|qa|testing)|(?:pull\s+request|pr)\s+is\s+(?:up|open)|"
    r"under\s+review|(?:is|are)\s+being\s+(?:tested|reviewed|built))\b", re.I)
REGRESSED = re.compile(
    r"\b(?:re-?opened|regress(?:ed|ion)|broke\s+again|broken\s+again|(?:came|is|are)\s+back|failing\s+again|"
    r"not\s+(?:actually\s+)?(?:fixed|done)\s+after\s+all|rolled\s+back|reverted|still\s+(?:broken|happening|"
    r"failing|fails?|crash(?:es|ing)?)|stopped\s+working|(?:is|are)\s+(?:broken|failing)|broke|"
    r"(?:doesn't|don't|isn't|aren't)\s+work(?:ing)?\s+(?:any\s*more|again)|(?:failing|crashing|broken)\s+again)\b",
    re.I)
SHELVED = re.compile(r"\b(?:back\s+(?:in)?to\s+(?:the\s+)?backlog|moved?\s+(?:it\s+)?back\s+to\s+(?:the\s+)?"
                     r"(?:backlog|to\s*do)|on\s+hold|paused|deprioriti[sz]ed|parked|shelved)\b", re.I)
# A status word that is negated, hoped for, planned or conditional says nothing about where the work is now.
NOT_NOW = re.compile(
    r"n't\b|\b(?:not|never|no|will|'ll|going\s+to|gonna|can|could|should|would|might|may|must|need\s+to|needs\s+to|"
    r"has\s+to|have\s+to|want\s+to|hope|plan|once|when|until|till|after|before|if|unless|by\s+the\s+time|"
    r"expect|supposed\s+to|get\s+(?:it|this|that|the\s+\w+)|have\s+(?:it|this|that|the\s+\w+))\b", re.I)
# "if the emails break again…": a worry, not a regression.
MAYBE = re.compile(r"\b(?:if|unless|would|could|might|may|in\s+case|worried|afraid|hope|make\s+sure)\b", re.I)
# "nearly done", "almost finished": progress, not completion.
PARTLY = re.compile(r"\b(?:almost|nearly|mostly|about|over|partly|half|two\s+thirds|three\s+quarters)\s+"
                    r"(?:\w+\s+)?$", re.I)
POINTER = re.compile(r"\b(?:it|it's|this|that|they|they're|them|those|these|this\s+part|that\s+one|this\s+one)\b",
                     re.I)
MATCH_AT = 0.5
WEAK_MATCH_AT = 0.3
# Two tickets whose scores are this close are a coin toss: a person should confirm.
AMBIGUOUS_MARGIN = 0.12


@dataclass
class Mention:
    """A ticket named in a sentence and how sure we are."""

    ticket: Ticket
    score: float


class Board:
    """Tickets with their distinctive words weighted, to find which one a sentence means."""

    def __init__(self, tickets: list[Ticket]) -> None:
        self.tickets = tickets
        self.stems = {t.key: content_stems(t.title) for t in tickets}
        # Titles that use an -ed word themselves ("Automated backups") may be named by it.
        self.past_forms = {t.key: {stem(w) for w in words(t.title) if w.endswith("ed")} for t in tickets}
        df: dict[str, int] = {}
        for stems in self.stems.values():
            for s in stems:
                df[s] = df.get(s, 0) + 1
        n = max(len(tickets), 1)
        # Words on many tickets ("page", "onboarding") say little about which one is meant.
        self.weight = {s: math.log(1 + n / d) for s, d in df.items()}

    def mentions(self, text: str) -> list[Mention]:
        """Tickets a text refers to, best first, with the weighted share of their title it says.

        A word said only as a past-tense verb ("Ethan tested it") names no ticket ("Checkout load testing").
        """
        said = {stem(w) for w in words(text) if not w.endswith("ed")}
        said_past = {stem(w) for w in words(text) if w.endswith("ed")}
        out = []
        for t in self.tickets:
            stems = self.stems[t.key]
            total = sum(self.weight[s] for s in stems)
            if not total:
                continue
            matched = stems & said | stems & said_past & self.past_forms[t.key]
            hit = sum(self.weight[s] for s in matched)
            if hit:
                out.append(Mention(t, hit / total))
        return sorted(out, key=lambda m: -m.score)


def _status_said(clause: str) -> str | None:
    """The status a clause puts its subject in, or None when it states none for now."""
    for pattern, status in ((REGRESSED, "REGRESSED"), (SHELVED, "TODO"), (IN_PROGRESS, "IN_PROGRESS"),
                            (DONE, "DONE")):
        for m in pattern.finditer(clause):
            before = clause[:m.start()]
            if status == "DONE" and PARTLY.search(before):
                return "IN_PROGRESS"
            if status in ("DONE", "IN_PROGRESS") and NOT_NOW.search(before[-40:]):
                continue
            if status == "REGRESSED" and MAYBE.search(before[-40:]):
                continue
            return status
    return None


def _clauses(text: str) -> list[str]:
    return [c for c in re.split(r"[,;]\s+(?:and\s+|but\s+|so\s+)?|\s+but\s+|\.\s+", text) if c.strip()]


@dataclass
class TicketMove:
    """A status change said in one sentence: applied, or (with rivals) offered for a person to confirm."""

    sentence: int  # index of the sentence that says it
    update: TicketUpdate
    unsure: list[TicketUpdate]  # when the ticket meant is unclear: one candidate per rival ticket


def ticket_moves(sentences: list[Sentence], board: Board, only: range | None = None) -> list[TicketMove]:
    """Every status change said in the meeting (or in the sentences `only` names), in order."""
    moves: list[TicketMove] = []
    for i in only if only is not None else range(len(sentences)):
        s = sentences[i]
        # "Has anyone started on dark mode yet?" asks; it moves nothing (even with its question mark lost).
        if asked(sentences, i):
            continue
        for clause in _clauses(s.text):
            said = _status_said(clause)
            if said is None:
                continue
            found = _referent(board, sentences, i, clause)
            if not found:
                continue
            best, ambiguous = found
            to = said
            if said == "REGRESSED":
                if best.ticket.status != "DONE":
                    continue
                to = "IN_PROGRESS"
            update = TicketUpdate(key=best.ticket.key, from_status=best.ticket.status, to=to, start=s.start,
                                  speaker=s.speaker, evidence=s.text)
            unsure = [TicketUpdate(key=m.ticket.key, from_status=m.ticket.status, to=to, start=s.start,
                                   speaker=s.speaker, evidence=s.text) for m in ambiguous]
            moves.append(TicketMove(i, update, unsure))
    return moves


def settle_moves(moves: list[TicketMove]) -> tuple[list[TicketUpdate], list[TicketUpdate]]:
    """(applied, unconfirmed): one move per ticket, the last said winning; moves to where it already is dropped."""
    latest: dict[str, TicketUpdate] = {}
    unsure: dict[str, TicketUpdate] = {}
    for move in moves:
        if move.unsure:
            for u in move.unsure:
                unsure.setdefault(u.key, u)
            continue
        latest[move.update.key] = move.update
    applied = [u for u in latest.values() if u.to != u.from_status]
    unconfirmed = [u for k, u in unsure.items() if k not in latest and u.to != u.from_status]
    return sorted(applied, key=lambda u: u.start or 0), sorted(unconfirmed, key=lambda u: u.start or 0)


def find_ticket_updates(sentences: list[Sentence], tickets: list[Ticket]) -> tuple[list[TicketUpdate],
                                                                                    list[TicketUpdate]]:
    """(applied, unconfirmed) status changes of the board's tickets, one per ticket, the last said winning."""
    if not tickets:
        return [], []
    return settle_moves(ticket_moves(sentences, Board(tickets)))


def _referent(board: Board, sentences: list[Sentence], i: int, clause: str) -> tuple[Mention, list[Mention]] | None:
    """The ticket a status clause is about: named in it or its sentence, or pointed back to ("this part")."""
    s = sentences[i]
    for text in (clause, s.text):
        picked = _pick(board.mentions(text))
        if picked:
            return picked
    if not POINTER.search(clause):
        return None
    for prev in reversed(sentences[max(0, i - 2):i]):
        if prev.speaker != s.speaker and not prev.is_question:
            continue
        picked = _pick(board.mentions(prev.text))
        if picked:
            return picked
    return None


def _pick(mentions: list[Mention]) -> tuple[Mention, list[Mention]] | None:
    """The one ticket meant, and the rivals too close to call when it is not clear.

    A title only half said ("the dashboard stuff is done") is not applied but offered for confirmation.
    """
    strong = [m for m in mentions if m.score >= MATCH_AT]
    if not strong:
        weak = [m for m in mentions if m.score >= WEAK_MATCH_AT]
        return (weak[0], weak) if weak else None
    rivals = [m for m in strong if strong[0].score - m.score < AMBIGUOUS_MARGIN]
    return strong[0], (rivals if len(rivals) > 1 else [])
