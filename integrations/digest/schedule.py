"""When digests go out and to whom: once per workspace and ISO week, after the send moment, for the plans that have
them (with billing off, for the workspaces that turned them on); and `onno digest send`'s explicit send.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from billing.accounts import effective_plan, get_account
from billing.gate import PlanLimit, billing_enabled
from billing.models import BillingAccount
from billing.plans import PLANS, includes
from core.links import billing_url
from core.retry import RetryPolicy
from integrations.digest import weeks
from integrations.digest.send import LEASE, Outcome, deliver
from storage import digest as store
from storage import mail, outbox
from storage import repository as repo
from storage.models import utcnow

log = logging.getLogger(__name__)

PER_SWEEP = 5  # digests started per sweep: the sweeper also brings back lost jobs, and must not wait long
RESUME_WITHIN = dt.timedelta(days=7)  # a digest left half sent longer ago than this is stale: leave it


def plan_refusal(s, settings, workspace) -> PlanLimit | None:
    """Why this workspace's plan has no digests, with the way up; None when it has them (or billing is off)."""
    if not billing_enabled(settings):
        return None
    plan = effective_plan(get_account(s, workspace))
    if plan.weekly_digest:
        return None
    team = PLANS["team"]
    return PlanLimit(f"The {plan.title} plan does not include weekly digests.",
                     f"{includes(plan)}. {team.title} includes them: "
                     f"{billing_url(settings, workspace.id, plan=team.name)}")


def wanted(s, settings, workspace) -> bool:
    """Whether the sweeper sends this workspace's digests: its plan has them and it did not turn them off; with
    billing off, only once it turned them on."""
    enabled = store.get_settings(s, workspace.id).enabled
    if not billing_enabled(settings):
        return enabled is True
    return enabled is not False and plan_refusal(s, settings, workspace) is None


def candidates(s, settings) -> list[int]:
    """Workspaces whose digests the sweeper sends, by id."""
    if not billing_enabled(settings):
        return store.opted(s, enabled=True)
    off = set(store.opted(s, enabled=False))
    plans = [p.name for p in PLANS.values() if p.weekly_digest]
    accounts = s.scalars(select(BillingAccount).where(BillingAccount.plan.in_(plans)))
    return sorted(a.workspace_id for a in accounts if effective_plan(a).weekly_digest and a.workspace_id not in off)


def due_digests(app, *, now: dt.datetime | None = None) -> int:
    """Start the due week's digest of every workspace that has none yet, and resume any left half sent or due for
    a retry; called by the sweeper. Returns how many were worked on."""
    settings = app.settings
    now = now or utcnow()
    week = weeks.due(now, weekday=settings.digest_weekday, hour=settings.digest_hour)
    ids: list[int] = []
    with app.session() as s:
        done = store.weeks_done(s, week)
        todo = [ws_id for ws_id in candidates(s, settings) if ws_id not in done]
    for ws_id in todo[:PER_SWEEP]:
        with app.session() as s:
            row = store.start(s, ws_id, week, lease=LEASE, now=now)  # None: another sweeper got there first
            if row is not None:
                ids.append(row.id)
    with app.session() as s:
        for digest_id in outbox.due(s, "digest", now=now, since=now - RESUME_WITHIN):
            row = s.get(store.Digest, digest_id)
            if RetryPolicy.of(settings).exhausted(row.attempts):
                if outbox.claim(s, digest_id, LEASE, now=now):
                    store.finish(s, digest_id, "failed", note=f"gave up after {row.attempts} attempts"
                                 + (f": {row.note}" if row.note else ""))
            elif len(ids) < PER_SWEEP and outbox.claim(s, digest_id, LEASE, now=now):
                ids.append(digest_id)
    for digest_id in ids:
        try:
            deliver(app, digest_id)
        except Exception:  # its lease runs out and a later sweep tries again, up to delivery_max_attempts
            log.exception("digest %s: sending failed", digest_id)
    return len(ids)


def send_now(app, workspace: str | int, week: str, *, again: bool = False) -> Outcome:
    """`onno digest send`: this week's digest now, unless it went out already (then only with `again`).

    Raises PlanLimit when the plan has no digests. Turning digests off only stops the weekly schedule."""
    settings = app.settings
    with app.session() as s:
        ws = repo.resolve_workspace(s, workspace)
        refusal = plan_refusal(s, settings, ws)
        if refusal is not None:
            raise refusal
        ws_id = ws.id
        row = store.get_digest(s, ws_id, week)
        if row is None:
            row = store.start(s, ws_id, week, lease=LEASE)
            taken = row is not None
            row = row or store.get_digest(s, ws_id, week)  # another process started it just now
        elif row.status == "sent" and not again:
            sent = [a for a, r in mail.sends_for(s, row.key).items() if r.status == "sent"]
            return Outcome(week, "already", emailed=sent, slack_channel=row.slack_channel if row.slack_ts else None,
                           discord_channel=row.discord_channel if row.discord_message else None, note=row.note)
        elif again and row.status in store.SETTLED:
            taken = store.again(s, row.id, lease=LEASE)
        else:
            taken = outbox.claim(s, row.id, LEASE, also=("pending", "skipped", "failed"))
        row_id = row.id
    if not taken:
        return Outcome(week, "busy", note="another process is sending it right now")
    return deliver(app, row_id)


def next_send(settings, now: dt.datetime | None = None) -> dt.datetime:
    """When the next digest goes out: the coming send moment."""
    now = now or utcnow()
    week = weeks.due(now, weekday=settings.digest_weekday, hour=settings.digest_hour)
    return weeks.send_moment(weeks.label(weeks.bounds(week)[1]), weekday=settings.digest_weekday,
                             hour=settings.digest_hour)
