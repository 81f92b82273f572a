"""Our calls to Stripe: Checkout for upgrades, the Customer Portal, and reading a subscription's state."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import stripe

from billing.plans import PAID, PLANS
from core.errors import InputError


def client(settings) -> stripe.StripeClient:
    bases = {"api": settings.stripe_api_url.rstrip("/")} if settings.stripe_api_url else None
    return stripe.StripeClient(settings.stripe_api_key, base_addresses=bases, max_network_retries=2)


def price_for(settings, plan: str) -> str:
    price = {"pro": settings.stripe_price_pro, "team": settings.stripe_price_team}.get(plan, "")
    if plan not in PAID or not price:
        raise InputError(f"There is no paid plan {plan!r} to buy.",
                         f"Choose one of: {', '.join(PLANS[p].title.lower() for p in PAID)}.")
    return price


def plan_for_price(settings, price_id: str) -> str | None:
    return {settings.stripe_price_pro: "pro", settings.stripe_price_team: "team"}.get(price_id)


def checkout_session(settings, *, workspace_id: int, plan: str, customer: str | None,
                     today: dt.date | None = None) -> str:
    """A Checkout Session URL for upgrading; the same workspace, plan and day always reuse one session."""
    base = settings.public_url.rstrip("/")
    params = {"mode": "subscription", "line_items": [{"price": price_for(settings, plan), "quantity": 1}],
              "client_reference_id": str(workspace_id),
              "success_url": f"{base}/billing/done?session_id={{CHECKOUT_SESSION_ID}}",
              "cancel_url": f"{base}/billing/cancelled", "metadata": {"workspace_id": str(workspace_id)},
              "subscription_data": {"metadata": {"workspace_id": str(workspace_id), "plan": plan}}}
    if customer:
        params["customer"] = customer
    # Deterministic, so a retried job or a double click gets the same session instead of a second one; and it
    # covers the parameters, since Stripe refuses a key reused with others (a customer known since, a new URL).
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    key = f"onno-checkout-{workspace_id}-{plan}-{(today or dt.date.today()).isoformat()}-{digest}"
    session = client(settings).v1.checkout.sessions.create(params=params, options={"idempotency_key": key})
    return session.url


def problem(exc: stripe.StripeError) -> tuple[int, str]:
    """What went wrong with a call to Stripe, as an HTTP status and a sentence for whoever followed the link."""
    if isinstance(exc, stripe.APIConnectionError):
        return 503, "Stripe could not be reached; try the link again shortly."
    if isinstance(exc, stripe.RateLimitError):
        return 503, "Stripe is busy; try the link again in a minute."
    if isinstance(exc, (stripe.AuthenticationError, stripe.PermissionError)):
        return 503, ("Stripe refused this server's API key; whoever runs Onno must check STRIPE_API_KEY. "
                     "Nothing was charged.")
    said = getattr(exc, "user_message", None) or (exc.error.message if exc.error else None) or str(exc)
    return 502, f"Stripe refused the request: {said} Nothing was charged; tell whoever runs Onno if it persists."


def portal_session(settings, *, workspace_id: int, customer: str, now: dt.datetime | None = None) -> str:
    """A Customer Portal URL for changing or cancelling the plan (one per workspace per ten minutes)."""
    now = now or dt.datetime.now(dt.UTC)
    key = f"onno-portal-{workspace_id}-{customer}-{now:%Y%m%d%H}{now.minute // 10}"
    session = client(settings).v1.billing_portal.sessions.create(
        params={"customer": customer, "return_url": f"{settings.public_url.rstrip('/')}/billing/done"},
        options={"idempotency_key": key})
    return session.url


def subscription(settings, subscription_id: str) -> dict:
    """The subscription as Stripe holds it now: events may arrive out of order, this never does."""
    return client(settings).v1.subscriptions.retrieve(subscription_id).to_dict()
