"""Billing over HTTP on `onno web`: Stripe's webhook, and the upgrade and manage links we hand out."""

from __future__ import annotations

import asyncio
import logging
import time

import stripe
from aiohttp import web

from billing import stripe_api
from billing.accounts import get_account
from billing.webhooks import apply_event
from core.errors import InputError
from core.links import check_billing_signature
from storage import repository as repo

log = logging.getLogger(__name__)
TOLERANCE_S = 300  # Stripe's own default: a signature older than five minutes is a replay


def signature_problem(header: str, now: float | None = None) -> str | None:
    """What Stripe's library does not check: an ASCII header, and a timestamp not in the future."""
    if not header.isascii():
        return "the Stripe-Signature header is not Stripe's"
    stamps = [part[2:] for part in header.split(",") if part.startswith("t=")]
    if not stamps or not stamps[0].isdigit() or len(stamps[0]) > 12:
        return "the Stripe-Signature header has no timestamp"
    if int(stamps[0]) > (time.time() if now is None else now) + TOLERANCE_S:
        return "the signature is timestamped in the future"
    return None


def add_routes(web_app: web.Application, app) -> None:
    async def webhook(request: web.Request) -> web.Response:
        # Cheap checks first: a stranger's body is read only once its headers may be Stripe's.
        if not app.settings.stripe_webhook_secret:  # nothing to verify with: refuse, and say what to set
            return web.json_response({"error": "Stripe webhooks are not set up on this server: set "
                                               "STRIPE_WEBHOOK_SECRET to the endpoint's signing secret"}, status=503)
        if not request.headers.get("Stripe-Signature"):
            return web.json_response({"error": "rejected: no Stripe-Signature header (only Stripe may call this)"},
                                     status=400)
        problem = signature_problem(request.headers["Stripe-Signature"])
        if problem:
            return web.json_response({"error": f"rejected: {problem}"}, status=400)
        payload = await request.read()
        try:
            event = stripe.Webhook.construct_event(payload, request.headers.get("Stripe-Signature"),
                                                   app.settings.stripe_webhook_secret, tolerance=TOLERANCE_S)
        except (ValueError, RecursionError, stripe.SignatureVerificationError) as exc:
            return web.json_response({"error": f"rejected: {exc}"}, status=400)
        try:
            outcome = await asyncio.to_thread(apply_event, app, event.to_dict())
        except stripe.StripeError as exc:  # Stripe's API is away: answer 5xx so Stripe sends the event again
            log.warning("stripe event %s not applied: %s", event.id, exc)
            return web.json_response({"error": "try again"}, status=503)
        return web.json_response({"received": True, "outcome": outcome})

    def workspace_link(request: web.Request, action: str) -> str:
        ws_id = int(request.match_info["ws"])
        if not check_billing_signature(app.settings.resolved_secret_key, ws_id, request.query.get("sig", "")):
            raise web.HTTPNotFound(text="This billing link is incomplete or not ours.")
        with app.session() as s:
            ws = repo.workspace_by_id(s, ws_id)
            if ws is None:
                raise web.HTTPNotFound(text="No such workspace.")
            acct = get_account(s, ws, create=True)
            customer = acct.stripe_customer_id
        if action == "manage":
            if not customer:
                raise web.HTTPBadRequest(text="This workspace has no subscription to manage yet; upgrade first.")
            return stripe_api.portal_session(app.settings, workspace_id=ws_id, customer=customer)
        return stripe_api.checkout_session(app.settings, workspace_id=ws_id, plan=request.query.get("plan", "pro"),
                                           customer=customer)

    async def go(request: web.Request) -> web.Response:
        try:
            url = await asyncio.to_thread(workspace_link, request, request.match_info["action"])
        except InputError as exc:
            raise web.HTTPBadRequest(text=f"{exc.problem} {exc.hint}") from exc
        except stripe.StripeError as exc:
            log.warning("stripe: %s", exc)
            status, text = stripe_api.problem(exc)
            return web.Response(status=status, text=text)
        raise web.HTTPSeeOther(url)

    async def done(_request: web.Request) -> web.Response:
        return web.Response(text="Thanks! Your plan changes as soon as Stripe confirms it; see it with /onno plan.")

    web_app.router.add_post("/stripe/webhook", webhook)
    web_app.router.add_get(r"/billing/{ws:\d{1,18}}/{action:upgrade|manage}", go)
    web_app.router.add_get("/billing/done", done)
    web_app.router.add_get("/billing/cancelled", done)
