"""Renaming a speaker of a meeting everywhere it went: the stored meeting, then what was delivered.

    rename_speaker(app, meeting_id, "Speaker 2", "Daniel", workspace=ws_id)

The one home for renames: the CLI, the meeting page and the chat commands call it. Deliveries that edit what
they sent (Slack's result message, Discord's posts, Notion cards' assignees) go out again through the outbox;
e-mail and webhooks are not sent again (a second e-mail or event would be a duplicate): the meeting page, which
their links open, shows the new names.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.errors import InputError
from storage import jobs as jobs_repo
from storage import repository as repo
from storage.models import Job
from storage.speakers import rename_speaker as rename_in_meeting

UPDATED_IN_PLACE = ("slack", "discord", "notion")


@dataclass
class Renamed:
    """What a rename changed, for the caller to say."""

    meeting_id: int
    old: str
    new: str
    lines: int
    findings: int
    redelivered: list[str]  # the targets sent again

    def summary(self) -> str:
        again = f"; updating {', '.join(self.redelivered)}" if self.redelivered else ""
        return (f"Meeting {self.meeting_id}: {self.old} is now {self.new} ({self.lines} lines, "
                f"{self.findings} findings{again}).")


def rename_speaker(app, meeting_id: int, old: str, new: str, *, workspace: str | int = "local") -> Renamed:
    """Name a speaker of a stored meeting ("Speaker 2" -> Daniel) in its transcript, owners, askers and summary,
    and update the Slack, Discord and Notion deliveries made from it. InputError when there is no such meeting
    or speaker, or the name is unusable; nothing changes then."""
    from integrations.notion.store import mark_new_owner

    old = old.strip()
    with app.session() as s:
        ws = repo.resolve_workspace(s, workspace)
        meeting = repo.get_meeting(s, ws, meeting_id)
        if meeting is None:
            raise InputError(f"There is no meeting {meeting_id}.", "See the stored meetings with: onno meetings list")
        done = rename_in_meeting(s, meeting, old, new)
        new = " ".join(new.split())
        mark_new_owner(s, done.new_owner)
        job = s.scalar(select(Job).where(Job.meeting_id == meeting_id).order_by(Job.created_at.desc()).limit(1))
        again = jobs_repo.redeliver(s, job.id, UPDATED_IN_PLACE) if job and (done.lines or done.findings) else []
        targets = [jobs_repo.get_delivery(s, d).target for d in again]
    for delivery_id in again:
        app.runner.send("deliver", delivery_id)
    return Renamed(meeting_id, old, new, done.lines, done.findings, targets)
