"""Team notices: things the team must be told once (a broken Notion board, a failed payment), kept in the outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import aware
from storage.db import insert_ignore
from storage.discord import DiscordLiveMeeting
from storage.models import Base, OutboxItem, Workspace, utcnow
from storage.slack import SlackFile


class TeamNotice(OutboxItem):
    """One notice for a workspace's team; its `key` makes it once-only, its status says whether it went out.

    `kind`: notion_broken | payment_failed | downgraded; `text` says what happened, `hint` what to do about it."""

    __mapper_args__ = {"polymorphic_identity": "notice"}

    @property
    def destinations(self) -> dict[str, dict]:
        """Where it went: "slack:C123" / "discord:456" / "log" -> {"ref": message ts or id} or {"error": why not}."""
        return {r.destination: r.outcome for r in self.receipts}


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


# -- the outbox -----------------------------------------------------------------------------------------------------


def create_notice(s: Session, workspace_id: int, *, key: str, kind: str, text: str, hint: str = "") -> bool:
    """Add a notice unless one with this key exists; True when this call added it.

    INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL alike) never aborts the caller's transaction, so the
    notice can be written in the same transaction as the change it reports.
    """
    now = utcnow()
    values = dict(category="notice", workspace_id=workspace_id, key=key[:200], kind=kind, text=text, hint=hint,
                  status="pending", attempts=0, next_attempt_at=now, created_at=now)
    return insert_ignore(s, TeamNotice, values, ["key"]) is not None


def create(s, workspace_id: int, *, key: str, kind: str, text: str, hint: str = "") -> str | None:
    """Write a notice in the caller's transaction; its key when it is new, None when it was made before."""
    return key if create_notice(s, workspace_id, key=key, kind=kind, text=text, hint=hint) else None


def notion_broken(s, conn, reason: str) -> str | None:
    """The notice for a Notion connection just marked broken (one per breakage: keyed on when it broke)."""
    broken_at = aware(conn.broken_at) or utcnow()
    board = conn.board_title or conn.name
    return create(s, conn.workspace_id, key=f"notion-broken-{conn.id}-{broken_at.isoformat(timespec='seconds')}",
                  kind="notion_broken", text=f"Onno can no longer reach the Notion board “{board}”: "
                                             f"{reason.rstrip('. ')}.",
                  hint="Meetings keep their results in Slack/Discord; reconnect with `onno notion connect` or "
                       "/onno notion.")


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
