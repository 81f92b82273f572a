"""Weekly digests: a workspace's digest setting, and one row per workspace and ISO week that makes it go out once.

E-mail readers are settled in `email_sends` under the row's key (storage.mail), the Slack post by its `slack_ts`
and the Discord post by its `discord_message` here: a send that dies half way resumes with only what is not on record. `--again` starts a new round: a new key.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.db import insert_ignore
from storage.models import Base, utcnow

SETTLED = ("sent", "skipped", "failed")  # nothing more happens to these by itself


class DigestSettings(Base):
    """Whether a workspace wants its weekly digest (None: the plan decides), and the Slack or Discord channel it goes
    to (`/onno settings digest here` / `digest:here`)."""

    __tablename__ = "digest_settings"

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True)
    enabled: Mapped[bool | None] = mapped_column(Boolean)
    slack_channel: Mapped[str | None] = mapped_column(String(40))
    discord_channel: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Digest(Base):
    """One workspace's digest of one ISO week: claimed with a lease while it is being sent, settled after."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("workspace_id", "week", name="uq_digest_workspace_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(10))  # "2026-W47"
    round: Mapped[int] = mapped_column(Integer, default=1)  # `onno digest send --again` makes a new one
    status: Mapped[str] = mapped_column(String(20), default="sending")  # sending|pending|sent|skipped|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    slack_channel: Mapped[str | None] = mapped_column(String(40))
    slack_ts: Mapped[str | None] = mapped_column(String(40))  # the Slack post, once made
    discord_channel: Mapped[str | None] = mapped_column(String(40))
    discord_message: Mapped[str | None] = mapped_column(String(40))  # the Discord post's id, once made
    emailed: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)  # why it was skipped, or what went wrong
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()

    @property
    def key(self) -> str:
        """The delivery key e-mail receipts are recorded under; one per round."""
        return f"digest-{self.workspace_id}-{self.week}-{self.round}"


# -- settings -----------------------------------------------------------------------------------------------------


def get_settings(s: Session, workspace_id: int) -> DigestSettings:
    """The workspace's digest settings; the defaults (not stored) when it has none."""
    return s.get(DigestSettings, workspace_id) or DigestSettings(workspace_id=workspace_id, enabled=None,
                                                                  slack_channel=None, discord_channel=None)


def save_settings(s: Session, workspace_id: int, **values) -> DigestSettings:
    """Change `enabled`, `slack_channel` and/or `discord_channel`."""
    # Made if missing and locked: two changes at once neither collide on the insert nor lose one another.
    insert_ignore(s, DigestSettings, {"workspace_id": workspace_id, "updated_at": utcnow()}, ["workspace_id"])
    row = s.scalar(select(DigestSettings).where(DigestSettings.workspace_id == workspace_id).with_for_update()
                   .execution_options(populate_existing=True))
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    s.flush()
    return row


def opted(s: Session, *, enabled: bool) -> list[int]:
    """Workspaces that turned digests on (enabled=True) or off (False) themselves."""
    return list(s.scalars(select(DigestSettings.workspace_id).where(DigestSettings.enabled.is_(enabled))))


# -- the weekly rows ----------------------------------------------------------------------------------------------


def get_digest(s: Session, workspace_id: int, week: str) -> Digest | None:
    return s.scalar(select(Digest).where(Digest.workspace_id == workspace_id, Digest.week == week))


def weeks_done(s: Session, week: str) -> set[int]:
    """Workspaces that have a row for this week already, whatever became of it."""
    return set(s.scalars(select(Digest.workspace_id).where(Digest.week == week)))


def start(s: Session, workspace_id: int, week: str, *, lease: float, now: dt.datetime | None = None) -> Digest | None:
    """Make the week's row, claimed by the caller; None when it exists already (another sweeper, an earlier run)."""
    now = now or utcnow()
    try:
        with s.begin_nested():
            row = Digest(workspace_id=workspace_id, week=week, round=1, status="sending", attempts=1,
                         lease_expires_at=now + dt.timedelta(seconds=lease), emailed=0, created_at=now)
            s.add(row)
        return row
    except IntegrityError:
        return None


def claim(s: Session, digest_id: int, *, lease: float, now: dt.datetime | None = None,
          force: bool = False) -> bool:
    """Take a row to send: one that is due for a retry, or whose sender died (its lease ran out).

    `force` (an explicit `onno digest send`) also takes a skipped or failed row; never one being sent now."""
    now = now or utcnow()
    takeable = (((Digest.status == "pending") & (Digest.next_attempt_at.is_(None) | (Digest.next_attempt_at <= now)))
                | ((Digest.status == "sending") & (Digest.lease_expires_at < now)))
    if force:
        takeable = takeable | Digest.status.in_(("pending", "skipped", "failed"))
    res = s.execute(update(Digest).where(Digest.id == digest_id, takeable)
                    .values(status="sending", lease_expires_at=now + dt.timedelta(seconds=lease),
                            attempts=Digest.attempts + 1)
                    .execution_options(synchronize_session=False))
    return res.rowcount == 1


def again(s: Session, digest_id: int, *, lease: float, now: dt.datetime | None = None) -> bool:
    """A new round of a settled row (`--again`): a fresh key, so everyone is sent it once more."""
    now = now or utcnow()
    res = s.execute(update(Digest).where(Digest.id == digest_id, Digest.status.in_(SETTLED))
                    .values(status="sending", round=Digest.round + 1, attempts=1, slack_ts=None, discord_message=None,
                            emailed=0,
                            note=None, sent_at=None, next_attempt_at=None,
                            lease_expires_at=now + dt.timedelta(seconds=lease))
                    .execution_options(synchronize_session=False))
    return res.rowcount == 1


def resumable(s: Session, since: dt.datetime, now: dt.datetime) -> list[int]:
    """Rows made since `since` that a dead sender left half sent, or that wait for a retry now due."""
    q = select(Digest.id).where(Digest.created_at >= since,
                                ((Digest.status == "pending") & (Digest.next_attempt_at <= now))
                                | ((Digest.status == "sending") & (Digest.lease_expires_at < now)))
    return list(s.scalars(q.order_by(Digest.id)))


def renew(s: Session, digest_id: int, *, lease: float) -> None:
    """Keep the claim while a long send goes on (every reader settled renews it)."""
    s.execute(update(Digest).where(Digest.id == digest_id, Digest.status == "sending")
              .values(lease_expires_at=utcnow() + dt.timedelta(seconds=lease))
              .execution_options(synchronize_session=False))


def record_slack_post(s: Session, digest_id: int, channel: str, ts: str) -> None:
    s.execute(update(Digest).where(Digest.id == digest_id).values(slack_channel=channel, slack_ts=ts)
              .execution_options(synchronize_session=False))


def record_discord_post(s: Session, digest_id: int, channel: str, message_id: str) -> None:
    s.execute(update(Digest).where(Digest.id == digest_id).values(discord_channel=channel, discord_message=message_id)
              .execution_options(synchronize_session=False))


def finish(s: Session, digest_id: int, status: str, *, note: str | None = None, emailed: int | None = None,
           retry_at: dt.datetime | None = None) -> None:
    """Settle the row (sent, skipped, failed), or put it back to wait for a retry (pending, at `retry_at`)."""
    row = s.get(Digest, digest_id)
    row.status, row.note, row.lease_expires_at, row.next_attempt_at = status, note, None, retry_at
    if emailed is not None:
        row.emailed = emailed
    if status == "sent":
        row.sent_at = utcnow()
    s.flush()


def recent(s: Session, workspace_id: int, *, limit: int = 5) -> list[Digest]:
    q = select(Digest).where(Digest.workspace_id == workspace_id).order_by(Digest.week.desc()).limit(limit)
    return list(s.scalars(q))
