"""Double opt-in for a typed address: one short mail with a signed, 7-day link that its inbox's owner follows.

An address typed in chat (`/onno email ADDRESS`, Discord's `address:`) proves nothing, so it is mailed nothing but
this until the link is followed (GET shows a page, its button POSTs: mail scanners that prefetch links confirm
nothing). The same link brings back an address that unsubscribed: the inbox's owner asks for it.
"""

from __future__ import annotations

import binascii
import datetime as dt
import hashlib
import hmac
import logging
import threading
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from core.links import signature_matches
from integrations.email.adapter import sender_address
from integrations.email.compose import environment
from integrations.email.smtp import SmtpConfig, SmtpSession
from integrations.email.unsubscribe import b64, unb64, unsubscribe_url
from integrations.errors import PermanentError, TransientError
from pipeline.types import one_line
from storage import mail
from storage import repository as repo

log = logging.getLogger(__name__)

VALID = dt.timedelta(days=7)
RESEND_AFTER = dt.timedelta(minutes=10)


def _sign(secret: str, payload: str) -> str:
    # Its own purpose prefix: an unsubscribe signature can never pass for a confirmation, nor the other way.
    return b64(hmac.new(secret.encode(), b"confirm-email:" + payload.encode(), hashlib.sha256).digest()[:18])


def make_token(secret: str, workspace_id: int, email: str, issued: dt.datetime) -> str:
    """URL-safe: `<base64 of "workspace:issued unix time in ms:address">.<signature>`."""
    # Milliseconds: an unsubscribe just before the link was made must still count as before it.
    payload = b64(f"{workspace_id}:{int(issued.timestamp() * 1000)}:{mail.normal_email(email)}".encode())
    return f"{payload}.{_sign(secret, payload)}"


def read_token(secret: str, token: str, *, now: dt.datetime | None = None) -> tuple[str, int, str, dt.datetime]:
    """("ok" | "expired" | "invalid", workspace id, address, issued) from a token; only "ok" may confirm."""
    payload, _, sig = token.partition(".")
    if not payload or not token.isascii() or not signature_matches(_sign(secret, payload), sig):
        return "invalid", 0, "", dt.datetime.min.replace(tzinfo=dt.UTC)
    try:
        ws, _, rest = unb64(payload).decode().partition(":")
        issued_at, _, email = rest.partition(":")
        issued = dt.datetime.fromtimestamp(int(issued_at) / 1000, dt.UTC)
        workspace_id = int(ws)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError):
        return "invalid", 0, "", dt.datetime.min.replace(tzinfo=dt.UTC)
    state = "ok" if (now or dt.datetime.now(dt.UTC)) - issued <= VALID else "expired"
    return state, workspace_id, email, issued


def confirm_url(settings, workspace_id: int, email: str, issued: dt.datetime) -> str:
    token = make_token(settings.resolved_secret_key, workspace_id, email, issued)
    return f"{settings.public_url.rstrip('/')}/confirm/{token}"


def team_label(s, workspace_id: int) -> str:
    ws = repo.workspace_by_id(s, workspace_id)
    return "" if ws is None or ws.platform == "cli" else ws.name


def build_message(settings, *, workspace_id: int, person: mail.Person, team: str, sender: str,
                  issued: dt.datetime) -> EmailMessage:
    """The confirmation: plain text and HTML (the shared page frame), one link, nothing else."""
    values = {"name": person.name, "email": person.email, "team": team, "resubscribe": person.opted_out,
              "confirm_url": confirm_url(settings, workspace_id, person.email, issued),
              "unsubscribe_url": unsubscribe_url(settings, workspace_id, person.email), "days": VALID.days}
    msg = EmailMessage()
    msg["Subject"] = f"Confirm your address for Onno's meeting summaries{f' from {team}' if team else ''}"
    msg["From"] = sender
    msg["To"] = Address(display_name=one_line(person.name), addr_spec=person.email)
    msg["Date"] = format_datetime(issued)
    msg["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rpartition("@")[2] or "onno.invalid")
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies to this
    msg.set_content(environment(False).get_template("confirm.txt").render(**values))
    msg.add_alternative(environment(True).get_template("confirm.html").render(**values), subtype="html")
    return msg


def request(app, workspace_id: int, email: str, *, background: bool = False) -> str:
    """Mail the confirmation link for this unconfirmed address: "sent", "recent" (one went out in the last
    10 minutes), "off" (no SMTP set up: nothing sent), or "failed: why". `background`: send on a thread (a chat
    that must answer within seconds) and say "sent" once the send is claimed."""
    settings = app.settings
    if not settings.smtp_url:
        return "off"
    with app.session() as s:
        if not mail.claim_confirm_slot(s, workspace_id, email, every=RESEND_AFTER):
            person = mail.person_by_email(s, workspace_id, email)
            return "recent" if person is not None and person.confirmed_at is None else "failed: nothing to confirm"
    if background:
        threading.Thread(target=_send, args=(app, workspace_id, email), daemon=True,
                         name="onno-confirm-mail").start()
        return "sent"
    return _send(app, workspace_id, email)


def _send(app, workspace_id: int, email: str) -> str:
    settings = app.settings
    try:
        config = SmtpConfig.from_url(settings.smtp_url, timeout=settings.smtp_timeout)
        sender = sender_address(settings, config)
        with app.session() as s:
            person = mail.person_by_email(s, workspace_id, email)
            team = team_label(s, workspace_id)
            issued = dt.datetime.now(dt.UTC)
            msg = build_message(settings, workspace_id=workspace_id, person=person, team=team, sender=sender,
                                issued=issued)
        with SmtpSession(config) as smtp:
            smtp.send(msg, sender=parseaddr(sender)[1], recipient=person.email)
    except Exception as exc:  # noqa: BLE001 - whatever it was, the member may ask again at once
        why = exc.reason if isinstance(exc, (TransientError, PermanentError)) else str(exc)
        log.warning("confirmation mail to %s (workspace %s) not sent: %s", email, workspace_id, why)
        with app.session() as s:
            mail.release_confirm_slot(s, workspace_id, email)
        return f"failed: {why}"
    return "sent"
