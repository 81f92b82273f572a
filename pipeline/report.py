"""Human-readable reports of a meeting result dict (RESULT_FORMAT): plain text and Markdown."""

from __future__ import annotations

import json

from core.clock import clock


def who(name: str | None) -> str:
    return name or "unassigned"


def sure(item: dict) -> str:
    """How sure the engine was, when it said: " (72%)"."""
    c = item.get("confidence")
    return f" ({round(c * 100)}%)" if isinstance(c, int | float) else ""


def action_line(a: dict) -> str:
    return f"{a['text']} — {who(a.get('owner'))}" + (f", due {a['due']}" if a.get("due") else "") \
        + f" [{clock(a.get('start'))}]"


def sections(r: dict) -> list[tuple[str, list[str]]]:
    """The report's sections as (heading, lines), shared by every format."""
    out: list[tuple[str, list[str]]] = []
    out.append(("Action items", [action_line(a) for a in r.get("action_items", [])]))
    out.append(("Decisions", [f"{d['text']} [{clock(d.get('start'))}]" for d in r.get("decisions", [])]))
    out.append(("Blockers", [f"{b['text']} [{clock(b.get('start'))}]" for b in r.get("blockers", [])]))
    possible = [f"Action item: {action_line(a)}{sure(a)}" for a in r.get("possible_action_items", [])] + [
        f"Decision: {d['text']} [{clock(d.get('start'))}]{sure(d)}" for d in r.get("possible_decisions", [])] + [
        f"Blocker: {b['text']} [{clock(b.get('start'))}]{sure(b)}" for b in r.get("possible_blockers", [])]
    if possible:
        out.append(("Possible (not sent anywhere: Onno is not sure)", possible))
    out.append(("Questions", [
        f"{q['text']} — {q.get('asked_by') or 'someone'}, {'answered' if q.get('answered') else 'UNANSWERED'}"
        f" [{clock(q.get('start'))}]" for q in r.get("questions", [])]))
    out.append(("Worth asking next", [
        f"{q['text']} ({q.get('priority', 'important')}" + (f", {q['topic']}" if q.get("topic") else "") + ")"
        for q in r.get("suggested_questions", [])] + [q["text"] for q in r.get("follow_ups", [])]))
    out.append(("Ticket updates", [
        f"{u['key']}: {u['from']} → {u['to']} [{clock(u.get('start'))}]" for u in r.get("ticket_updates", [])]))
    unsure = r.get("unconfirmed_ticket_updates", [])
    if unsure:
        out.append(("Ticket updates to confirm (not applied)", [
            f"{u['key']}: {u['from']} → {u['to']}? \"{u.get('evidence', '')}\"" for u in unsure]))
    out.append(("Metrics", [f"{m['name']}: {m['value']:g} {m['unit']} [{clock(m.get('start'))}]"
                            for m in r.get("metrics", [])]))
    return out


def header(r: dict) -> tuple[str, str]:
    m = r["meeting"]
    meta = f"{m['type']} · {m['date']} · {clock(m.get('duration'))}"
    if m.get("participants"):
        meta += " · " + ", ".join(m["participants"])
    return m["title"], meta


def transcript_lines(r: dict) -> list[str]:
    return [f"[{clock(s['start'])}] {s.get('speaker') or 'Speaker'}: {s['text']}" for s in r.get("transcript", [])]


def as_text(r: dict, *, transcript: bool = False) -> str:
    """A plain-text report for the terminal."""
    title, meta = header(r)
    lines = [title, meta, ""]
    if r.get("summary"):
        lines += ["Summary", "  " + r["summary"], ""]
    for heading, items in sections(r):
        lines.append(f"{heading} ({len(items)})")
        lines += [f"  • {i}" for i in items] or ["  none"]
        lines.append("")
    if transcript:
        lines += ["Transcript", *("  " + t for t in transcript_lines(r))]
    return "\n".join(lines).rstrip() + "\n"


def as_markdown(r: dict, *, transcript: bool = True) -> str:
    """Markdown ready to paste into a doc or wiki."""
    title, meta = header(r)
    lines = [f"# {title}", "", f"*{meta}*", ""]
    if r.get("summary"):
        lines += ["## Summary", "", r["summary"], ""]
    for heading, items in sections(r):
        if not items:
            continue
        box = "- [ ] " if heading == "Action items" else "- "
        lines += [f"## {heading}", "", *(box + i for i in items), ""]
    if transcript and r.get("transcript"):
        lines += ["## Transcript", "", *(f"- {t}" for t in transcript_lines(r)), ""]
    return "\n".join(lines).rstrip() + "\n"


def render(r: dict, fmt: str) -> str:
    """Render in `fmt`: json, markdown or text."""
    if fmt == "json":
        return json.dumps(r, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return as_markdown(r)
    return as_text(r)
