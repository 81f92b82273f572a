"""Review first from the chat bots: look up, drop, restore, edit and approve action items, one set of rules.

Slack and Discord differ in how a person clicks; what a click may do does not: the item must be one of this
workspace's meetings, the meeting must be waiting for review, and once approved nothing changes (what was sent is
sent). Each function takes the app and the workspace row id, and raises Refused with the sentence to show.
"""

from __future__ import annotations

from storage import repository as repo
from storage import review as review_repo
from storage.slack import workspace_finding


class Refused(Exception):
    """The click can't be done; the message says why, to the person who clicked."""


NOT_HERE = "That action item isn't in this workspace any more."
NOT_HELD = "This meeting isn't waiting for review: its results went out when it was processed."


NOT_EDITABLE = "Only action items are edited; keep or drop a possible decision or blocker as it was said."


def _open_item(s, ws_id: int, finding_id: int):
    finding = workspace_finding(s, repo.workspace_by_id(s, ws_id), finding_id)
    if finding is None or finding.kind not in review_repo.REVIEW_KINDS:
        raise Refused(NOT_HERE)
    review = review_repo.meeting_review(s, finding.meeting_id)
    if review is None:
        raise Refused(NOT_HELD)
    if review.status == "approved":
        raise Refused(review_repo.ReviewClosed().problem)
    return finding


def item(app, ws_id: int, finding_id: int) -> dict:
    """The action item as it would go out now, to fill an edit form: number (from 1), state, text, owner, due."""
    with app.session() as s:
        finding = _open_item(s, ws_id, finding_id)
        rows = review_repo.reviewed_items(s, finding.meeting_id, notes=True)
        n, state, current = next((n, state, it) for n, (f, state, it) in enumerate(rows, 1) if f.id == finding.id)
        return {"meeting_id": finding.meeting_id, "finding_id": finding.id, "number": n, "state": state,
                "text": current.get("text") or "", "owner": current.get("owner") or "",
                "due": current.get("due") or ""}


def change(app, ws_id: int, finding_id: int, *, user: str, status: str | None = None,
           edits: dict | None = None) -> int:
    """Drop (`status="dropped"`), restore or keep (`"approved"`) one finding, or edit an action item; return its
    meeting's id."""
    with app.session() as s:
        finding = _open_item(s, ws_id, finding_id)
        if edits and finding.kind in review_repo.POSSIBLE_NOTES:
            raise Refused(NOT_EDITABLE)
        try:
            review_repo.review_finding(s, finding, status=status, edits=edits, user=user)
        except review_repo.ReviewClosed as exc:  # approved between the look and the change
            raise Refused(exc.problem) from exc
        return finding.meeting_id


def state(app, ws_id: int, meeting_id: int) -> dict:
    """The meeting's review as a surface shows it (storage.review.review_state), or Refused."""
    with app.session() as s:
        if repo.get_meeting(s, repo.workspace_by_id(s, ws_id), meeting_id) is None:
            raise Refused("That meeting isn't in this workspace any more.")
        found = review_repo.review_state(s, meeting_id)
    if found is None:
        raise Refused(NOT_HELD)
    return found


def approve(app, ws_id: int, meeting_id: int, *, user: str) -> tuple[list[str], list[int]]:
    """Approve & send: (the kinds that were held, the deliveries released); none released when approved before.

    The held deliveries go out through the app's job runner with the reviewed findings, as `onno review
    --approve` sends them."""
    held = state(app, ws_id, meeting_id)["kinds"]
    released = app.runner.approve(meeting_id, ws_id, user=user)
    return held, released
