"""The security self-check `onno web` and `onno worker` run at start: refuse a key too short, warn of the rest."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.keys import GOOD_CHARS, key_hint

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def warnings(settings) -> list[str]:
    """What an operator should fix; raises InputError (from the key) when Onno must not start at all."""
    out = []
    key = settings.resolved_secret_key
    if len(key) < GOOD_CHARS or len(set(key)) < 8:
        out.append(f"ONNO_SECRET_KEY is weak ({len(key)} characters, {len(set(key))} different); it signs every "
                   f"link Onno hands out. {key_hint()}")
    url = urlsplit(settings.public_url)
    if url.scheme != "https" and (url.hostname not in LOOPBACK or settings.smtp_url):
        out.append(f"ONNO_PUBLIC_URL ({settings.public_url}) is not HTTPS: signed links travel in clear text, and "
                   "mail clients may ignore one-click unsubscribe links that are not HTTPS (RFC 8058). Serve Onno "
                   "behind TLS and set ONNO_PUBLIC_URL=https://….")
    if settings.stripe_api_key and not settings.stripe_webhook_secret:
        out.append("STRIPE_API_KEY is set but STRIPE_WEBHOOK_SECRET is not: Stripe's events are refused, so paid "
                   "plans never start. Set it to the webhook endpoint's signing secret (whsec_…).")
    if (settings.slack_bot_token or settings.slack_client_id) and not settings.slack_signing_secret \
            and not settings.slack_app_token:  # Socket Mode needs no signing secret
        out.append("Slack is configured but SLACK_SIGNING_SECRET is not: /slack/events answers 404. Set it from "
                   "the Slack app's Basic Information → App Credentials.")
    return out
