"""Weekly digests: a workspace's digest setting, and one row per workspace and ISO week that makes it go out once.

The weekly row lives in the outbox (storage.outbox claims, renews and releases it). E-mail readers are settled in
`email_sends` under the row's key (storage.mail), the Slack and Discord posts as the outbox's receipts under it: a send
that dies half way resumes with only what is not on record. `--again` starts a new round: a new key.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, String, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, synonym

from storage import outbox
from storage.db import insert_ignore
from storage.models import Base, OutboxItem, utcnow

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


def digest_key(workspace_id: int, week: str, round: int) -> str:
    """The key a round's receipts (and its e-mail readers') are recorded under."""
    return f"digest-{workspace_id}-{week}-{round}"


class Digest(OutboxItem):
    """One workspace's digest of one ISO week in the outbox: claimed with a lease while it is being sent, settled after
    (sent, skipped or failed). Its Slack and Discord posts are receipts under its round's key."""

    __mapper_args__ = {"polymorphic_identity": "digest"}

    note = synonym("last_error")  # why it was skipped, or what went wrong
    sent_at = synonym("delivered_at")

    def _posted(self, platform: str) -> tuple[str, str] | tuple[None, None]:
        """The channel and message of this round's post on `platform`, once made."""
        for r in self.receipts:
            kind, _, channel = r.destination.partition(":")
            if kind == platform and r.ref:
                return channel, r.ref
        return None, None

    slack_channel = property(lambda self: self._posted("slack")[0])
    slack_ts = property(lambda self: self._posted("slack")[1])
    discord_channel = property(lambda self: self._posted("discord")[0])
    discord_message = property(lambda self: self._posted("discord")[1])


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
            row = Digest(workspace_id=workspace_id, week=week, round=1, key=digest_key(workspace_id, week, 1),
                         kind="weekly", status="sending", attempts=1,
                         lease_expires_at=now + dt.timedelta(seconds=lease), emailed=0, created_at=now)
            s.add(row)
        return row
    except IntegrityError:
        return None


def again(s: Session, digest_id: int, *, lease: float, now: dt.datetime | None = None) -> bool:
    """A new round of a settled row (`--again`): a fresh key, so everyone is sent it once more."""
    now = now or utcnow()
    row = s.get(Digest, digest_id)
    res = s.execute(update(Digest).where(Digest.id == digest_id, Digest.status.in_(SETTLED),
                                         Digest.round == row.round)
                    .values(status="sending", round=row.round + 1,
                            key=digest_key(row.workspace_id, row.week, row.round + 1), attempts=1, emailed=0,
                            last_error=None, delivered_at=None, next_attempt_at=None,
                            lease_expires_at=now + dt.timedelta(seconds=lease))
                    .execution_options(synchronize_session=False))
    s.expire(row)
    return res.rowcount == 1


def finish(s: Session, digest_id: int, status: str, *, note: str | None = None, emailed: int | None = None,
           retry_at: dt.datetime | None = None) -> None:
    """Settle the row being sent (sent, skipped, failed), or put it back to wait for a retry (pending, at `retry_at`)."""
    values: dict = {"last_error": note, "next_attempt_at": retry_at}
    if emailed is not None:
        values["emailed"] = emailed
    if status == "sent":
        values["delivered_at"] = utcnow()
    outbox.release(s, digest_id, status, **values)


def recent(s: Session, workspace_id: int, *, limit: int = 5) -> list[Digest]:
    q = select(Digest).where(Digest.workspace_id == workspace_id).order_by(Digest.week.desc()).limit(limit)
    return list(s.scalars(q))
