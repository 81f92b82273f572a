"""Billing fixtures: a local server playing Stripe's API, and webhook payloads signed the way Stripe signs."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from onno.service import App
from onno.settings import Settings

API_KEY = "sk_test_onno"
WEBHOOK_SECRET = "whsec_test_onno"
PRICES = {"pro": "price_pro_monthly", "team": "price_team_monthly"}


def stripe_error(message: str, kind: str = "invalid_request_error", code: str | None = None) -> dict:
    return {"error": {"type": kind, "message": message, **({"code": code} if code else {})}}


class FakeStripe:
    """Checkout and portal sessions and subscriptions, checking each request as Stripe's API would."""

    def __init__(self):
        self.requests: list[dict] = []
        self.subscriptions: dict[str, dict] = {}
        self.customers = {"cus_1"}
        self.idempotent: dict[str, tuple[dict, dict]] = {}
        self.sessions = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def reply(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    self.reply(401, stripe_error("Invalid API Key provided", "invalid_request_error"))
                    return False
                return True

            def do_GET(self):
                fake.requests.append({"method": "GET", "path": self.path})
                if not self.authorised():
                    return
                if self.path.startswith("/v1/subscriptions/"):
                    sub = fake.subscriptions.get(self.path.rsplit("/", 1)[1])
                    if sub is None:
                        return self.reply(404, stripe_error("No such subscription", code="resource_missing"))
                    return self.reply(200, sub)
                self.reply(404, stripe_error(f"Unrecognized request URL (GET: {self.path})"))

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                form = {k: v[0] for k, v in parse_qs(raw).items()}
                key = self.headers.get("Idempotency-Key")
                fake.requests.append({"method": "POST", "path": self.path, "form": form, "key": key})
                if not self.authorised():
                    return
                if self.headers.get("Content-Type", "").split(";")[0] != "application/x-www-form-urlencoded":
                    return self.reply(400, stripe_error("Stripe takes form-encoded bodies"))
                if key in fake.idempotent:
                    earlier_form, response = fake.idempotent[key]
                    if earlier_form != form:
                        return self.reply(400, stripe_error("Keys for idempotent requests can only be used with "
                                                            "the same parameters", "idempotency_error"))
                    return self.reply(200, response)
                if self.path == "/v1/checkout/sessions":
                    response = fake.checkout(form)
                elif self.path == "/v1/billing_portal/sessions":
                    response = fake.portal(form)
                else:
                    response = stripe_error(f"Unrecognized request URL (POST: {self.path})")
                if "error" in response:
                    return self.reply(400, response)
                if key:
                    fake.idempotent[key] = (form, response)
                self.reply(200, response)

            def log_message(self, *_a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def checkout(self, form: dict) -> dict:
        missing = [k for k in ("mode", "line_items[0][price]", "success_url", "client_reference_id") if k not in form]
        if missing:
            return stripe_error(f"Missing required param: {missing[0]}.")
        if form["mode"] != "subscription" or form["line_items[0][price]"] not in PRICES.values():
            return stripe_error("Subscription mode needs a recurring price")
        if "customer" in form and form["customer"] not in self.customers:
            return stripe_error(f"No such customer: '{form['customer']}'", code="resource_missing")
        self.sessions += 1
        sid = f"cs_test_{self.sessions}"
        return {"id": sid, "object": "checkout.session", "mode": "subscription", "url": f"https://checkout.test/{sid}",
                "client_reference_id": form["client_reference_id"]}

    def portal(self, form: dict) -> dict:
        if form.get("customer") not in self.customers:
            return stripe_error(f"No such customer: '{form.get('customer')}'", code="resource_missing")
        self.sessions += 1
        return {"id": f"bps_{self.sessions}", "object": "billing_portal.session",
                "url": f"https://billing.test/session/{self.sessions}", "return_url": form.get("return_url")}

    def subscribe(self, sub_id: str, *, plan: str = "pro", status: str = "active", workspace_id: int = 1,
                  customer: str = "cus_1") -> dict:
        """Set what Stripe holds for a subscription now (the basil API shape: periods on the items)."""
        now = int(time.time())
        self.subscriptions[sub_id] = {
            "id": sub_id, "object": "subscription", "customer": customer, "status": status,
            "cancel_at_period_end": False, "metadata": {"workspace_id": str(workspace_id)},
            "items": {"object": "list", "data": [{"id": "si_1", "object": "subscription_item",
                                                  "price": {"id": PRICES[plan], "object": "price"},
                                                  "current_period_start": now - 86400,
                                                  "current_period_end": now + 29 * 86400}]}}
        return self.subscriptions[sub_id]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_stripe():
    fake = FakeStripe()
    yield fake
    fake.close()


def billing_env(fake: FakeStripe) -> dict[str, str]:
    return {"STRIPE_API_KEY": API_KEY, "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET, "STRIPE_API_URL": fake.url,
            "STRIPE_PRICE_PRO": PRICES["pro"], "STRIPE_PRICE_TEAM": PRICES["team"]}


@pytest.fixture
def billed_app(tmp_path, database_url, fake_stripe):
    app = App(Settings(data_dir=tmp_path / "data", database_url=database_url, public_url="https://onno.test",
                       stripe_api_key=API_KEY, stripe_webhook_secret=WEBHOOK_SECRET, stripe_api_url=fake_stripe.url,
                       stripe_price_pro=PRICES["pro"], stripe_price_team=PRICES["team"]))
    yield app
    app.engine.dispose()


def signed(event: dict, *, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, str]:
    """The body and Stripe-Signature header Stripe would send for `event`."""
    body = json.dumps(event).encode()
    t = int(time.time()) if at is None else at
    sig = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={t},v1={sig}"


def event(event_id: str, kind: str, obj: dict) -> dict:
    return {"id": event_id, "object": "event", "type": kind, "api_version": "2025-09-30.clover",
            "created": int(time.time()), "livemode": False, "data": {"object": obj}}
