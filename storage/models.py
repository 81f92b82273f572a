"""SQLAlchemy models: workspaces own recordings, meetings (with segments and findings) and tickets."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: DateTime(timezone=True), dict: JSON, list: JSON}


class Workspace(Base):
    """A team: the CLI's local workspace, a Slack workspace or a Discord server."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id", name="uq_workspace_platform_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    platform: Mapped[str] = mapped_column(String(20), default="cli")
    external_id: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Recording(Base):
    """What a user gave us, kept in the blob store before processing starts."""

    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # audio | tracks | transcript
    filename: Mapped[str] = mapped_column(String(500))
    blob_key: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="stored")  # stored | processed | failed
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Meeting(Base):
    """A processed meeting and its facts."""

    __tablename__ = "meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(40))
    date: Mapped[dt.date] = mapped_column(Date)
    duration: Mapped[float] = mapped_column(Float)
    language: Mapped[str] = mapped_column(String(10))
    participants: Mapped[list] = mapped_column(default=list)
    source: Mapped[str] = mapped_column(String(20), default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    engine: Mapped[dict | None] = mapped_column()  # which findings engine ran, its usage and any fallback
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    segments: Mapped[list[TranscriptSegment]] = relationship(
        order_by="TranscriptSegment.idx", cascade="all, delete-orphan", passive_deletes=True)
    findings: Mapped[list[Finding]] = relationship(
        order_by="(Finding.kind, Finding.idx)", cascade="all, delete-orphan", passive_deletes=True)


class TranscriptSegment(Base):
    __tablename__ = "transcript_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    idx: Mapped[int] = mapped_column(Integer)
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    speaker: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class Finding(Base):
    """One extracted item; `data` holds all its fields, the columns what queries need."""

    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    idx: Mapped[int] = mapped_column(Integer)
    start: Mapped[float | None] = mapped_column(Float)
    speaker: Mapped[str | None] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(default=dict)


class Ticket(Base):
    """A card on a workspace's board."""

    __tablename__ = "tickets"
    __table_args__ = (UniqueConstraint("workspace_id", "key", name="uq_ticket_workspace_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    history: Mapped[list[TicketHistory]] = relationship(
        order_by="TicketHistory.id", cascade="all, delete-orphan", passive_deletes=True)


class TicketHistory(Base):
    """One status change of a ticket, and what caused it."""

    __tablename__ = "ticket_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))  # import | meeting
    evidence: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Job(Base):
    """One meeting's way through the pipeline; the row, not the broker, is the source of truth."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    recording_id: Mapped[int | None] = mapped_column(ForeignKey("recordings.id", ondelete="SET NULL"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    source_name: Mapped[str] = mapped_column(String(500), default="")
    options: Mapped[dict] = mapped_column(default=dict)  # meeting facts and the board the user gave
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)  # queued|running|done|failed
    step: Mapped[str] = mapped_column(String(20), default="transcribe")  # the step to run, or the last one run
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    transcript: Mapped[dict | None] = mapped_column()  # the heavy step's output, kept for the light one
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    enqueued_at: Mapped[dt.datetime | None] = mapped_column()
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()

    deliveries: Mapped[list[Delivery]] = relationship(order_by="Delivery.id", cascade="all, delete-orphan",
                                                      passive_deletes=True)


class OutboxItem(Base):
    """Something that leaves Onno (a meeting's result for one target, a team notice, a weekly digest): claimed with a
    lease while it is being sent, retried with one backoff, settled after; its receipts say where it went already."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("job_id", "target", name="uq_outbox_job_target"),
                      UniqueConstraint("workspace_id", "week", name="uq_outbox_workspace_week"))

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(20), index=True)  # result | notice | digest
    key: Mapped[str] = mapped_column(String(200), unique=True)  # once-only: receivers and receipts go by it
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # a result's target kind, a notice's kind, "weekly" for a digest
    # held|pending|sending|delivered|failed (a digest: pending|sending|sent|skipped|failed)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column()
    enqueued_at: Mapped[dt.datetime | None] = mapped_column()  # when a message for it last went to the broker
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None] = mapped_column()
    # A meeting's result: the job that made it and where it goes (`kind:argument`).
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    target: Mapped[str | None] = mapped_column(String(2000))
    # A team notice: what happened and what to do about it.
    text: Mapped[str | None] = mapped_column(Text)
    hint: Mapped[str | None] = mapped_column(Text)
    # A weekly digest: its ISO week, its round (`onno digest send --again` makes a new one), how many were mailed.
    week: Mapped[str | None] = mapped_column(String(10))
    round: Mapped[int | None] = mapped_column(Integer)
    emailed: Mapped[int | None] = mapped_column(Integer)

    receipts: Mapped[list[Receipt]] = relationship(
        primaryjoin="foreign(Receipt.key) == OutboxItem.key", order_by="Receipt.id", viewonly=True, lazy="selectin")

    __mapper_args__ = {"polymorphic_on": "category"}


class Receipt(Base):
    """Where an outbox item went (`slack:C123`, `discord:456`, `log`): its message there, or why it was refused.
    Written the moment the receiver answers, so a retry never sends there again."""

    __tablename__ = "outbox_receipts"
    __table_args__ = (UniqueConstraint("key", "destination", name="uq_receipt_key_destination"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))  # the outbox item's key
    destination: Mapped[str] = mapped_column(String(200))
    ref: Mapped[str | None] = mapped_column(String(200))  # the message's ts or id there
    error: Mapped[str | None] = mapped_column(Text)  # why it can never go there
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def outcome(self) -> dict:
        return {"error": self.error} if self.error is not None else {"ref": self.ref}


class Delivery(OutboxItem):
    """A meeting's result going to one target, sent until it is delivered and never after."""

    __mapper_args__ = {"polymorphic_identity": "result"}
