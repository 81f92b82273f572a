"""Review first: a workspace setting that holds Notion and e-mail deliveries until a person approves the findings.

Per finding a review row says what the reviewer did (approved, dropped, or edited its text/owner/due); per meeting
a row says whether it waits for review or was approved. A Slack "not an action item" mark counts as a drop.
Approving releases the meeting's held deliveries (status `held` -> `pending`), once: a second approval finds none.
After that the review is closed: what was sent is sent, so later changes are refused.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.errors import InputError
from storage.models import Base, Delivery, Finding, Job, Meeting, Workspace, utcnow
from storage.repository import FINDING_KINDS

HELD_KINDS = frozenset({"notion", "email"})  # what waits; webhook, Slack and Discord replies are the review surface
EDITABLE = ("text", "owner", "due")
MAX_TEXT, MAX_OWNER = 500, 100


class ReviewClosed(InputError):
    """The meeting was approved and its held deliveries released: a change now would reach nobody."""

    def __init__(self):
        super().__init__("This meeting was approved and its results were sent, so its action items can't be "
                         "changed any more (what was sent is sent).",
                         "Change the item where it landed (the Notion card), or tell the readers of the e-mail.")


class WorkspaceSettings(Base):
    """Workspace-wide settings that are not any one integration's."""

    __tablename__ = "workspace_settings"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    review_first: Mapped[bool] = mapped_column(Boolean, default=False)


class MeetingReview(Base):
    """A meeting whose Notion and e-mail deliveries were held: pending until someone approves it."""

    __tablename__ = "meeting_reviews"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | approved
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[dt.datetime | None] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class FindingReview(Base):
    """What a reviewer said about one finding: approved or dropped, and any edits to its fields."""

    __tablename__ = "finding_reviews"
    __table_args__ = (UniqueConstraint("finding_id", name="uq_finding_review_finding"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20), default="approved")  # approved | dropped
    edits: Mapped[dict] = mapped_column(default=dict)  # e.g. {"text": ..., "owner": ..., "due": "2026-12-01"}
    user: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- settings -----------------------------------------------------------------------------------------------------


def review_first(s: Session, workspace: Workspace) -> bool:
    row = s.get(WorkspaceSettings, workspace.id)
    return bool(row and row.review_first)


def set_review_first(s: Session, workspace: Workspace, on: bool) -> None:
    row = s.get(WorkspaceSettings, workspace.id)
    if row is None:
        row = WorkspaceSettings(workspace_id=workspace.id)
        s.add(row)
    row.review_first = on
    s.flush()


def hold_kinds(s: Session, workspace: Workspace, job_options: dict) -> frozenset[str]:
    """Delivery kinds to hold for this job: the job's own choice (a Slack channel's setting) or the workspace's."""
    wanted = job_options.get("review_first")
    if wanted is None:
        wanted = review_first(s, workspace)
    return HELD_KINDS if wanted else frozenset()


# -- meetings and findings -----------------------------------------------------------------------------------------


def start_review(s: Session, meeting: Meeting) -> None:
    if s.get(MeetingReview, meeting.id) is None:
        s.add(MeetingReview(meeting_id=meeting.id, workspace_id=meeting.workspace_id))
        s.flush()


def meeting_review(s: Session, meeting_id: int) -> MeetingReview | None:
    return s.get(MeetingReview, meeting_id)


# A finding the engine was unsure of: it goes out only once a person keeps it.
POSSIBLE = FINDING_KINDS["possible_action_items"]
# Possible decisions and blockers, kept or dropped like possible action items: (its list, where a kept one goes).
POSSIBLE_NOTES = {FINDING_KINDS["possible_decisions"]: ("possible_decisions", "decisions"),
                  FINDING_KINDS["possible_blockers"]: ("possible_blockers", "blockers")}
POSSIBLE_KINDS = frozenset({POSSIBLE, *POSSIBLE_NOTES})
REVIEW_KINDS = frozenset({"action_item", *POSSIBLE_KINDS})  # what a reviewer may keep or drop


def goes_out(state: str) -> bool:
    """Whether an action item in this review state is delivered: not dropped, and not a possible one left as is."""
    return state not in ("dropped", "possible")


def action_items(s: Session, meeting_id: int) -> list[Finding]:
    """The meeting's action items, then its possible ones: review numbers are positions in this list, from 1."""
    q = select(Finding).where(Finding.meeting_id == meeting_id, Finding.kind.in_(("action_item", POSSIBLE))) \
        .order_by(Finding.kind, Finding.idx)
    return list(s.scalars(q))


def possible_notes(s: Session, meeting_id: int) -> list[Finding]:
    """The meeting's possible decisions, then its possible blockers: reviewed after the action items."""
    q = select(Finding).where(Finding.meeting_id == meeting_id, Finding.kind.in_(tuple(POSSIBLE_NOTES))) \
        .order_by(Finding.kind.desc(), Finding.idx)
    return list(s.scalars(q))


def finding_reviews(s: Session, meeting_id: int) -> dict[int, FindingReview]:
    q = select(FindingReview).join(Finding).where(Finding.meeting_id == meeting_id)
    return {r.finding_id: r for r in s.scalars(q)}


def check_edits(*, text: str | None = None, owner: str | None = None,
                due: str | None = None) -> tuple[dict, dict[str, str]]:
    """Edits as they are stored, from what a person typed (None: left alone), and what is wrong with each field.

    Text is required; an empty owner or due date clears it (unassigned, no date); a due date is YYYY-MM-DD."""
    edits: dict = {}
    errors: dict[str, str] = {}
    if text is not None:
        text = " ".join(text.split())
        if not text:
            errors["text"] = "Say what needs doing: an action item can't be empty (drop it instead)."
        elif len(text) > MAX_TEXT:
            errors["text"] = f"Keep it under {MAX_TEXT} characters ({len(text)} now)."
        else:
            edits["text"] = text
    if owner is not None:
        owner = " ".join(owner.split())
        if len(owner) > MAX_OWNER:
            errors["owner"] = f"A name of at most {MAX_OWNER} characters, please."
        else:
            edits["owner"] = owner or None
    if due is not None:
        due = due.strip()
        try:
            edits["due"] = dt.date.fromisoformat(due).isoformat() if due else None
        except ValueError:
            errors["due"] = f"{due!r} is not a date: give it as YYYY-MM-DD, e.g. 2026-12-01 (or leave it empty)."
    return edits, errors


def review_finding(s: Session, finding: Finding, *, status: str | None = None, edits: dict | None = None,
                   user: str | None = None) -> FindingReview:
    """Approve or drop a finding (`status`), and/or edit its fields; edits add to earlier ones.

    Raises ReviewClosed once the meeting is approved; restoring a dropped item also lifts a Slack "not an action
    item" mark, which counts as a drop."""
    review = s.get(MeetingReview, finding.meeting_id, with_for_update=True)
    if review is not None and review.status == "approved":
        raise ReviewClosed()
    if status == "approved":
        lift_drop_mark(s, finding)
    row = s.scalar(select(FindingReview).where(FindingReview.finding_id == finding.id))
    if row is None:
        row = FindingReview(finding_id=finding.id, status="approved", edits={})
        s.add(row)
    if status is not None:
        if status not in ("approved", "dropped"):
            raise ValueError(f"unknown review status {status!r}")
        row.status = status
    if edits:
        unknown = set(edits) - set(EDITABLE)
        if unknown:
            raise ValueError(f"cannot edit {', '.join(sorted(unknown))}")
        row.edits = {**(row.edits or {}), **edits}
    row.user, row.updated_at = user, utcnow()
    s.flush()
    return row


def lift_drop_mark(s: Session, finding: Finding) -> None:
    from storage.slack import ActionItemMark

    mark = s.scalar(select(ActionItemMark).where(ActionItemMark.finding_id == finding.id,
                                                 ActionItemMark.status == "not_action"))
    if mark is not None:
        s.delete(mark)
        s.flush()


def dropped_by_marks(s: Session, meeting_id: int) -> set[int]:
    """Action items marked "not an action item" from Slack: a drop."""
    from storage.slack import ActionItemMark

    q = (select(ActionItemMark.finding_id).join(Finding, Finding.id == ActionItemMark.finding_id)
         .where(Finding.meeting_id == meeting_id, ActionItemMark.status == "not_action"))
    return set(s.scalars(q))


def reviewed_items(s: Session, meeting_id: int, *, notes: bool = False) -> list[tuple[Finding, str, dict]]:
    """(finding, state, the item as it goes out) per action item (with `notes`, then per possible decision and
    blocker); state is open, possible, approved (kept) or dropped."""
    reviews = finding_reviews(s, meeting_id)
    marked = dropped_by_marks(s, meeting_id)
    out = []
    for f in action_items(s, meeting_id) + (possible_notes(s, meeting_id) if notes else []):
        r = reviews.get(f.id)
        state = "dropped" if f.id in marked else (r.status if r else "possible" if f.kind in POSSIBLE_KINDS
                                                  else "open")
        out.append((f, state, {**copy.deepcopy(f.data), **((r.edits or {}) if r else {})}))
    return out


def possible_rows(s: Session, meeting_id: int) -> list[tuple[int, str, dict, str]]:
    """(finding id, state, the item as it goes out, its kind) per possible finding of a meeting held for review."""
    return [(f.id, state, item, f.kind) for f, state, item in reviewed_items(s, meeting_id, notes=True)
            if f.kind in POSSIBLE_KINDS]


def reviewed_result(s: Session, meeting_id: int, result: dict, *, summarize: Callable[[dict], str]) -> dict:
    """The result as a reviewed meeting's held deliveries carry it: dropped items out, edits in, and the summary
    said again by `summarize` (the findings engine's, passed in) when what goes out changed.

    A meeting that was never held for review goes out as it was found."""
    if meeting_review(s, meeting_id) is None:
        return result
    rows = reviewed_items(s, meeting_id, notes=True)
    items = [(f, state, item) for f, state, item in rows if f.kind not in POSSIBLE_NOTES]
    out = {**result, "action_items": [item for _f, state, item in items if goes_out(state)],
           "possible_action_items": [item for _f, state, item in items if state == "possible"]}
    for kind, (possible_key, kept_key) in POSSIBLE_NOTES.items():
        notes = [(state, item) for f, state, item in rows if f.kind == kind]
        if notes:  # a kept one is one of them now; a dropped one is gone
            out[kept_key] = [*result.get(kept_key, []), *(item for state, item in notes if goes_out(state))]
            out[possible_key] = [item for state, item in notes if state == "possible"]
    if any(state == "dropped" or item != f.data or f.kind in POSSIBLE_KINDS and goes_out(state)
           for f, state, item in rows):
        # The summary names action items too: say it again from what goes out (an LLM's summary included).
        out["summary"] = summarize(out)
    return out


def waiting_kinds(s: Session, meeting_id: int) -> list[str]:
    """The kinds of delivery (notion, email) held until someone approves this meeting's findings."""
    review = meeting_review(s, meeting_id)
    if review is None or review.status == "approved":
        return []
    return sorted({d.target.partition(":")[0] for d in held_deliveries(s, meeting_id)}, reverse=True)


def reviewed_kinds(s: Session, meeting_id: int) -> list[str]:
    """The kinds of delivery a review holds or held for this meeting, whatever became of them."""
    q = select(Delivery.target).join(Job).where(Job.meeting_id == meeting_id)
    return sorted({t.partition(":")[0] for t in s.scalars(q)} & HELD_KINDS, reverse=True)


def review_state(s: Session, meeting_id: int) -> dict | None:
    """What a review surface shows: status, who approved, the kinds held (or sent), per action item (finding id,
    state, the item as it goes out), and the ids of edited items; None for a meeting that was never held."""
    review = meeting_review(s, meeting_id)
    if review is None:
        return None
    approved = review.status == "approved"
    rows = reviewed_items(s, meeting_id, notes=True)
    return {"meeting_id": meeting_id, "status": review.status, "approved_by": review.approved_by,
            "kinds": reviewed_kinds(s, meeting_id) if approved else waiting_kinds(s, meeting_id),
            "rows": [(f.id, state, item) for f, state, item in rows],
            "edited": [f.id for f, _state, item in rows if item != f.data],
            "notes": {f.id: f.kind for f, _state, _item in rows if f.kind in POSSIBLE_NOTES}}


# -- deliveries ----------------------------------------------------------------------------------------------------


def held_deliveries(s: Session, meeting_id: int) -> list[Delivery]:
    q = (select(Delivery).join(Job).where(Job.meeting_id == meeting_id, Delivery.status == "held")
         .order_by(Delivery.id))
    return list(s.scalars(q))


def approve(s: Session, meeting_id: int, user: str | None = None) -> list[int]:
    """Approve the meeting: items not dropped are approved, held deliveries become due. Returns the ids released
    (none when the meeting was approved already, or was never held)."""
    review = s.get(MeetingReview, meeting_id, with_for_update=True)  # edits wait for us, or we for them
    if review is None:
        return []
    if review.status != "approved":
        review.status, review.approved_by, review.approved_at = "approved", user, utcnow()
    now = utcnow()
    released = []
    for d in held_deliveries(s, meeting_id):
        res = s.execute(update(Delivery).where(Delivery.id == d.id, Delivery.status == "held")
                        .values(status="pending", next_attempt_at=now, enqueued_at=now)
                        .execution_options(synchronize_session=False))
        if res.rowcount == 1:  # a concurrent approval released it first otherwise
            released.append(d.id)
    s.flush()
    return released
