"""The summary e-mail: a meeting result into template context, HTML and plain text, and one message per reader."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache
from pathlib import Path

import jinja2

from core.clock import clock
from pipeline.types import one_line

TEMPLATES = Path(__file__).parent / "templates"
PRIORITY_LABELS = {"critical": "critical", "important": "important", "follow_up": "follow-up"}
UNASSIGNED = "Unassigned"


@dataclass
class Line:
    """One line of the e-mail: what was said or found, and the transcript moment it came from."""

    text: str
    time: str | None = None  # "1:24", shown as the link to the moment
    url: str | None = None
    note: str = ""  # "due Thu 26 Nov", "asked by Peter"
    badge: str = ""  # a suggested question's priority


@dataclass
class Group:
    owner: str
    you: bool
    lines: list[Line] = field(default_factory=list)


@cache
def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=autoescape,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True)
    return env


def nice_date(iso: str | None, meeting_date: dt.date) -> str:
    """'Thu 26 Nov' (with the year when it is not the meeting's), or the text as given when it is no date."""
    if not iso:
        return ""
    try:
        d = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    text = f"{d:%a} {d.day} {d:%b}"
    return text if d.year == meeting_date.year else f"{text} {d.year}"


def context(result: dict, *, link: Callable[[float | None], str], reader: str | None, unsubscribe: str,
            why: str = "") -> dict:
    """Everything the templates show, in reading order; `link(at)` is the meeting page at that moment."""
    m = result["meeting"]
    day = dt.date.fromisoformat(m["date"])

    def line(item: dict, text: str | None = None, note: str = "", badge: str = "") -> Line:
        start = item.get("start")
        return Line(text=text if text is not None else item.get("text", ""), note=note, badge=badge,
                    time=clock(start) if start is not None else None,
                    url=link(start) if start is not None else None)

    groups: dict[str, Group] = {}
    reader_key = (reader or "").casefold()
    for a in result.get("action_items", []):
        owner = a.get("owner") or UNASSIGNED
        group = groups.setdefault(owner, Group(owner=owner, you=bool(reader_key) and owner.casefold() == reader_key))
        due = nice_date(a.get("due"), day)
        group.lines.append(line(a, note=f"due {due}" if due else ""))
    # The reader's own items first, then everyone else by name, the unassigned last.
    ordered = sorted(groups.values(), key=lambda g: (not g.you, g.owner == UNASSIGNED, g.owner.casefold()))

    open_questions = [line(q, note=f"asked by {q['asked_by']}" if q.get("asked_by") else "")
                      for q in result.get("questions", []) if not q.get("answered")]
    listed = {q.text.casefold() for q in open_questions}
    # A follow-up that only restates an unanswered question listed above would say the same thing twice.
    worth_asking = [line(f, note=f.get("reason") or "") for f in result.get("follow_ups", [])
                    if f.get("text", "").removeprefix("Follow up: ").casefold() not in listed]
    worth_asking += [line(q, note=q.get("reason") or "", badge=PRIORITY_LABELS.get(q.get("priority") or "", ""))
                     for q in result.get("suggested_questions", [])]
    moves = [line(u, text=f"{u['key']}: {status(u.get('from'))} → {status(u.get('to'))}",
                  note=quote(u.get("evidence"))) for u in result.get("ticket_updates", [])]
    moves += [line(u, text=f"{u['key']}: {status(u.get('from'))} → {status(u.get('to'))}?",
                   note="not applied: please confirm") for u in result.get("unconfirmed_ticket_updates", [])]
    sections = [
        ("Decisions", [line(d) for d in result.get("decisions", [])]),
        ("Blockers", [line(b) for b in result.get("blockers", [])]),
        ("Unanswered questions", open_questions),
        ("Worth asking next", worth_asking),
        ("Ticket moves", moves),
        ("Metrics", [line(x, text=f"{x['name']}: {x['value']:g} {x.get('unit') or ''}".strip())
                     for x in result.get("metrics", [])]),
    ]
    meta = [f"{day:%A} {day.day} {day:%B %Y}", m.get("type", "").replace("_", " ")]
    if m.get("duration"):
        meta.append(clock(m["duration"]))
    action_count = len(result.get("action_items", []))
    return {
        "title": m["title"], "meta": " · ".join(x for x in meta if x),
        "participants": ", ".join(m.get("participants") or []),
        "summary": result.get("summary") or "", "meeting_url": link(None), "reader": reader,
        "action_groups": ordered, "action_count": action_count,
        "sections": [{"title": t, "lines": lines} for t, lines in sections if lines],
        "unsubscribe_url": unsubscribe, "why": why,
        "preheader": (result.get("summary") or "")[:140],
    }


def quote(text: str | None, limit: int = 140) -> str:
    text = " ".join((text or "").split())
    if not text:
        return ""
    return f"“{text if len(text) <= limit else text[:limit - 1].rstrip() + '…'}”"


def status(value: str | None) -> str:
    return (value or "new").replace("_", " ").lower()


def render(ctx: dict) -> tuple[str, str]:
    """(html, plain text) of the summary e-mail."""
    html = environment(True).get_template("summary.html").render(**ctx)
    text = environment(False).get_template("summary.txt").render(**ctx)
    return html, text


def subject(result: dict) -> str:
    m = result["meeting"]
    day = dt.date.fromisoformat(m["date"])
    count = len(result.get("action_items", []))
    items = f": {count} action item{'s' if count != 1 else ''}" if count else ""
    return one_line(f"{m['title']} ({day.day} {day:%b}){items}")  # stored before titles were one line


def message_id(delivery_key: str, recipient: str, sender: str) -> str:
    """The same for every attempt at one delivery to one reader, so a resend is recognisably the same mail."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "onno.invalid"
    rcpt = hashlib.sha256(recipient.strip().lower().encode()).hexdigest()[:12]
    return f"<{delivery_key}.{rcpt}@{domain}>"


def build_message(*, result: dict, html: str, text: str, sender: str, recipient: str, recipient_name: str | None,
                  delivery_key: str, unsubscribe: str, date: dt.datetime | None = None) -> EmailMessage:
    """One reader's multipart/alternative message with RFC 8058 one-click unsubscribe headers."""
    msg = EmailMessage()
    msg["Subject"] = subject(result)
    msg["From"] = sender
    msg["To"] = Address(display_name=one_line(recipient_name or ""), addr_spec=recipient)
    msg["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id(delivery_key, recipient, sender)
    msg["List-Unsubscribe"] = f"<{unsubscribe}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to this
    msg["X-Onno-Delivery"] = delivery_key
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg
