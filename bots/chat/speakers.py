"""`/onno rename-speaker` for both bots: name a voice of a channel's latest meeting (or a given one) everywhere
it went, through the one rename (onno.speakers)."""

from __future__ import annotations

import shlex

from sqlalchemy import select

from bots.chat.board import SMART_QUOTES
from core.errors import InputError
from storage import repository as repo
from storage.models import Job


def split_words(text: str) -> list[str]:
    """Words as typed in chat, quotes keeping "Speaker 2" whole (curly quotes too); InputError for an open quote."""
    try:
        return shlex.split(text.translate(SMART_QUOTES))
    except ValueError as exc:
        raise InputError("A quote is left open.", 'Put a name with spaces in quotes: "Speaker 2".') from exc


def latest_meeting(app, ws_id: int, job_ids: list[str]) -> int | None:
    """The newest meeting made by one of `job_ids` (a channel's), else the workspace's newest; None when none."""
    with app.session() as s:
        if job_ids:
            q = (select(Job.meeting_id).where(Job.workspace_id == ws_id, Job.id.in_(job_ids),
                                              Job.meeting_id.is_not(None))
                 .order_by(Job.meeting_id.desc()).limit(1))
            if (found := s.scalar(q)) is not None:
                return found
        meetings = repo.list_meetings(s, repo.workspace_by_id(s, ws_id), limit=1)
        return meetings[0].id if meetings else None


def rename(app, ws_id: int, meeting_id: int | None, old: str, new: str) -> str:
    """Rename and say what changed (and which posts are being updated), or why nothing did."""
    from onno.speakers import rename_speaker

    if meeting_id is None:
        return "No meeting here yet to rename a speaker in."
    try:
        return rename_speaker(app, meeting_id, old, new, workspace=ws_id).summary()
    except InputError as exc:
        return f"Nothing was renamed: {exc.problem} {exc.hint}"
