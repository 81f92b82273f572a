"""Stripe webhooks: verified, applied once per event id, and always to the subscription's current state."""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from billing import stripe_api
from billing.accounts import ACTIVE, get_account
from billing.models import BillingAccount, StripeEvent
from billing.plans import PLANS
from onno.links import billing_url
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


def payment_failed(settings, acct: BillingAccount) -> None:
    """Keep the plan for a grace period and tell the team how to fix the card; then it lapses to Free."""
    now = utcnow()
    if acct.grace_until is None:
        acct.grace_until = now + dt.timedelta(days=settings.billing_grace_days)
    acct.notice = (f"A payment failed. The {PLANS.get(acct.plan, PLANS['free']).title} plan stays on until "
                   f"{acct.grace_until:%d %b %Y}, then the workspace moves to Free. Update the card: "
                   f"{billing_url(settings, acct.workspace_id, 'manage')}")


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
    try:
        with app.session() as s:
            acct = find_account(s, obj, sub)
            s.add(StripeEvent(id=event["id"], type=event["type"], workspace_id=acct.workspace_id if acct else None))
            s.flush()  # a concurrent delivery of the same event fails here and changes nothing
            if acct is None:
                log.warning("stripe event %s (%s) matches no workspace", event["id"], event["type"])
                return "unknown account"
            if event["type"] == "checkout.session.completed":
                acct.stripe_customer_id = obj.get("customer") or acct.stripe_customer_id
            if sub is not None:
                apply_subscription(app.settings, acct, sub)
            # Stripe's current state wins: a failure already cured by a later payment sets no grace period.
            if event["type"] == "invoice.payment_failed" and (sub is None or acct.status not in ACTIVE):
                payment_failed(app.settings, acct)
            return "applied"
    except IntegrityError:
        return "duplicate"
