"""Team notices: things the team must be told once (a broken Notion board, a failed payment), kept as an outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import insert_ignore
from storage.discord import DiscordLiveMeeting
from storage.models import Base, Workspace, utcnow
from storage.slack import SlackFile


class TeamNotice(Base):
    """One notice for a workspace's team; its `key` makes it once-only, its status says whether it went out."""

    __tablename__ = "team_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)  # e.g. notion-broken-3-2026-11-16T10:00:00+00:00
    kind: Mapped[str] = mapped_column(String(40))  # notion_broken | payment_failed | downgraded
    text: Mapped[str] = mapped_column(Text)  # what happened
    hint: Mapped[str] = mapped_column(Text, default="")  # what to do about it
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)  # pending|sending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    # Where it went: "slack:C123" / "discord:456" / "log" -> {"ref": message ts or id} or {"error": why not}.
    destinations: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column()


class NoticeSettings(Base):
    """Where a workspace wants its notices in Slack and in Discord: a chosen channel, nowhere (off), or automatic
    (no row, or neither set for that platform)."""

    __tablename__ = "team_notice_settings"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    slack_channel_id: Mapped[str | None] = mapped_column(String(40))
    slack_off: Mapped[bool] = mapped_column(Boolean, default=False)
    discord_channel_id: Mapped[str | None] = mapped_column(String(40))
    discord_off: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


def _execute(s: Session, stmt):
    """A conditional UPDATE in SQL alone; the caller reads rowcount to learn whether it won."""
    return s.execute(stmt.execution_options(synchronize_session=False))


# -- the outbox -----------------------------------------------------------------------------------------------------


def create_notice(s: Session, workspace_id: int, *, key: str, kind: str, text: str, hint: str = "") -> bool:
    """Add a notice unless one with this key exists; True when this call added it.

    INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike) never aborts the caller's transaction, so the
    notice can be written in the same transaction as the change it reports.
    """
    now = utcnow()
    values = dict(workspace_id=workspace_id, key=key[:200], kind=kind, text=text, hint=hint, status="pending",
                  attempts=0, next_attempt_at=now, destinations={}, created_at=now)
    return insert_ignore(s, TeamNotice, values, ["key"]) is not None


def get_notice(s: Session, notice_id: int) -> TeamNotice | None:
    return s.get(TeamNotice, notice_id)


def notice_by_key(s: Session, key: str) -> TeamNotice | None:
    return s.scalar(select(TeamNotice).where(TeamNotice.key == key))


def existing_keys(s: Session, keys: list[str]) -> set[str]:
    return set(s.scalars(select(TeamNotice.key).where(TeamNotice.key.in_(keys)))) if keys else set()


def list_notices(s: Session, workspace: Workspace, *, limit: int = 50) -> list[TeamNotice]:
    """Newest first."""
    q = select(TeamNotice).where(TeamNotice.workspace_id == workspace.id).order_by(TeamNotice.id.desc()).limit(limit)
    return list(s.scalars(q))


def claim_notice(s: Session, notice_id: int, lease: float) -> bool:
    """Take a due notice for sending; a delivered or failed one, or one someone else is sending, is not taken."""
    now = utcnow()
    res = _execute(s, update(TeamNotice).where(
        TeamNotice.id == notice_id,
        or_((TeamNotice.status == "pending") & (TeamNotice.next_attempt_at <= now),
            (TeamNotice.status == "sending") & (TeamNotice.lease_expires_at < now)),
    ).values(status="sending", lease_expires_at=now + dt.timedelta(seconds=lease), attempts=TeamNotice.attempts + 1))
    return res.rowcount == 1


def record_destination(s: Session, notice_id: int, destination: str, outcome: dict) -> None:
    """Note what one destination did with the notice, at once: a retry skips where it already went."""
    row = s.get(TeamNotice, notice_id, with_for_update=True)
    row.destinations = {**(row.destinations or {}), destination: outcome}


def finish_notice(s: Session, notice_id: int, status: str, **values) -> bool:
    res = _execute(s, update(TeamNotice).where(TeamNotice.id == notice_id, TeamNotice.status == "sending")
                   .values(status=status, lease_expires_at=None, **values))
    return res.rowcount == 1


def due_notices(s: Session, *, limit: int = 100) -> list[int]:
    """Notices due to be sent (new, or waiting for a retry) and ones stuck 'sending' under a dead lease."""
    now = utcnow()
    q = (select(TeamNotice.id).where(or_((TeamNotice.status == "pending") & (TeamNotice.next_attempt_at <= now),
                                         (TeamNotice.status == "sending") & (TeamNotice.lease_expires_at < now)))
         .order_by(TeamNotice.id).limit(limit))
    return list(s.scalars(q))


# -- where the team is --------------------------------------------------------------------------------------------


def latest_recording_channel(s: Session, workspace_id: int) -> str | None:
    """The Slack channel whose recording most recently went to processing: where the team last worked with us."""
    q = (select(SlackFile.channel_id).where(SlackFile.workspace_id == workspace_id, SlackFile.job_id.is_not(None))
         .order_by(SlackFile.id.desc()).limit(1))
    return s.scalar(q)


def latest_live_text_channel(s: Session, workspace_id: int) -> str | None:
    """The Discord text channel of the workspace's most recent live meeting."""
    q = (select(DiscordLiveMeeting.text_channel_id).where(DiscordLiveMeeting.workspace_id == workspace_id)
         .order_by(DiscordLiveMeeting.id.desc()).limit(1))
    return s.scalar(q)


# -- settings ---------------------------------------------------------------------------------------------------------


def notice_settings(s: Session, workspace_id: int) -> NoticeSettings | None:
    return s.get(NoticeSettings, workspace_id)


def _settings_row(s: Session, workspace_id: int) -> NoticeSettings:
    """The row to change, made if missing and locked: two changes at once neither collide nor lose one."""
    insert_ignore(s, NoticeSettings, {"workspace_id": workspace_id, "slack_off": False, "discord_off": False,
                                      "updated_at": utcnow()}, ["workspace_id"])
    return s.scalar(select(NoticeSettings).where(NoticeSettings.workspace_id == workspace_id).with_for_update()
                    .execution_options(populate_existing=True))


def set_slack_place(s: Session, workspace_id: int, *, channel_id: str | None, off: bool = False) -> None:
    """A channel for notices (`here`), none at all (`off`), or back to automatic (channel None, not off)."""
    row = _settings_row(s, workspace_id)
    row.slack_channel_id, row.slack_off, row.updated_at = channel_id, off, utcnow()
    s.flush()


def set_discord_place(s: Session, workspace_id: int, *, channel_id: str | None, off: bool = False) -> None:
    """The same for Discord (`/onno settings notices:here|off|auto`); the Slack choice is left as it is."""
    row = _settings_row(s, workspace_id)
    row.discord_channel_id, row.discord_off, row.updated_at = channel_id, off, utcnow()
    s.flush()
