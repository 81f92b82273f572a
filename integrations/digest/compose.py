"""The digest e-mail: a week's digest into template context for one reader, HTML and plain text, and the message.

The lines, dates, ticket statuses and the multipart message with its one-click unsubscribe headers are the summary
e-mail's own (integrations.email.compose); only what a week says differs.
"""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from functools import cache
from pathlib import Path

import jinja2

from core.clock import clock
from core.names import owns
from integrations.digest.content import LOOKBACK_WEEKS, Item, WeekDigest
from integrations.email import compose as mail
from integrations.email.compose import Group, Line, nice_date, quote, status

TEMPLATES = Path(__file__).parent / "templates"
MAX_LINES = 40  # per section; the meeting pages hold the rest
UNASSIGNED = mail.UNASSIGNED
WHY = "You get this because your address is on file with your team's Onno; the digest comes once a week."


@cache
def environment(autoescape: bool) -> jinja2.Environment:
    # The summary e-mail's templates are reachable too, for what the two may share.
    loader = jinja2.ChoiceLoader([jinja2.FileSystemLoader(TEMPLATES), jinja2.FileSystemLoader(mail.TEMPLATES)])
    return jinja2.Environment(loader=loader, autoescape=autoescape, undefined=jinja2.StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)


def span(start: dt.date, end: dt.date) -> str:
    """'16–22 Nov 2026', '30 Nov – 6 Dec 2026', '28 Dec 2026 – 3 Jan 2027' for the days start <= day < end."""
    last = end - dt.timedelta(days=1)
    if start.year != last.year:
        return f"{start.day} {start:%b %Y} – {last.day} {last:%b %Y}"
    if start.month != last.month:
        return f"{start.day} {start:%b} – {last.day} {last:%b %Y}"
    return f"{start.day}–{last.day} {last:%b %Y}"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def usage_line(d: WeekDigest) -> str:
    """Minutes this week, and the plan's minutes used and left this period."""
    p = d.plan
    week = f"{plural(round(d.minutes), 'minute')} of meetings this week."
    if not p:
        return week
    if not p["billing"]:
        return f"{week} {plural(round(p['minutes_used']), 'minute')} processed this month; no plan limits apply."
    until = dt.date.fromisoformat(p["period_end"][:10])
    return (f"{week} {p['title']} plan: {p['minutes_used']:.0f} of {p['minutes_included']} minutes used, "
            f"{p['minutes_left']:.0f} left until {until.day} {until:%b}.")


def item_line(i: Item, d: WeekDigest, *, owner: bool = False) -> Line:
    """An open item: overdue ones badged and saying when they were due; the meeting it came from."""
    due = nice_date(i.due, d.start)
    parts = [i.owner or UNASSIGNED] if owner else []
    if i.overdue:
        parts.append(f"was due {due}")
    elif due:
        parts.append(f"due {due}")
    parts.append(i.meeting)
    return Line(text=i.text, note=" · ".join(parts), badge="overdue" if i.overdue else "",
                time=clock(i.start) if i.start is not None else None, url=i.url)


def capped(lines: list[Line]) -> list[Line]:
    if len(lines) <= MAX_LINES:
        return lines
    return lines[:MAX_LINES - 1] + [Line(text=f"…and {len(lines) - MAX_LINES + 1} more on the meeting pages")]


def context(d: WeekDigest, *, reader: str | None, unsubscribe: str, why: str = WHY,
            by_first_name: bool = True) -> dict:
    """Everything the templates show, for one reader (their name as on file; None for no one in particular)."""
    mine = [i for i in d.open_items if owns(i.owner, [reader], by_first_name=by_first_name)]
    mine_ids = {id(i) for i in mine}
    groups: dict[str, Group] = {}
    for i in d.open_items:
        if id(i) in mine_ids:
            continue
        owner = i.owner or UNASSIGNED
        groups.setdefault(owner, Group(owner=owner, you=False)).lines.append(item_line(i, d))
    # Owners with something overdue first (the lead's first question), then by name; the unassigned last.
    ordered = sorted(groups.values(), key=lambda g: (g.owner == UNASSIGNED, not any(x.badge for x in g.lines),
                                                     g.owner.casefold()))
    for g in ordered:
        g.lines = capped(g.lines)

    def said(text: str, x, note: str = "") -> Line:
        return Line(text=text, note=" · ".join(n for n in (note, x.meeting) if n),
                    time=clock(x.start) if x.start is not None else None, url=x.url or None)

    meetings = [Line(text=m.title, url=m.url, time=f"{m.date.day} {m.date:%b}",
                     note=" · ".join([f"{m.date:%A}", m.type.replace("_", " "), clock(m.duration),
                                      plural(m.action_items, "action item")]))
                for m in d.meetings]
    done = [said(i.text, i, note=" · ".join(n for n in (i.owner, i.how) if n)) for i in d.done]
    moves = [said(f"{mv.key} {mv.title}: {status(mv.from_status)} → {status(mv.to_status)}", mv,
                  note=quote(mv.evidence, 100)) for mv in d.moves if mv.to_status != "DONE"]
    sections = [
        ("Meetings held", meetings),
        ("Done this week", done),
        ("Decisions", [said(x.text, x) for x in d.decisions]),
        ("Unanswered questions", [said(x.text, x, f"asked by {x.asked_by}" if x.asked_by else "")
                                  for x in d.unanswered]),
        ("Tickets moved", moves),
    ]
    overdue = len(d.overdue)
    stats = [plural(len(d.meetings), "meeting"), f"{plural(len(d.open_items), 'open action item')}"
             + (f", {overdue} overdue" if overdue else ""), f"{len(d.done)} done"]
    return {
        "title": f"Your week: {span(d.start, d.end)}", "team": d.team,
        "kicker": f"Weekly digest · {d.team}" if d.team else "Weekly digest",
        "meta": f"Week {int(d.week.rpartition('W')[2])} · " + " · ".join(stats),
        "reader": reader, "mine": capped([item_line(i, d) for i in mine]), "mine_overdue": sum(i.overdue for i in mine),
        "open_groups": ordered, "open_count": len(d.open_items) - len(mine),
        "open_note": f"Open items from the meetings of the last {LOOKBACK_WEEKS} weeks, overdue first; an item "
                     "marked done (✓ Done in Slack) leaves the list.",
        "sections": [{"title": t, "lines": capped(lines)} for t, lines in sections if lines],
        "usage": usage_line(d), "unsubscribe_url": unsubscribe, "why": why,
        "preheader": f"{' · '.join(stats)}.",
    }


def render(ctx: dict) -> tuple[str, str]:
    """(html, plain text) of the digest e-mail."""
    html = environment(True).get_template("digest.html").render(**ctx)
    text = environment(False).get_template("digest.txt").render(**ctx)
    return html, text


def subject(d: WeekDigest, mine: int = 0) -> str:
    overdue = len(d.overdue)
    parts = [plural(len(d.meetings), "meeting"), plural(len(d.open_items), "open item")
             + (f" ({overdue} overdue)" if overdue else "")]
    if mine:
        parts.append(f"{mine} yours")
    return f"Weekly digest, {span(d.start, d.end)}: " + ", ".join(parts)


def build_message(d: WeekDigest, *, reader_email: str, reader_name: str | None, sender: str, key: str,
                  unsubscribe: str, by_first_name: bool = True) -> EmailMessage:
    """One reader's multipart message, their open items first, with one-click unsubscribe (RFC 8058) headers."""
    ctx = context(d, reader=reader_name, unsubscribe=unsubscribe, by_first_name=by_first_name)
    html, text = render(ctx)
    msg = mail.build_message(result={"meeting": {"title": "Weekly digest", "date": d.start.isoformat()}},
                             html=html, text=text, sender=sender, recipient=reader_email,
                             recipient_name=reader_name, delivery_key=key, unsubscribe=unsubscribe)
    msg.replace_header("Subject", subject(d, len(ctx["mine"])))
    return msg
