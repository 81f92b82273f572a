"""A few sentences of summary assembled only from what the detectors found in the meeting's own words."""

from __future__ import annotations

from dataclasses import fields

from pipeline.findings.text import clean_spoken
from pipeline.types import ActionItem, Findings, MeetingInfo, Note, Question, TicketUpdate

MAX_LISTED = 3


def _short(text: str, limit: int = 90) -> str:
    """A finding's words as a summary quotes them: no hesitations, cut at a word, never "…."."""
    text = (clean_spoken(text) or text).strip().rstrip(".")
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _stop(text: str) -> str:
    """The full stop a sentence ending in `text` needs: none after an ellipsis or a question mark."""
    return "" if text.endswith(("…", ".", "!", "?")) else "."


def _surest(items: list, n: int) -> list:
    """The n findings the engine is surest of, in the order they were said."""
    ranked = sorted(range(len(items)), key=lambda i: -(items[i].confidence if items[i].confidence is not None
                                                       else 1.0))[:n]
    return [items[i] for i in sorted(ranked)]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def summarize(info: MeetingInfo, findings: Findings) -> str:
    """Decisions, action items, blockers, ticket moves and open questions, in that order, nothing invented."""
    parts: list[str] = []
    if findings.decisions:
        listed = "; ".join(_short(d.text) for d in _surest(findings.decisions, MAX_LISTED))
        more = len(findings.decisions) - MAX_LISTED
        parts.append(f"Decided: {listed}" + (f" (and {more} more)." if more > 0 else _stop(listed)))
    if findings.action_items:
        items = []
        for a in _surest(findings.action_items, MAX_LISTED):
            who = f"{a.owner} to " if a.owner else ""
            due = f" by {a.due}" if a.due else ""
            items.append(f"{who}{_lower_first(_short(a.text, 70))}{due}")
        n = len(findings.action_items)
        noun = "action item" if n == 1 else "action items"
        more = n - MAX_LISTED
        listed = "; ".join(items)
        parts.append(f"{n} {noun}: {listed}" + (f"; and {more} more." if more > 0 else _stop(listed)))
    if findings.blockers:
        listed = "; ".join(_short(b.text) for b in _surest(findings.blockers, 2))
        parts.append(f"Blocked: {listed}{_stop(listed)}")
    if findings.ticket_updates:
        moves = ", ".join(f"{u.key} to {u.to.replace('_', ' ').lower()}" for u in findings.ticket_updates)
        parts.append(f"Tickets moved: {moves}.")
    open_questions = [q for q in findings.questions if not q.answered]
    if open_questions:
        noun = "question was" if len(open_questions) == 1 else "questions were"
        parts.append(f"{len(open_questions)} {noun} left open, e.g. \"{_short(open_questions[0].text)}\"" +
                     ("" if open_questions[0].text.rstrip().endswith("?") else "."))
    if not parts:
        return f"{info.title}: no decisions, action items or blockers were recorded."
    return " ".join(parts)


def _rows(cls, items: list[dict] | None) -> list:
    names = {f.name for f in fields(cls)}
    return [cls(**{k: v for k, v in item.items() if k in names}) for item in items or []]


def summarize_result(result: dict) -> str:
    """`summarize` over a result dict (RESULT_FORMAT), e.g. one whose action items a reviewer dropped or edited."""
    meeting = result.get("meeting") or {}
    findings = Findings(action_items=_rows(ActionItem, result.get("action_items")),
                        questions=_rows(Question, result.get("questions")),
                        decisions=_rows(Note, result.get("decisions")), blockers=_rows(Note, result.get("blockers")),
                        ticket_updates=[TicketUpdate(key=u["key"], from_status=u.get("from") or "", to=u["to"])
                                        for u in result.get("ticket_updates") or []])
    return summarize(MeetingInfo(title=meeting.get("title") or "Meeting"), findings)
