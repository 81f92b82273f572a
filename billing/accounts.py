"""A workspace's effective plan, its billing period and the minutes it has used in it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from billing.models import BillingAccount, UsageRecord
from billing.plans import PLANS, Plan
from core.clock import aware
from storage.models import Workspace, utcnow

ACTIVE = ("active", "trialing")
OVERDUE = ("past_due", "unpaid")


def get_account(s: Session, workspace: Workspace, *, create: bool = False) -> BillingAccount | None:
    acct = s.scalar(select(BillingAccount).where(BillingAccount.workspace_id == workspace.id))
    if acct is None and create:
        acct = BillingAccount(workspace_id=workspace.id, plan="free", status="none", cancel_at_period_end=False)
        s.add(acct)
        s.flush()
    return acct


def effective_plan(acct: BillingAccount | None, now: dt.datetime | None = None) -> Plan:
    """The plan in force: a paid plan while its subscription is active or in its grace period, else Free."""
    now = now or utcnow()
    if acct is None or acct.plan not in PLANS:
        return PLANS["free"]
    if acct.status in ACTIVE:
        return PLANS[acct.plan]
    if acct.status in OVERDUE and acct.grace_until and now < aware(acct.grace_until):
        return PLANS[acct.plan]
    return PLANS["free"]


def current_period(acct: BillingAccount | None, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """Stripe's current period for a paid plan; the calendar month (UTC) otherwise."""
    now = now or utcnow()
    start, end = (aware(acct.period_start), aware(acct.period_end)) if acct else (None, None)
    if start and end and start <= now < end and effective_plan(acct, now).name != "free":
        return start, end
    month = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return month, (month + dt.timedelta(days=32)).replace(day=1)


def minutes_used(s: Session, workspace: Workspace, start: dt.datetime, end: dt.datetime) -> float:
    q = select(func.coalesce(func.sum(UsageRecord.minutes), 0.0)).where(
        UsageRecord.workspace_id == workspace.id, UsageRecord.created_at >= start, UsageRecord.created_at < end)
    return float(s.scalar(q))


@dataclass
class Usage:
    """What `onno plan` and `/onno plan` show."""

    plan: Plan
    status: str
    used: float
    period_start: dt.datetime
    period_end: dt.datetime
    notice: str | None

    @property
    def left(self) -> float:
        return max(0.0, self.plan.monthly_minutes - self.used)


def usage(s: Session, workspace: Workspace, now: dt.datetime | None = None) -> Usage:
    acct = get_account(s, workspace)
    start, end = current_period(acct, now)
    return Usage(effective_plan(acct, now), acct.status if acct else "none", minutes_used(s, workspace, start, end),
                 start, end, acct.notice if acct else None)


def lock_usage(s: Session, workspace: Workspace) -> None:
    """Serialise intake per workspace until the transaction ends, so a check and its reservation are one step.

    A no-op write takes the workspace row's lock on PostgreSQL and the database's write lock on SQLite: a
    second upload at the very limit waits, then sees the first one's reservation."""
    s.execute(text("UPDATE workspaces SET name = name WHERE id = :id"), {"id": workspace.id})


def reserve(s: Session, workspace: Workspace, *, job_id: str | None, minutes: float) -> UsageRecord:
    """Count a job's minutes the moment it is accepted, so parallel uploads cannot overrun the allowance."""
    rec = UsageRecord(workspace_id=workspace.id, job_id=job_id, minutes=round(minutes, 2), state="reserved")
    s.add(rec)
    s.flush()
    return rec


def settle(s: Session, job_id: str, *, minutes: float, meeting_id: int | None = None) -> None:
    """Correct a job's reservation to what it really used (0 when it failed on bad input)."""
    rec = s.scalar(select(UsageRecord).where(UsageRecord.job_id == job_id))
    if rec is not None:
        rec.minutes, rec.state, rec.meeting_id = round(minutes, 2), "final", meeting_id
