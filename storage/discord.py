"""Discord's own rows: recording opt-outs, live meetings (their tracks on disk), posted results, channel settings."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import insert_ignore
from storage.models import Base, Workspace, utcnow

LIVE_OPEN = ("recording", "finishing")  # a meeting in these states still needs its job submitted
SERVER = "server"  # the settings row of the whole server (what channels without their own setting follow)


class DiscordOptOut(Base):
    """A member of a server who does not want to be recorded: their audio is neither stored nor transcribed."""

    __tablename__ = "discord_optouts"
    __table_args__ = (UniqueConstraint("workspace_id", "user_id", name="uq_discord_optout_member"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DiscordLiveMeeting(Base):
    """A voice channel the bot is recording: where its per-speaker tracks are flushed, its thread, its job."""

    __tablename__ = "discord_live_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    guild_id: Mapped[str] = mapped_column(String(40), index=True)
    voice_channel_id: Mapped[str] = mapped_column(String(40))
    text_channel_id: Mapped[str] = mapped_column(String(40))
    thread_id: Mapped[str | None] = mapped_column(String(40))  # where the live transcript and the result go
    started_by: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(40), default="general")
    folder: Mapped[str] = mapped_column(String(500))  # per-speaker Ogg Opus tracks, relative to the blob dir
    speakers: Mapped[dict] = mapped_column(default=dict)  # user id -> {"name": display name, "file": name}
    status: Mapped[str] = mapped_column(String(20), default="recording")  # recording|finishing|submitted|empty|failed
    error: Mapped[str | None] = mapped_column(Text)
    job_id: Mapped[str | None] = mapped_column(String(32))
    owner: Mapped[str | None] = mapped_column(String(100))  # the bot process recording it
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column()


class DiscordPost(Base):
    """A message we posted for a delivery key: a retried delivery edits it instead of posting again."""

    __tablename__ = "discord_posts"
    __table_args__ = (UniqueConstraint("key", name="uq_discord_post_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[str] = mapped_column(String(40))
    message_ids: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DiscordChannelSettings(Base):
    """What meetings of one text channel (or, `channel_id` SERVER, of the whole server) get: None follows the
    server's row, and the server's None the built-in default. The server's review first is the workspace's."""

    __tablename__ = "discord_channel_settings"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id", name="uq_discord_channel_settings"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(40))
    meeting_type: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[bool | None] = mapped_column(Boolean)
    notion: Mapped[bool | None] = mapped_column(Boolean)
    notion_target: Mapped[str | None] = mapped_column(String(100))  # a connected board's name
    review_first: Mapped[bool | None] = mapped_column(Boolean)
    updated_by: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DiscordIntake(Base):
    """Who handed a meeting to a job and from which channel: the channel's settings apply, the starter may approve."""

    __tablename__ = "discord_intakes"
    __table_args__ = (UniqueConstraint("job_id", name="uq_discord_intake_job"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(40))  # the text channel whose settings the meeting gets
    started_by: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # live | upload
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# -- workspaces -----------------------------------------------------------------------------------------------


def guild_workspace(s: Session, guild_id: str | int, name: str | None = None) -> Workspace:
    """The one workspace row of a Discord server: every Discord query is scoped to it."""
    from storage import repository as repo

    return repo.get_or_create_workspace(s, name or str(guild_id), platform="discord", external_id=str(guild_id))


# -- consent ------------------------------------------------------------------------------------------------------


def opted_out(s: Session, workspace: Workspace) -> set[str]:
    q = select(DiscordOptOut.user_id).where(DiscordOptOut.workspace_id == workspace.id)
    return set(s.scalars(q))


def is_opted_out(s: Session, workspace: Workspace, user_id: str | int) -> bool:
    q = select(DiscordOptOut.id).where(DiscordOptOut.workspace_id == workspace.id,
                                       DiscordOptOut.user_id == str(user_id))
    return s.scalar(q) is not None


def set_opt_out(s: Session, workspace: Workspace, user_id: str | int, out: bool) -> bool:
    """Opt a member out (True) or back in (False); return whether anything changed."""
    row = s.scalar(select(DiscordOptOut).where(DiscordOptOut.workspace_id == workspace.id,
                                               DiscordOptOut.user_id == str(user_id)))
    if out and row is None:
        try:
            with s.begin_nested():
                s.add(DiscordOptOut(workspace_id=workspace.id, user_id=str(user_id)))
            return True
        except IntegrityError:  # the same member, twice at once
            return False
    if not out and row is not None:
        s.delete(row)
        s.flush()
        return True
    return False


# -- live meetings --------------------------------------------------------------------------------------------------


def open_meeting(s: Session, guild_id: str | int) -> DiscordLiveMeeting | None:
    q = (select(DiscordLiveMeeting).where(DiscordLiveMeeting.guild_id == str(guild_id),
                                          DiscordLiveMeeting.status == "recording")
         .order_by(DiscordLiveMeeting.id.desc()))
    return s.scalars(q).first()


def unfinished_meetings(s: Session) -> list[DiscordLiveMeeting]:
    """Meetings whose job was never submitted (the bot stopped mid-meeting): a restart finishes them."""
    q = select(DiscordLiveMeeting).where(DiscordLiveMeeting.status.in_(LIVE_OPEN)).order_by(DiscordLiveMeeting.id)
    return list(s.scalars(q))


def add_speaker(s: Session, meeting_id: int, user_id: str, name: str, file: str) -> None:
    row = s.get(DiscordLiveMeeting, meeting_id, with_for_update=True)
    speakers = dict(row.speakers or {})
    speakers[str(user_id)] = {"name": name, "file": file}
    row.speakers = speakers


def drop_speaker(s: Session, meeting_id: int, user_id: str) -> dict | None:
    row = s.get(DiscordLiveMeeting, meeting_id, with_for_update=True)
    speakers = dict(row.speakers or {})
    gone = speakers.pop(str(user_id), None)
    row.speakers = speakers
    return gone


# -- posted results ---------------------------------------------------------------------------------------------------


def get_post(s: Session, key: str) -> DiscordPost | None:
    return s.scalar(select(DiscordPost).where(DiscordPost.key == key))


def save_post(s: Session, key: str, channel_id: str, message_ids: list[str]) -> None:
    row = get_post(s, key)
    if row is None:
        row = DiscordPost(key=key, channel_id=channel_id)
        s.add(row)
    row.channel_id, row.message_ids = channel_id, list(message_ids)
    s.flush()


# -- settings and intakes ------------------------------------------------------------------------------------------


def settings_rows(s: Session, workspace: Workspace, channel_id: str | int) -> tuple[DiscordChannelSettings | None,
                                                                                   DiscordChannelSettings | None]:
    """(the channel's row, the server's row); None where there is none."""
    q = select(DiscordChannelSettings).where(DiscordChannelSettings.workspace_id == workspace.id,
                                             DiscordChannelSettings.channel_id.in_((str(channel_id), SERVER)))
    rows = {r.channel_id: r for r in s.scalars(q)}
    return rows.get(str(channel_id)), rows.get(SERVER)


def settings_for_change(s: Session, workspace: Workspace, channel_id: str) -> DiscordChannelSettings:
    """The row of `channel_id` (or SERVER), made if missing and locked until the transaction ends, so two changes
    at once neither collide on the insert nor lose each other's value."""
    insert_ignore(s, DiscordChannelSettings, {"workspace_id": workspace.id, "channel_id": channel_id,
                                              "updated_at": utcnow()}, ["workspace_id", "channel_id"])
    q = select(DiscordChannelSettings).where(DiscordChannelSettings.workspace_id == workspace.id,
                                             DiscordChannelSettings.channel_id == channel_id)
    return s.scalar(q.with_for_update())


def record_intake(s: Session, workspace: Workspace, *, job_id: str, channel_id: str | int, started_by: str | int | None,
                  kind: str) -> None:
    """Note where a job came from; a second note for the same job (a retried hand-off) keeps the first."""
    insert_ignore(s, DiscordIntake, {"workspace_id": workspace.id, "job_id": job_id, "channel_id": str(channel_id),
                                     "started_by": str(started_by) if started_by is not None else None,
                                     "kind": kind, "created_at": utcnow()}, ["job_id"])


def intake(s: Session, job_id: str) -> DiscordIntake | None:
    return s.scalar(select(DiscordIntake).where(DiscordIntake.job_id == job_id))


def forget_intake(s: Session, job_id: str) -> None:
    row = intake(s, job_id)
    if row is not None:
        s.delete(row)
