"""What a week's digest says, read from what the database already holds: meetings held, action items still open
(overdue first), what got done, decisions, unanswered questions, tickets moved, and minutes against the plan.

Action items go by their reviewed form: dropped ones (in review, or marked "not an action item" in Slack) never
show, edits to text, owner and due date do. An item is done once marked so in Slack.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import and_, or_, select

from billing.report import plan_summary
from core.clock import aware
from core.links import meeting_url
from integrations.digest import weeks
from storage import repository as repo
from storage import review as review_repo
from storage.models import Finding, Meeting, Ticket, TicketHistory
from storage.slack import ActionItemMark

LOOKBACK_WEEKS = 4  # open items come from this week's meetings and the three weeks' before
DONE = "DONE"


@dataclass
class Held:
    """A meeting held in the week."""

    meeting_id: int
    title: str
    date: dt.date
    type: str
    duration: float
    action_items: int
    url: str


@dataclass
class Item:
    """An action item: still open, or done this week."""

    text: str
    owner: str | None
    due: str | None  # as found or edited: an ISO date, or words when it was no date
    overdue: bool
    meeting: str  # the meeting's title
    start: float | None
    url: str  # the meeting page at the moment it was said
    how: str = ""  # for done items: "marked done in Slack", "ticket moved to DONE"


@dataclass
class Said:
    """A decision or a question nobody answered, where it was said."""

    text: str
    meeting: str
    start: float | None
    url: str
    asked_by: str | None = None


@dataclass
class Move:
    key: str
    title: str
    from_status: str | None
    to_status: str
    meeting: str | None
    url: str | None
    evidence: str = ""
    start: float | None = None  # when the meeting said so


@dataclass
class WeekDigest:
    workspace_id: int
    team: str  # the Slack team's or Discord server's name; empty for the CLI's own workspace
    week: str
    start: dt.date  # Monday
    end: dt.date  # the Monday after: due before it and still open is overdue
    meetings: list[Held] = field(default_factory=list)
    open_items: list[Item] = field(default_factory=list)  # overdue first, then by due date
    done: list[Item] = field(default_factory=list)
    decisions: list[Said] = field(default_factory=list)
    unanswered: list[Said] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    plan: dict = field(default_factory=dict)  # billing.report.plan_summary

    @property
    def empty(self) -> bool:
        """No meetings, nothing done, nothing moved: no digest is sent for such a week."""
        return not (self.meetings or self.done or self.moves)

    @property
    def minutes(self) -> float:
        return sum(m.duration for m in self.meetings) / 60

    @property
    def overdue(self) -> list[Item]:
        return [i for i in self.open_items if i.overdue]


def due_date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def collect(app, workspace_id: int, week: str) -> WeekDigest:
    """The digest of one workspace's ISO week (UTC), from the meetings, findings, marks and board history."""
    settings = app.settings
    start, end = weeks.bounds(week)
    with app.session() as s:
        ws = repo.workspace_by_id(s, workspace_id)
        if ws is None:
            raise LookupError(f"no workspace {workspace_id}")
        d = WeekDigest(workspace_id=ws.id, team="" if ws.platform == "cli" else ws.name, week=week, start=start,
                       end=end)

        def link(meeting_id: int, at: float | None = None) -> str:
            return meeting_url(settings, ws.id, meeting_id, at=at)

        since = start - dt.timedelta(weeks=LOOKBACK_WEEKS - 1)
        recent = list(s.scalars(select(Meeting).where(Meeting.workspace_id == ws.id, Meeting.date >= since,
                                                      Meeting.date < end).order_by(Meeting.date, Meeting.id)))
        held = [m for m in recent if m.date >= start]
        marks = {f: (status, aware(at)) for f, status, at in s.execute(
            select(ActionItemMark.finding_id, ActionItemMark.status, ActionItemMark.updated_at)
            .where(ActionItemMark.workspace_id == ws.id))}

        for m in held:
            items = sum(1 for _f, state, _i in review_repo.reviewed_items(s, m.id)
                        if review_repo.goes_out(state))
            d.meetings.append(Held(m.id, m.title, m.date, m.type, m.duration, items, link(m.id)))

        def item(f: Finding, data: dict, meeting: Meeting, how: str = "") -> Item:
            due = data.get("due")
            when = due_date(due)
            return Item(text=data.get("text") or f.text, owner=data.get("owner"), due=due,
                        overdue=bool(when and when < end) and not how, meeting=meeting.title, start=f.start,
                        url=link(meeting.id, f.start), how=how)

        for m in recent:
            for f, state, data in review_repo.reviewed_items(s, m.id):
                if review_repo.goes_out(state) and f.id not in marks:
                    d.open_items.append(item(f, data, m))
        d.open_items.sort(key=lambda i: (not i.overdue, due_date(i.due) or dt.date.max))

        # Done this week: marked done in Slack during it (the item may be from any earlier meeting).
        done_ids = {f for f, (status, at) in marks.items() if status == "done" and at and
                    _utc(start) <= at < _utc(end)}
        done_meetings = select(Finding.meeting_id).where(Finding.id.in_(done_ids))
        done_in = s.scalars(select(Meeting).where(Meeting.id.in_(done_meetings))
                            .order_by(Meeting.date, Meeting.id)) if done_ids else []
        for m in done_in:
            for f, state, data in review_repo.reviewed_items(s, m.id):
                if f.id in done_ids and review_repo.goes_out(state):
                    d.done.append(item(f, data, m, how="marked done in Slack"))

        for m in held:
            for f in m.findings:
                if f.kind == "decision":
                    d.decisions.append(Said(f.data.get("text") or f.text, m.title, f.start, link(m.id, f.start)))
                elif f.kind == "question" and not f.data.get("answered"):
                    d.unanswered.append(Said(f.data.get("text") or f.text, m.title, f.start, link(m.id, f.start),
                                             asked_by=f.data.get("asked_by")))

        d.moves = moves(s, ws.id, start, end, link)
        for mv in d.moves:
            if mv.to_status == DONE:
                d.done.append(Item(text=f"{mv.key} {mv.title}", owner=None, due=None, overdue=False,
                                   meeting=mv.meeting or "", start=mv.start, url=mv.url or "",
                                   how="ticket moved to DONE"))
    d.plan = plan_summary(app, workspace_id)
    return d


def moves(s, workspace_id: int, start: dt.date, end: dt.date, link) -> list[Move]:
    """Status changes of the board in the week: a meeting's by the day it was held, others by when they happened.

    A card's first appearance (an import) is no move."""
    in_week = or_(and_(Meeting.date >= start, Meeting.date < end),
                  and_(TicketHistory.meeting_id.is_(None), TicketHistory.created_at >= _utc(start),
                       TicketHistory.created_at < _utc(end)))
    q = (select(TicketHistory, Ticket, Meeting).join(Ticket, Ticket.id == TicketHistory.ticket_id)
         .outerjoin(Meeting, Meeting.id == TicketHistory.meeting_id)
         .where(Ticket.workspace_id == workspace_id, TicketHistory.from_status.is_not(None), in_week)
         .order_by(TicketHistory.id))
    out = []
    for h, t, m in s.execute(q):
        url = said = None
        if m is not None:
            said = next((f.start for f in m.findings if f.kind == "ticket_update" and f.data.get("key") == t.key
                         and f.data.get("to") == h.to_status), None)
            url = link(m.id, said)
        out.append(Move(t.key, t.title, h.from_status, h.to_status, m.title if m else None, url, h.evidence or "",
                        said))
    return out
