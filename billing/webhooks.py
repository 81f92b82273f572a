"""Stripe webhooks: verified, applied once per event id, and always to the subscription's current state.

A failed payment and the fall back to Free are told to the team once per grace period (a team notice): the
failure from here, a grace period that ran out from the sweeper, a cancellation inside it from here.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import stripe_api
from billing.accounts import ACTIVE, OVERDUE, get_account
from billing.models import BillingAccount, StripeEvent
from billing.plans import PAID, PLANS
from core.clock import aware
from core.links import billing_url
from storage import notices as notices_repo
from storage import repository as repo
from storage.models import utcnow

log = logging.getLogger(__name__)

HANDLED = {"checkout.session.completed", "customer.subscription.created", "customer.subscription.updated",
           "customer.subscription.deleted", "invoice.paid", "invoice.payment_failed"}


def ts(value: int | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(value, dt.UTC) if value else None


def subscription_id_of(obj: dict) -> str | None:
    """Where an event's object names its subscription (checkout sessions, subscriptions, both invoice shapes)."""
    if obj.get("object") == "subscription":
        return obj["id"]
    if isinstance(obj.get("subscription"), str):
        return obj["subscription"]
    details = ((obj.get("parent") or {}).get("subscription_details") or {})
    return details.get("subscription")


def find_account(s: Session, obj: dict, sub: dict | None) -> BillingAccount | None:
    """The account an event belongs to: by our workspace id where Stripe carries it, else by customer."""
    ws_id = obj.get("client_reference_id") or ((sub or {}).get("metadata") or {}).get("workspace_id")
    if ws_id and str(ws_id).isdigit() and (ws := repo.workspace_by_id(s, int(ws_id))):
        return get_account(s, ws, create=True)
    ids = [i for i in (obj.get("customer"), (sub or {}).get("id")) if i]
    if not ids:
        return None
    return s.scalar(select(BillingAccount).where(or_(BillingAccount.stripe_customer_id.in_(ids),
                                                     BillingAccount.stripe_subscription_id.in_(ids))))


def customer_elsewhere(s: Session, customer: str, acct: BillingAccount) -> bool:
    """Whether another workspace's account holds this Stripe customer."""
    return s.scalar(select(BillingAccount.id).where(BillingAccount.stripe_customer_id == customer,
                                                    BillingAccount.id != acct.id)) is not None


def apply_subscription(settings, acct: BillingAccount, sub: dict) -> None:
    """Copy Stripe's current subscription onto the account: plan, status and period."""
    items = (sub.get("items") or {}).get("data") or [{}]
    price = (items[0].get("price") or {}).get("id", "")
    before = (acct.plan, acct.status)
    acct.stripe_subscription_id = sub["id"]
    acct.stripe_customer_id = sub.get("customer") or acct.stripe_customer_id
    acct.status = sub.get("status", "none")
    acct.plan = stripe_api.plan_for_price(settings, price) or acct.plan
    acct.period_start = ts(sub.get("current_period_start") or items[0].get("current_period_start"))
    acct.period_end = ts(sub.get("current_period_end") or items[0].get("current_period_end"))
    acct.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    if acct.status in ACTIVE:
        acct.grace_until = None
        if before != (acct.plan, acct.status):
            acct.notice = None
    elif acct.status in ("canceled", "incomplete_expired"):
        acct.notice = (f"The {PLANS[acct.plan].title} subscription ended; this workspace is on the Free plan now. "
                       f"Upgrade again any time: {billing_url(settings, acct.workspace_id)}")
        acct.plan, acct.grace_until = "free", None


def payment_failed(settings, acct: BillingAccount) -> tuple[str, str]:
    """Keep the plan for a grace period and tell the team how to fix the card; then it lapses to Free.

    Returns the notice as its text and what to do, for the team notice that says it once.
    """
    now = utcnow()
    if acct.grace_until is None:
        acct.grace_until = now + dt.timedelta(days=settings.billing_grace_days)
    text = (f"A payment failed. The {PLANS.get(acct.plan, PLANS['free']).title} plan stays on until "
            f"{acct.grace_until:%d %b %Y}, then the workspace moves to Free.")
    hint = f"Update the card: {billing_url(settings, acct.workspace_id, 'manage')}"
    acct.notice = f"{text} {hint}"
    return text, hint


def grace_key(kind: str, acct: BillingAccount, grace_until: dt.datetime) -> str:
    """One notice of each kind per grace period: a replayed or repeated failure finds it made."""
    return f"{kind}-{acct.id}-{aware(grace_until).isoformat(timespec='seconds')}"


def downgrade_notice(s: Session, settings, acct: BillingAccount, *, plan: str, grace_until: dt.datetime,
                     ended: bool) -> str | None:
    """Tell the team, once per grace period, that the workspace is on Free now; `ended`: Stripe cancelled it."""
    title, free = PLANS.get(plan, PLANS["free"]).title, PLANS["free"]
    why = "was cancelled after the failed payment" if ended else \
        f"was not paid by the end of its grace period ({aware(grace_until):%d %b %Y})"
    text = (f"The {title} subscription {why}, so this workspace is on the Free plan now "
            f"({free.monthly_minutes} minutes a month).")
    hint = (f"Upgrade again any time: {billing_url(settings, acct.workspace_id, plan=plan)}" if ended else
            f"Update the card to get {title} back: {billing_url(settings, acct.workspace_id, 'manage')}")
    return notices_repo.create(s, acct.workspace_id, key=grace_key("downgraded", acct, grace_until),
                               kind="downgraded", text=text, hint=hint)


def notice_lapsed_graces(app) -> list[str]:
    """Paid accounts still overdue after their grace period: the fall back to Free is told once (the sweeper)."""
    made: list[str | None] = []
    with app.session() as s:
        q = select(BillingAccount).where(BillingAccount.status.in_(OVERDUE), BillingAccount.plan.in_(PAID),
                                         BillingAccount.grace_until.is_not(None),
                                         BillingAccount.grace_until <= utcnow())
        lapsed = {grace_key("downgraded", a, a.grace_until): a for a in s.scalars(q)}
        for key in sorted(set(lapsed) - notices_repo.existing_keys(s, list(lapsed))):
            acct = lapsed[key]
            made.append(downgrade_notice(s, app.settings, acct, plan=acct.plan, grace_until=acct.grace_until,
                                         ended=False))
    return [k for k in made if k]


def apply_event(app, event: dict) -> str:
    """Apply one verified event; return what happened ('applied', 'duplicate', 'ignored', 'unknown account')."""
    if event["type"] not in HANDLED:
        return "ignored"
    with app.session() as s:
        if s.get(StripeEvent, event["id"]) is not None:
            return "duplicate"
    obj = event["data"]["object"]
    sub_id = subscription_id_of(obj)
    # Read the subscription's state now, outside any transaction: the event may be old or out of order.
    sub = stripe_api.subscription(app.settings, sub_id) if sub_id else None
    told: list[str | None] = []
    try:
        with app.session() as s:
            acct = find_account(s, obj, sub)
            s.add(StripeEvent(id=event["id"], type=event["type"], workspace_id=acct.workspace_id if acct else None))
            s.flush()  # a concurrent delivery of the same event fails here and changes nothing
            if acct is None:
                log.warning("stripe event %s (%s) matches no workspace", event["id"], event["type"])
                return "unknown account"
            customer = (obj.get("customer") if event["type"] == "checkout.session.completed" else None) \
                or (sub or {}).get("customer")
            if customer and customer_elsewhere(s, customer, acct):
                # One customer, one workspace: else B's manage link would open A's portal and share A's plan.
                log.warning("stripe event %s names customer %s of another workspace than %s; not applied",
                            event["id"], customer, acct.workspace_id)
                return "customer of another workspace"
            if event["type"] == "checkout.session.completed":
                acct.stripe_customer_id = obj.get("customer") or acct.stripe_customer_id
            before = (acct.status, acct.plan, acct.grace_until)
            if sub is not None:
                apply_subscription(app.settings, acct, sub)
            # Stripe's current state wins: a failure already cured by a later payment sets no grace period.
            if event["type"] == "invoice.payment_failed" and (sub is None or acct.status not in ACTIVE):
                text, hint = payment_failed(app.settings, acct)
                told.append(notices_repo.create(s, acct.workspace_id,
                                                key=grace_key("payment-failed", acct, acct.grace_until),
                                                kind="payment_failed", text=text, hint=hint))
            elif before[0] in OVERDUE and before[1] in PAID and before[2] is not None and acct.plan == "free":
                # Stripe gave up on the failed payment before the grace period ran out: Free from now.
                told.append(downgrade_notice(s, app.settings, acct, plan=before[1], grace_until=before[2],
                                             ended=True))
    except IntegrityError:
        return "duplicate"
    app.send_notices(told, wait=False)  # Stripe waits for our answer; the team is told from a thread
    return "applied"
