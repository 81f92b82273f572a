"""Turn the model's per-chunk replies into one meeting's Findings: map back to times, check tickets, dedupe, and
keep the model's unsure items apart as "possible", as the local engine does."""

from __future__ import annotations

import re

from pipeline.findings.checklist import follow_up_questions, suggest_questions
from pipeline.findings.llm_schema import ChunkReply
from pipeline.findings.metrics import BY_NAME
from pipeline.findings.people import People
from pipeline.findings.sentences import build_sentences
from pipeline.findings.summary import summarize
from pipeline.types import (
    ActionItem,
    Findings,
    MeetingInfo,
    Metric,
    Note,
    Question,
    Segment,
    Ticket,
    TicketUpdate,
)

# The from-status of a ticket update whose key is not on the board (never applied, only offered to confirm).
NOT_ON_BOARD = "UNKNOWN"
# The model's own confidence at or above which an action item, decision or blocker is delivered; below it, the item
# is only shown for review as "possible". The prompt puts "only floated, half agreed or unclear" at about 0.5 and
# "said plainly" at 0.9, so 0.6 is the line between the two. Models' own scores are not calibrated like the local
# labeller's (no dev-data threshold can be chosen without a model to run), so the line follows the scale we asked for.
LLM_CONFIDENT = 0.6


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def _name(people: People, said: str | None) -> str | None:
    """A participant's name as the meeting knows it; the model's words when nobody by that name is known."""
    if not said or not said.strip():
        return None
    return people.canonical(said) or said.strip()


def _evidence(seg: Segment, confidence: float) -> dict:
    """An item's confidence and the line it rests on: the cited segment's words and end."""
    return {"confidence": round(confidence, 3), "evidence": seg.text.strip(), "end": seg.end}


def merge_replies(replies: list[ChunkReply], segments: list[Segment], info: MeetingInfo,
                  board: list[Ticket]) -> Findings:
    """One Findings from the replies for overlapping chunks, every item with its line's start and speaker."""
    people = People([*info.participants, *(s.speaker for s in segments)])
    actions: dict[str, ActionItem] = {}
    questions: dict[str, Question] = {}
    decisions: dict[str, Note] = {}
    blockers: dict[str, Note] = {}
    metrics: dict[tuple[str, float], Metric] = {}
    for reply in replies:
        for a in reply.action_items:
            seg = segments[a.segment]
            item = ActionItem(text=a.text.strip(), owner=_name(people, a.owner), due=a.due, start=seg.start,
                              speaker=seg.speaker, **_evidence(seg, a.confidence))
            known = actions.setdefault(_norm(item.text), item)
            # The same task seen in two overlapping chunks: keep the first, fill in what it lacked; the surer
            # sighting (the chunk that saw more of the talk around it) sets the confidence.
            known.owner, known.due = known.owner or item.owner, known.due or item.due
            known.confidence = max(known.confidence, item.confidence)
        for q in reply.questions:
            seg = segments[q.segment]
            # Who spoke the line is known for tracks and voice-tagged transcripts; trust it over the model.
            item = Question(text=q.text.strip(), asked_by=seg.speaker or _name(people, q.asked_by),
                            answered=q.answered, start=seg.start, speaker=seg.speaker)
            known = questions.setdefault(_norm(item.text), item)
            # A chunk that ends on the question cannot see its answer; the next one, overlapping, can.
            known.answered = known.answered or item.answered
        for kind, out in ((reply.decisions, decisions), (reply.blockers, blockers)):
            for n in kind:
                seg = segments[n.segment]
                item = Note(text=n.text.strip(), start=seg.start, speaker=seg.speaker, **_evidence(seg, n.confidence))
                known = out.setdefault(_norm(item.text), item)
                known.confidence = max(known.confidence, item.confidence)
        for m in reply.metrics:
            seg = segments[m.segment]
            metrics.setdefault((m.name, m.value), Metric(name=m.name, value=m.value, unit=BY_NAME[m.name].unit,
                                                         start=seg.start, speaker=seg.speaker, evidence=m.evidence))
    by_time = lambda x: x.start or 0.0  # noqa: E731
    findings = Findings(questions=sorted(questions.values(), key=by_time),
                        metrics=sorted(metrics.values(), key=by_time))
    for name, found in (("action_items", actions), ("decisions", decisions), ("blockers", blockers)):
        items = sorted(found.values(), key=by_time)
        setattr(findings, name, [x for x in items if x.confidence >= LLM_CONFIDENT])
        setattr(findings, f"possible_{name}", [x for x in items if x.confidence < LLM_CONFIDENT])
    findings.ticket_updates, findings.unconfirmed_ticket_updates = ticket_updates(replies, segments, board)
    # Checklist gaps and follow-ups stay with the local rules: their topics, priorities and wording are a fixed
    # vocabulary, and coverage also reads the model's findings ("an action item has an owner").
    findings.suggested_questions = suggest_questions(info.type, build_sentences(segments), findings)
    findings.follow_ups = follow_up_questions(findings)
    summaries = [r.summary.strip() for r in replies if r.summary.strip()]
    findings.summary = " ".join(summaries) or summarize(info, findings)
    return findings


def ticket_updates(replies: list[ChunkReply], segments: list[Segment],
                   board: list[Ticket]) -> tuple[list[TicketUpdate], list[TicketUpdate]]:
    """(applied, unconfirmed): one move per board ticket, the last said winning; unknown keys only to confirm."""
    tickets = {t.key.strip().upper(): t for t in board}
    latest: dict[str, TicketUpdate] = {}
    unsure: dict[str, TicketUpdate] = {}
    said = sorted((u for r in replies for u in r.ticket_updates), key=lambda u: u.segment)
    for u in said:
        seg = segments[u.segment]
        ticket = tickets.get(u.key.strip().upper())
        if ticket is None:
            # A key the board does not have is never applied: the model may have made it up or misheard it.
            unsure[u.key.strip()] = TicketUpdate(key=u.key.strip(), from_status=NOT_ON_BOARD, to=u.to,
                                                 start=seg.start, speaker=seg.speaker, evidence=u.evidence)
            continue
        update = TicketUpdate(key=ticket.key, from_status=ticket.status, to=u.to, start=seg.start,
                              speaker=seg.speaker, evidence=u.evidence)
        if u.certain:
            latest[ticket.key] = update
        else:
            unsure[ticket.key] = update
    applied = [u for u in latest.values() if u.to != u.from_status]
    unconfirmed = [u for k, u in unsure.items() if k not in latest and u.to != u.from_status]
    return sorted(applied, key=lambda u: u.start or 0), sorted(unconfirmed, key=lambda u: u.start or 0)
