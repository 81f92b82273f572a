"""Stripe through the real handlers: signed webhooks (replays, reordering, bad signatures), checkout, portal."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner

from billing.accounts import effective_plan, get_account
from core.links import billing_url
from onno.cli import main
from onno.web import make_web_app
from storage import repository as repo
from tests.billing.conftest import API_KEY, PRICES, billing_env, event, signed


def call(app, method: str, path: str, **kw) -> tuple[int, dict | str, dict]:
    async def go():
        async with TestClient(TestServer(make_web_app(app))) as client:
            r = await client.request(method, path, allow_redirects=False, **kw)
            body = await r.json() if r.content_type == "application/json" else await r.text()
            return r.status, body, dict(r.headers)

    return asyncio.run(go())


def post_event(app, evt: dict, **sign) -> tuple[int, dict]:
    body, header = signed(evt, **sign)
    status, reply, _ = call(app, "POST", "/stripe/webhook", data=body,
                            headers={"Stripe-Signature": header, "Content-Type": "application/json"})
    return status, reply


def account(app):
    with app.session() as s:
        ws = repo.get_or_create_workspace(s)
        return get_account(s, ws), ws.id


def checkout_completed(ws_id: int, event_id: str = "evt_checkout") -> dict:
    return event(event_id, "checkout.session.completed",
                 {"id": "cs_test_1", "object": "checkout.session", "mode": "subscription", "customer": "cus_1",
                  "subscription": "sub_1", "client_reference_id": str(ws_id), "status": "complete"})


def subscription_event(event_id: str, kind: str, sub: dict) -> dict:
    return event(event_id, kind, dict(sub))


def test_bad_stale_and_missing_signatures_are_rejected(billed_app, fake_stripe):
    _, ws_id = account(billed_app)
    fake_stripe.subscribe("sub_1", workspace_id=ws_id)
    evt = checkout_completed(ws_id)
    assert post_event(billed_app, evt, secret="whsec_someone_else")[0] == 400
    assert post_event(billed_app, evt, at=int(time.time()) - 301)[0] == 400  # older than five minutes
    status, reply, _ = call(billed_app, "POST", "/stripe/webhook", data=b"{}")
    assert status == 400 and "no Stripe-Signature header" in reply["error"]
    assert account(billed_app)[0] is None  # nothing applied
    status, reply = post_event(billed_app, evt)
    assert status == 200 and reply["outcome"] == "applied"


def test_without_a_signing_secret_webhooks_are_refused_saying_what_to_set(tmp_path, fake_stripe):
    from onno.service import App
    from onno.settings import Settings

    app = App(Settings(data_dir=tmp_path / "data", stripe_api_key="sk_test_x", stripe_api_url=fake_stripe.url))
    status, reply = post_event(app, checkout_completed(1))
    app.engine.dispose()
    assert status == 503 and "set STRIPE_WEBHOOK_SECRET" in reply["error"]


def test_checkout_upgrades_once_however_often_the_event_is_sent(billed_app, fake_stripe):
    _, ws_id = account(billed_app)
    fake_stripe.subscribe("sub_1", plan="pro", workspace_id=ws_id)
    assert post_event(billed_app, checkout_completed(ws_id))[1]["outcome"] == "applied"
    for _ in range(2):
        assert post_event(billed_app, checkout_completed(ws_id))[1]["outcome"] == "duplicate"
    acct, _ = account(billed_app)
    assert (acct.plan, acct.status, acct.stripe_customer_id) == ("pro", "active", "cus_1")
    assert effective_plan(acct).name == "pro" and acct.period_end is not None


def test_out_of_order_events_end_in_the_subscriptions_current_state(billed_app, fake_stripe):
    _, ws_id = account(billed_app)
    sub = fake_stripe.subscribe("sub_1", plan="team", workspace_id=ws_id)
    created = subscription_event("evt_1", "customer.subscription.created", sub)
    # Stripe now holds the subscription as cancelled; the deletion arrives before the older creation event.
    fake_stripe.subscribe("sub_1", plan="team", status="canceled", workspace_id=ws_id)
    deleted = subscription_event("evt_2", "customer.subscription.deleted", fake_stripe.subscriptions["sub_1"])
    assert post_event(billed_app, deleted)[1]["outcome"] == "applied"
    assert post_event(billed_app, created)[1]["outcome"] == "applied"
    acct, _ = account(billed_app)
    assert acct.status == "canceled" and effective_plan(acct).name == "free"
    assert "Free plan now" in acct.notice


def test_failed_payment_keeps_the_plan_for_a_grace_period_then_downgrades(billed_app, fake_stripe):
    _, ws_id = account(billed_app)
    fake_stripe.subscribe("sub_1", plan="pro", workspace_id=ws_id)
    post_event(billed_app, checkout_completed(ws_id))
    fake_stripe.subscribe("sub_1", plan="pro", status="past_due", workspace_id=ws_id)
    invoice = {"id": "in_1", "object": "invoice", "customer": "cus_1",
               "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_1"}}}
    assert post_event(billed_app, event("evt_fail", "invoice.payment_failed", invoice))[1]["outcome"] == "applied"
    acct, _ = account(billed_app)
    assert acct.status == "past_due" and "A payment failed" in acct.notice and "/manage" in acct.notice
    assert effective_plan(acct).name == "pro"  # within the grace period
    after = acct.grace_until.replace(tzinfo=acct.grace_until.tzinfo or dt.UTC) + dt.timedelta(minutes=1)
    assert effective_plan(acct, now=after).name == "free"
    fake_stripe.subscribe("sub_1", plan="pro", status="active", workspace_id=ws_id)
    post_event(billed_app, event("evt_paid", "invoice.paid", invoice))
    acct, _ = account(billed_app)
    assert acct.status == "active" and acct.grace_until is None and acct.notice is None


def test_stripe_down_answers_503_so_stripe_retries_and_nothing_is_recorded(billed_app, fake_stripe):
    _, ws_id = account(billed_app)
    evt = checkout_completed(ws_id)  # fake Stripe has no sub_1: retrieving it fails
    fake_stripe.close()
    status, _ = post_event(billed_app, evt)
    assert status == 503
    with billed_app.session() as s:
        from billing.models import StripeEvent
        assert s.get(StripeEvent, evt["id"]) is None


def test_upgrade_link_opens_one_checkout_session_with_a_deterministic_key(billed_app, fake_stripe):
    _, ws_id = account(billed_app)
    link = billing_url(billed_app.settings, ws_id, plan="team").removeprefix("https://onno.test")
    first = call(billed_app, "GET", link)
    second = call(billed_app, "GET", link)
    assert first[0] == second[0] == 303
    assert first[2]["Location"] == second[2]["Location"] == "https://checkout.test/cs_test_1"
    posts = [r for r in fake_stripe.requests if r["method"] == "POST"]
    assert len(posts) == 2 and posts[0]["key"] == posts[1]["key"] and fake_stripe.sessions == 1
    form = posts[0]["form"]
    assert form["mode"] == "subscription" and form["line_items[0][price]"] == PRICES["team"]
    assert form["client_reference_id"] == str(ws_id) and form["subscription_data[metadata][workspace_id]"] == str(ws_id)
    assert call(billed_app, "GET", link.replace("sig=", "sig=0"))[0] == 404


def test_manage_link_opens_the_customer_portal(billed_app, fake_stripe):
    _, ws_id = account(billed_app)
    link = billing_url(billed_app.settings, ws_id, "manage").removeprefix("https://onno.test")
    assert call(billed_app, "GET", link)[0] == 400  # no subscription yet: nothing to manage
    fake_stripe.subscribe("sub_1", workspace_id=ws_id)
    post_event(billed_app, checkout_completed(ws_id))
    status, _, headers = call(billed_app, "GET", link)
    assert status == 303 and headers["Location"].startswith("https://billing.test/session/")


@pytest.mark.parametrize("kind", ["customer.subscription.updated"])
def test_events_for_unknown_customers_are_recorded_and_ignored(billed_app, fake_stripe, kind):
    sub = fake_stripe.subscribe("sub_9", customer="cus_9", workspace_id=999)
    status, reply = post_event(billed_app, subscription_event("evt_9", kind, sub))
    assert status == 200 and reply["outcome"] == "unknown account"


# -- what a stranger, a second workspace or Stripe's own rules can do ---------------------------------------------

def test_signatures_timestamped_in_the_future_are_rejected(billed_app, fake_stripe):
    _, ws_id = account(billed_app)
    fake_stripe.subscribe("sub_1", workspace_id=ws_id)
    status, reply = post_event(billed_app, checkout_completed(ws_id), at=int(time.time()) + 3600)
    assert status == 400 and "in the future" in reply["error"]
    assert account(billed_app)[0] is None


def test_a_customer_of_another_workspace_is_never_applied(billed_app, fake_stripe):
    _, ws_a = account(billed_app)
    fake_stripe.subscribe("sub_1", workspace_id=ws_a)
    assert post_event(billed_app, checkout_completed(ws_a))[1]["outcome"] == "applied"
    with billed_app.session() as s:
        ws_b = repo.get_or_create_workspace(s, "other").id
    fake_stripe.subscribe("sub_2", workspace_id=ws_b, customer="cus_1")  # validly signed, naming A's customer
    evt = event("evt_b", "checkout.session.completed",
                {"id": "cs_test_2", "object": "checkout.session", "mode": "subscription", "customer": "cus_1",
                 "subscription": "sub_2", "client_reference_id": str(ws_b), "status": "complete"})
    status, reply = post_event(billed_app, evt)
    assert status == 200 and reply["outcome"] == "customer of another workspace"
    with billed_app.session() as s:
        b = get_account(s, repo.workspace_by_id(s, ws_b))
        assert b is None or (b.stripe_customer_id is None and b.plan == "free")
    manage_b = billing_url(billed_app.settings, ws_b, "manage").removeprefix("https://onno.test")
    assert call(billed_app, "GET", manage_b)[0] == 400  # B has nothing to manage; A's portal stays A's


def test_buying_again_on_the_same_day_gets_a_checkout_session(billed_app, fake_stripe):
    _, ws_id = account(billed_app)
    link = billing_url(billed_app.settings, ws_id, plan="pro").removeprefix("https://onno.test")
    assert call(billed_app, "GET", link)[0] == 303
    fake_stripe.subscribe("sub_1", workspace_id=ws_id)
    post_event(billed_app, checkout_completed(ws_id))  # now the account knows its customer
    fake_stripe.subscribe("sub_1", workspace_id=ws_id, status="canceled")
    post_event(billed_app, subscription_event("evt_cancel", "customer.subscription.deleted",
                                              fake_stripe.subscriptions["sub_1"]))
    status, _, headers = call(billed_app, "GET", link)  # the same day, now with customer=
    assert status == 303 and headers["Location"].startswith("https://checkout.test/")
    posts = [r for r in fake_stripe.requests if r["path"] == "/v1/checkout/sessions"]
    assert posts[-1]["form"]["customer"] == "cus_1" and posts[0]["key"] != posts[-1]["key"]


def test_stripe_errors_are_reported_as_what_they_are(billed_app, fake_stripe, monkeypatch):
    _, ws_id = account(billed_app)
    billed_app.settings.stripe_api_key = "sk_test_revoked"
    link = billing_url(billed_app.settings, ws_id, plan="pro").removeprefix("https://onno.test")
    status, text, _ = call(billed_app, "GET", link)
    assert status == 503 and "refused this server's API key" in text and "could not be reached" not in text
    billed_app.settings.stripe_api_key = API_KEY
    with billed_app.session() as s:  # a customer Stripe does not know (deleted in the dashboard)
        get_account(s, repo.workspace_by_id(s, ws_id)).stripe_customer_id = "cus_gone"
    status, text, _ = call(billed_app, "GET", link)
    assert status == 502 and "No such customer" in text
    # The CLI says the same, without a traceback.
    for key, value in {**billing_env(fake_stripe), "ONNO_DATA_DIR": str(billed_app.settings.data_dir),
                       "ONNO_DATABASE_URL": billed_app.settings.database_url}.items():
        monkeypatch.setenv(key, value)
    r = CliRunner().invoke(main, ["plan", "upgrade", "pro"])
    assert r.exit_code == 1 and "Stripe refused the request" in r.output and "No such customer" in r.output
