"""Billing tables: a workspace's plan as Stripe last said it, minutes used, and Stripe events applied."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base, utcnow


class BillingAccount(Base):
    """One per workspace that has ever been billed; no row means the Free plan."""

    __tablename__ = "billing_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), unique=True)
    plan: Mapped[str] = mapped_column(String(20), default="free")
    status: Mapped[str] = mapped_column(String(30), default="none")  # Stripe's subscription status
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100), index=True, unique=True)  # one workspace
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(100), index=True)
    period_start: Mapped[dt.datetime | None] = mapped_column()
    period_end: Mapped[dt.datetime | None] = mapped_column()
    cancel_at_period_end: Mapped[bool] = mapped_column(default=False)
    grace_until: Mapped[dt.datetime | None] = mapped_column()  # a failed payment keeps the plan until then
    notice: Mapped[str | None] = mapped_column(Text)  # what the team must be told (a failed payment, a downgrade)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class UsageRecord(Base):
    """Minutes of one job: reserved when it is accepted, corrected to the real length when it ends."""

    __tablename__ = "usage_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"), index=True)
    job_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="SET NULL"))
    minutes: Mapped[float] = mapped_column(Float)
    state: Mapped[str] = mapped_column(String(20), default="reserved")  # reserved | final
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class StripeEvent(Base):
    """A Stripe event id once applied: redeliveries of it do nothing."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    workspace_id: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
