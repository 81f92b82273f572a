"""Slack's own rows: installations (tokens encrypted), seen events, shared files and their jobs, marks, settings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import aware
from storage.db import insert_ignore
from storage.models import Base, Finding, Meeting, Workspace, utcnow


class SlackInstallation(Base):
    """One install of the app into a Slack team; `secret` is the Fernet-encrypted installation (tokens and all)."""

    __tablename__ = "slack_installations"
    __table_args__ = (UniqueConstraint("install_key", name="uq_slack_installation_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    install_key: Mapped[str] = mapped_column(String(100))  # "enterprise_id:team_id"
    team_id: Mapped[str | None] = mapped_column(String(40))
    enterprise_id: Mapped[str | None] = mapped_column(String(40))
    bot_user_id: Mapped[str | None] = mapped_column(String(40))
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    installed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SlackOAuthState(Base):
    """An OAuth `state` we issued; consumed once, within its lifetime."""

    __tablename__ = "slack_oauth_states"

    state: Mapped[str] = mapped_column(String(100), primary_key=True)
    expires_at: Mapped[dt.datetime] = mapped_column()


class SlackEvent(Base):
    """An event id seen once; Slack's retries of it find the row and start nothing."""

    __tablename__ = "slack_events"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    team_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SlackFile(Base):
    """A file shared in a channel: claimed once per workspace, its thread, progress message and job."""

    __tablename__ = "slack_files"
    __table_args__ = (UniqueConstraint("workspace_id", "file_id", name="uq_slack_file_workspace_file"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[str] = mapped_column(String(40))
    channel_id: Mapped[str] = mapped_column(String(40), index=True)
    thread_ts: Mapped[str | None] = mapped_column(String(40))
    user_id: Mapped[str | None] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(20), default="claimed")  # claimed|submitted|rejected|finished
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(32), index=True)
    status_ts: Mapped[str | None] = mapped_column(String(40))  # the one progress message we keep updating
    status_text: Mapped[str | None] = mapped_column(Text)
    result_ts: Mapped[str | None] = mapped_column(String(40))  # the result message, once posted
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ActionItemMark(Base):
    """What someone said about an action item from Slack: done, or not an action item at all."""

    __tablename__ = "action_item_marks"
    __table_args__ = (UniqueConstraint("finding_id", name="uq_action_item_mark_finding"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(20))  # done | not_action
    user_id: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SlackChannelSettings(Base):
    """Per channel: the meeting type recordings there get, and which integrations are on."""

    __tablename__ = "slack_channel_settings"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", name="uq_slack_channel_settings"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(40))
    meeting_type: Mapped[str] = mapped_column(String(40), default="general")
    options: Mapped[dict] = mapped_column(JSON, default=dict)


# -- workspaces -----------------------------------------------------------------------------------------------


def team_workspace(s: Session, team_id: str, name: str | None = None) -> Workspace:
    """The one workspace row of a Slack team: every Slack query is scoped to it."""
    q = select(Workspace).where(Workspace.platform == "slack", Workspace.external_id == team_id)
    ws = s.scalar(q)
    if ws is not None:
        return ws
    # Two first requests of a new team at once: one inserts, the other reads its row. The savepoint holds only
    # the INSERT (no read before it), so SQLite waits for the other writer instead of failing "locked".
    try:
        with s.begin_nested():
            ws = Workspace(name=name or team_id, platform="slack", external_id=team_id)
            s.add(ws)
        return ws
    except IntegrityError:
        return s.scalar(q)


# -- installations ----------------------------------------------------------------------------------------------


def install_key(enterprise_id: str | None, team_id: str | None) -> str:
    return f"{enterprise_id or ''}:{team_id or ''}"


def save_installation(s: Session, workspace: Workspace, *, enterprise_id: str | None, team_id: str | None,
                      bot_user_id: str | None, secret: bytes) -> None:
    key = install_key(enterprise_id, team_id)
    row = s.scalar(select(SlackInstallation).where(SlackInstallation.install_key == key))
    if row is None:
        row = SlackInstallation(install_key=key, workspace_id=workspace.id)
        s.add(row)
    row.team_id, row.enterprise_id, row.bot_user_id, row.secret = team_id, enterprise_id, bot_user_id, secret
    row.installed_at = utcnow()
    s.flush()


def find_installation(s: Session, enterprise_id: str | None, team_id: str | None) -> SlackInstallation | None:
    row = s.scalar(select(SlackInstallation).where(SlackInstallation.install_key == install_key(enterprise_id,
                                                                                                 team_id)))
    if row is None and enterprise_id and team_id:  # an org-wide install serves every team of the enterprise
        row = s.scalar(select(SlackInstallation).where(SlackInstallation.install_key == install_key(enterprise_id,
                                                                                                     None)))
    return row


def delete_installation(s: Session, enterprise_id: str | None, team_id: str | None) -> None:
    row = s.scalar(select(SlackInstallation).where(SlackInstallation.install_key == install_key(enterprise_id,
                                                                                                 team_id)))
    if row is not None:
        s.delete(row)


def issue_state(s: Session, state: str, lifetime: float) -> None:
    s.add(SlackOAuthState(state=state, expires_at=utcnow() + dt.timedelta(seconds=lifetime)))


def consume_state(s: Session, state: str) -> bool:
    row = s.get(SlackOAuthState, state)
    if row is None:
        return False
    s.delete(row)
    return aware(row.expires_at) > utcnow()


# -- events and files -------------------------------------------------------------------------------------------


def first_sight(s: Session, event_id: str, team_id: str) -> bool:
    """Record an event id; False when it was seen before (a retry or a duplicate)."""
    try:
        with s.begin_nested():
            s.add(SlackEvent(event_id=event_id, team_id=team_id))
        return True
    except IntegrityError:
        return False


def claim_file(s: Session, workspace: Workspace, *, file_id: str, channel_id: str, user_id: str | None,
               name: str = "", stale_after: float | None = None) -> SlackFile | None:
    """Take a shared file for processing; None when it is already taken (a duplicate event or a retry).

    With `stale_after` (an explicit `/onno process`), a file that failed on our side or was refused (the app may
    have been given the permission it lacked since), or a claim left unfinished that long (the process died
    mid-download), may be taken again.
    """
    try:
        with s.begin_nested():
            row = SlackFile(workspace_id=workspace.id, file_id=file_id, channel_id=channel_id, user_id=user_id,
                            name=name, status="claimed")
            s.add(row)
        return row
    except IntegrityError:
        pass
    if stale_after is None:
        return None
    cutoff = utcnow() - dt.timedelta(seconds=stale_after)
    retake = or_(SlackFile.status.in_(("failed", "rejected")), (SlackFile.status == "claimed") & (SlackFile.created_at < cutoff))
    res = s.execute(update(SlackFile).where(SlackFile.workspace_id == workspace.id, SlackFile.file_id == file_id,
                                            retake)
                    .values(created_at=utcnow(), channel_id=channel_id, user_id=user_id, status="claimed", error=None,
                            job_id=None, status_ts=None, status_text=None, result_ts=None)
                    .execution_options(synchronize_session=False))
    if res.rowcount != 1:
        return None
    return get_file(s, workspace, file_id)


def get_file(s: Session, workspace: Workspace, file_id: str) -> SlackFile | None:
    return s.scalar(select(SlackFile).where(SlackFile.workspace_id == workspace.id, SlackFile.file_id == file_id))


def files_in_channel(s: Session, workspace: Workspace, channel_id: str, *, limit: int = 10) -> list[SlackFile]:
    q = (select(SlackFile).where(SlackFile.workspace_id == workspace.id, SlackFile.channel_id == channel_id)
         .order_by(SlackFile.id.desc()).limit(limit))
    return list(s.scalars(q))


def unfinished_files(s: Session, *, limit: int = 200) -> list[SlackFile]:
    """Files whose job is under way: the progress poller's worklist."""
    q = (select(SlackFile).where(SlackFile.status == "submitted", SlackFile.status_ts.is_not(None))
         .order_by(SlackFile.id).limit(limit))
    return list(s.scalars(q))


def set_status_text(s: Session, row_id: int, old: str | None, new: str) -> bool:
    """Move the progress text on, only if nobody else has (the poller and the delivery never cross)."""
    cond = SlackFile.status_text.is_(None) if old is None else SlackFile.status_text == old
    res = s.execute(update(SlackFile).where(SlackFile.id == row_id, SlackFile.status == "submitted", cond)
                    .values(status_text=new).execution_options(synchronize_session=False))
    return res.rowcount == 1


# -- action items, settings ---------------------------------------------------------------------------------------


def workspace_finding(s: Session, workspace: Workspace, finding_id: int) -> Finding | None:
    """A finding, only if its meeting belongs to this workspace."""
    q = select(Finding).join(Meeting).where(Finding.id == finding_id, Meeting.workspace_id == workspace.id)
    return s.scalar(q)


def mark_action_item(s: Session, workspace: Workspace, finding: Finding, status: str, user_id: str | None) -> None:
    row = s.scalar(select(ActionItemMark).where(ActionItemMark.finding_id == finding.id))
    if row is None:
        row = ActionItemMark(workspace_id=workspace.id, finding_id=finding.id)
        s.add(row)
    row.status, row.user_id, row.updated_at = status, user_id, utcnow()
    s.flush()


def marks(s: Session, workspace: Workspace) -> dict[int, str]:
    q = select(ActionItemMark).where(ActionItemMark.workspace_id == workspace.id)
    return {m.finding_id: m.status for m in s.scalars(q)}


def open_action_items(s: Session, workspace: Workspace, *, limit: int = 500) -> list[tuple[Finding, Meeting]]:
    """Action items of this workspace nobody has marked done or not-an-action, newest meeting first."""
    done = select(ActionItemMark.finding_id).where(ActionItemMark.workspace_id == workspace.id)
    q = (select(Finding, Meeting).join(Meeting)
         .where(Meeting.workspace_id == workspace.id, Finding.kind == "action_item", Finding.id.not_in(done))
         .order_by(Meeting.id.desc(), Finding.idx).limit(limit))
    return [(f, m) for f, m in s.execute(q)]


def channel_settings(s: Session, workspace: Workspace, channel_id: str, *,
                     create: bool = False) -> SlackChannelSettings:
    """The channel's settings; the defaults (not stored) when it has none, unless `create`.

    `create` is for changing them: the row is made if missing and locked until the transaction ends, so two
    settings commands at once neither collide on the insert nor lose each other's change."""
    if create:
        insert_ignore(s, SlackChannelSettings, {"workspace_id": workspace.id, "channel_id": channel_id,
                                                "meeting_type": "general", "options": {}},
                      ["workspace_id", "channel_id"])
    q = select(SlackChannelSettings).where(SlackChannelSettings.workspace_id == workspace.id,
                                           SlackChannelSettings.channel_id == channel_id)
    row = s.scalar(q.with_for_update().execution_options(populate_existing=True) if create else q)
    if row is None:
        row = SlackChannelSettings(workspace_id=workspace.id, channel_id=channel_id, meeting_type="general",
                                   options={})
    return row


def action_item_ids(s: Session, meeting_id: int) -> list[int]:
    """Finding ids of a meeting's action items in their order (button values point at them)."""
    q = select(Finding.id).where(Finding.meeting_id == meeting_id, Finding.kind == "action_item").order_by(Finding.idx)
    return list(s.scalars(q))

