"""The `email:participants` and `email:ADDRESS` delivery targets: the meeting summary, mailed once per reader.

Each reader gets their own message (their own unsubscribe link, their action items first). Every reader's
outcome is recorded against the delivery key as soon as the server answers, so a retried delivery mails only
those not yet mailed. A 4xx reply, or a dropped connection, makes the delivery transient (retried, for the
readers left); a 5xx for one address is final for that address. When some readers got the mail and others
were refused with a 5xx, the delivery ends failed, naming the refused addresses: fix them with
`onno people add` and `onno jobs retry`, which mails only the new addresses.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from email.utils import parseaddr

from core.links import meeting_url
from integrations.deliver import DeliveryContext
from integrations.email import compose
from integrations.email.smtp import RecipientFailed, SmtpConfig, SmtpSession
from integrations.email.unsubscribe import unsubscribe_url
from integrations.errors import PermanentError, TransientError
from storage import mail as people

log = logging.getLogger(__name__)

PARTICIPANTS = "participants"
ADDRESS = re.compile(r"^[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\.]+(\.[^@\s<>,;:\"()\[\]\\.]+)+$")


def check(arg: str) -> str | None:
    if arg == PARTICIPANTS or ADDRESS.match(arg):
        return None
    return f"{arg!r} is neither `participants` nor an e-mail address."


@dataclass(frozen=True)
class Reader:
    email: str
    name: str | None  # as the meeting knows them: their action items are marked "you"
    display: str | None  # as they are on file, for the To: header
    why: str


def readers(s, ctx: DeliveryContext, arg: str) -> tuple[list[Reader], list[str]]:
    """Who gets this delivery, and why others do not (no address on file, opted out)."""
    title = ctx.result["meeting"]["title"]
    found: list[Reader] = []
    left_out: list[str] = []
    if arg == PARTICIPANTS:
        participants = ctx.result["meeting"].get("participants") or []
        if not participants:
            left_out.append("the meeting has no named participants")
        why = f"You get this because you took part in “{title}” and your address is on file with your team's Onno."
        for name, persons in people.people_for_participants(s, ctx.workspace_id, participants).items():
            if not persons:
                left_out.append(f"{name} has no address on file")
            for p in persons:
                if p.opted_out:
                    left_out.append(f"{name} ({p.email}) unsubscribed")
                elif not people.mailable(p):  # typed in chat, its inbox's owner has not confirmed it yet
                    left_out.append(f"{name} ({p.email}) has not confirmed the address yet")
                else:
                    found.append(Reader(email=p.email, name=name, display=p.name, why=why))
    else:
        person = people.person_by_email(s, ctx.workspace_id, arg)
        if person is not None and person.opted_out:
            left_out.append(f"{person.email} unsubscribed")
        else:
            name = person.name if person else None
            found.append(Reader(email=people.normal_email(arg), name=name, display=name,
                                why="Your team's Onno sends you the summaries of its meetings."))
    unique = list({r.email: r for r in reversed(found)}.values())[::-1]  # one message per mailbox
    return unique, left_out


def sender_address(settings, config: SmtpConfig) -> str:
    sender = settings.mail_from or (config.username if config.username and "@" in config.username else "")
    if not parseaddr(sender)[1]:
        raise PermanentError("e-mail has no sender: set ONNO_MAIL_FROM, e.g. \"Onno <onno@example.com>\"")
    return sender


def send(arg: str, ctx: DeliveryContext) -> int:
    settings = ctx.settings
    if not settings.smtp_url:
        raise PermanentError("e-mail is not set up: set ONNO_SMTP_URL (and ONNO_MAIL_FROM), then "
                             "`onno jobs retry`")
    try:
        config = SmtpConfig.from_url(settings.smtp_url, timeout=settings.smtp_timeout)
    except ValueError as exc:
        raise PermanentError(f"ONNO_SMTP_URL: {exc}") from exc
    sender = sender_address(settings, config)
    with ctx.app.session() as s:
        to, left_out = readers(s, ctx, arg)
        done = {addr: (row.status, row.reply) for addr, row in people.sends_for(s, ctx.key).items()}
    if left_out:
        log.info("delivery %s: not mailing: %s", ctx.key, "; ".join(left_out))
    if not to:
        raise PermanentError("no one to e-mail: " + "; ".join(left_out or ["no recipients"])
                             + " (each person says `/onno email me` in Slack or `/onno email address:…` in "
                             "Discord; or `onno people add NAME EMAIL`)")

    sent: list[str] = []
    rejected: list[tuple[str, str]] = []
    deferred: list[tuple[str, RecipientFailed]] = []
    with SmtpSession(config) as smtp:
        for reader in to:
            if reader.email in done:  # an earlier attempt at this delivery settled this reader
                status, reply = done[reader.email]
                if status == "sent":
                    sent.append(reader.email)
                else:
                    rejected.append((reader.email, reply or ""))
                continue
            try:
                msg = message_for(ctx, reader, sender)
            except ValueError as exc:  # a header the mail library refuses: sending again will not change it
                raise PermanentError(f"the e-mail to {reader.email} could not be written ({exc}); fix the "
                                     "meeting's title or the person's name, then `onno jobs retry`") from exc
            try:
                reply = smtp.send(msg, sender=parseaddr(sender)[1], recipient=reader.email)
            except RecipientFailed as exc:
                if not exc.permanent:
                    deferred.append((reader.email, exc))
                    continue
                status, reply = "rejected", exc.reply
                rejected.append((reader.email, reply))
            else:
                status = "sent"
                sent.append(reader.email)
            with ctx.app.session() as s:
                people.record_send(s, ctx.key, reader.email, status=status, message_id=msg["Message-ID"],
                                   reply=reply)
    if deferred:
        detail = "; ".join(f"{addr} ({exc.reply})" for addr, exc in deferred)
        raise TransientError(f"{len(deferred)} of {len(to)} recipient(s) deferred, retrying: {detail}",
                             status=deferred[0][1].code)
    if rejected:
        detail = "; ".join(f"{addr} ({reply})" for addr, reply in rejected)
        raise PermanentError(f"sent to {len(sent)} of {len(to)}; refused: {detail}",
                             status=int(rejected[0][1][:3]) if rejected[0][1][:3].isdigit() else None)
    return 250


def message_for(ctx: DeliveryContext, reader: Reader, sender: str):
    """One reader's message: their unsubscribe link, their items first, every line linked to its moment."""
    settings = ctx.settings

    def link(at: float | None) -> str:
        return meeting_url(settings, ctx.workspace_id, ctx.meeting_id, at=at)

    unsubscribe = unsubscribe_url(settings, ctx.workspace_id, reader.email)
    html, text = compose.render(compose.context(ctx.result, link=link, reader=reader.name, unsubscribe=unsubscribe,
                                                why=reader.why))
    return compose.build_message(result=ctx.result, html=html, text=text, sender=sender, recipient=reader.email,
                                 recipient_name=reader.display, delivery_key=ctx.key, unsubscribe=unsubscribe)
