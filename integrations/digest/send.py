"""Sending one week's digest: mailed to each person on file who has not opted out, posted to the Slack or Discord
channel picked for it.

The caller holds the row's claim. Each reader is settled on record (storage.mail, under the round's key) the moment
the SMTP server answers, the Slack post by its ts and the Discord post by its message id, so a send that dies half way resumes with only what is left. A
4xx or a dropped connection puts the row back to wait for a retry; what can never work (a 5xx for an address, no
SMTP set up, the bot not in the channel) is noted, and the digest counts as sent when anyone got it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from email.utils import parseaddr

from core.names import first_name
from core.retry import RetryPolicy
from integrations.digest import compose, content
from integrations.digest import discord as discord_post
from integrations.digest import slack as slack_post
from integrations.email.adapter import sender_address
from integrations.email.smtp import RecipientFailed, SmtpConfig, SmtpSession
from integrations.email.unsubscribe import unsubscribe_url
from integrations.errors import PermanentError, TransientError
from storage import digest as store
from storage import mail, outbox
from storage import repository as repo
from storage.models import utcnow

log = logging.getLogger(__name__)

LEASE = 600.0  # seconds a sender may go without settling anyone before another may take the digest over


@dataclass
class Outcome:
    """What became of one attempt: the row's status and who has the digest so far."""

    week: str
    status: str  # sent | pending (a retry is due later) | skipped | failed | already (sent before) | busy
    emailed: list[str] = field(default_factory=list)
    slack_channel: str | None = None
    discord_channel: str | None = None
    note: str | None = None
    digest: content.WeekDigest | None = None


@dataclass
class Mailed:
    sent: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # "address (550 …)"
    deferred: list[str] = field(default_factory=list)  # "address (451 …)"


def mail_readers(app, d: content.WeekDigest, *, digest_id: int, key: str, readers: list[tuple[str, str, bool]],
                 settled: dict[str, tuple[str, str | None]]) -> Mailed:
    """One message per reader not yet settled under `key`; TransientError when the connection itself fails."""
    settings = app.settings
    if not settings.smtp_url:
        raise PermanentError("e-mail is not set up: set ONNO_SMTP_URL (and ONNO_MAIL_FROM)")
    try:
        config = SmtpConfig.from_url(settings.smtp_url, timeout=settings.smtp_timeout)
    except ValueError as exc:
        raise PermanentError(f"ONNO_SMTP_URL: {exc}") from exc
    sender = sender_address(settings, config)
    out = Mailed()
    with SmtpSession(config) as smtp:
        for address, name, by_first_name in readers:
            if address in settled:  # an earlier attempt of this round settled this reader
                status, reply = settled[address]
                if status == "sent":
                    out.sent.append(address)
                else:
                    out.refused.append(f"{address} ({reply})")
                continue
            unsubscribe = unsubscribe_url(settings, d.workspace_id, address)
            msg = compose.build_message(d, reader_email=address, reader_name=name, sender=sender, key=key,
                                        unsubscribe=unsubscribe, by_first_name=by_first_name)
            try:
                reply = smtp.send(msg, sender=parseaddr(sender)[1], recipient=address)
            except RecipientFailed as exc:
                if not exc.permanent:
                    out.deferred.append(f"{address} ({exc.reply})")
                    continue
                status, reply = "rejected", exc.reply
                out.refused.append(f"{address} ({reply})")
            else:
                status = "sent"
                out.sent.append(address)
            with app.session() as s:
                mail.record_send(s, key, address, status=status, message_id=msg["Message-ID"], reply=reply)
                outbox.renew(s, digest_id, LEASE)
    return out


def deliver(app, digest_id: int) -> Outcome:
    """Send a claimed digest row to whoever has not got it yet, and settle the row."""
    settings = app.settings
    with app.session() as s:
        row = s.get(store.Digest, digest_id)
        ws = repo.workspace_by_id(s, row.workspace_id)
        key, week, ws_id, attempts, slack_ts = row.key, row.week, row.workspace_id, row.attempts, row.slack_ts
        # A retry of this round: an earlier attempt may have posted to Slack and died before keeping the ts.
        retried_since = row.created_at if attempts > 1 else None
        discord_message = row.discord_message
        picked = store.get_settings(s, ws_id)
        channel = picked.slack_channel if ws.platform == "slack" else None
        channel = row.slack_channel if slack_ts else channel  # a post made this round stays the one
        discord_channel = picked.discord_channel if ws.platform == "discord" else None
        discord_channel = row.discord_channel if discord_message else discord_channel
        team_id = ws.external_id
        on_file = mail.list_people(s, ws_id)
        # Their items by first name too, unless someone else on file has the same first name.
        firsts = Counter(first_name(p.name) for p in on_file)
        readers = [(p.email, p.name, firsts[first_name(p.name)] == 1) for p in on_file if mail.mailable(p)]
        settled = {a: (r.status, r.reply) for a, r in mail.sends_for(s, key).items()}
    d = content.collect(app, ws_id, week)
    if d.empty:
        return finish(app, digest_id, Outcome(week, "skipped", digest=d, note=(
            f"nothing happened in {week}: no meetings, nothing done, no tickets moved")))
    if not readers and not channel and not discord_channel:
        return finish(app, digest_id, Outcome(week, "skipped", digest=d, note=(
            "no one to send it to: put people on file (`/onno email me` in Slack, `/onno email address:…` in "
            "Discord, `onno people add NAME EMAIL`) or pick a channel (`/onno settings digest here` in Slack, "
            "`/onno settings digest:here` in Discord)")))

    transient: list[str] = []
    waits: list[float] = []  # what the receivers asked for (Retry-After)
    permanent: list[str] = []
    emailed: list[str] = []
    if readers:
        try:
            mailed = mail_readers(app, d, digest_id=digest_id, key=key, readers=readers, settled=settled)
            emailed = mailed.sent
            if mailed.refused:
                permanent.append("refused: " + "; ".join(mailed.refused))
            if mailed.deferred:
                transient.append("deferred: " + "; ".join(mailed.deferred))
        except TransientError as exc:
            transient.append(exc.reason)
            waits.append(exc.retry_after or 0.0)
        except PermanentError as exc:
            permanent.append(exc.reason)
        if transient or permanent:  # what was sent before the trouble is on record; count it
            with app.session() as s:
                emailed = [a for a, r in mail.sends_for(s, key).items() if r.status == "sent"]
    posted = None
    if channel:
        try:
            if slack_ts is None:
                ts = slack_post.post(app, d, team_id=team_id, channel=channel, key=key, retried_since=retried_since)
                with app.session() as s:
                    outbox.record(s, key, f"slack:{channel}", ref=ts)
            posted = channel
        except TransientError as exc:
            transient.append(exc.reason)
            waits.append(exc.retry_after or 0.0)
        except PermanentError as exc:
            permanent.append(f"{exc.reason} (is the app in the channel? `/invite @Onno` there)"
                             if "not_in_channel" in exc.reason else exc.reason)

    in_discord = None
    if discord_channel:
        try:
            if discord_message is None:
                message_id = discord_post.post(app, d, channel=discord_channel, key=key)
                with app.session() as s:  # at once: a send resumed after this never posts again
                    outbox.record(s, key, f"discord:{discord_channel}", ref=message_id)
            in_discord = discord_channel
        except TransientError as exc:
            transient.append(exc.reason)
            waits.append(exc.retry_after or 0.0)
        except PermanentError as exc:
            permanent.append(f"{exc.reason} (can Onno see and post in that channel? give it View Channel and Send "
                             "Messages there, or pick another with `/onno settings digest:here`)"
                             if exc.status in (403, 404) else exc.reason)

    outcome = Outcome(week, "sent", emailed=emailed, slack_channel=posted, discord_channel=in_discord, digest=d,
                      note="; ".join(transient + permanent) or None)
    policy = RetryPolicy.of(settings)
    if transient and not policy.exhausted(attempts):
        outcome.status = "pending"
        wait = policy.wait(attempts, max(waits, default=0.0))
        return finish(app, digest_id, outcome, retry_at=utcnow() + dt.timedelta(seconds=wait))
    if not (emailed or posted or in_discord):
        outcome.status = "failed"
    return finish(app, digest_id, outcome)


def finish(app, digest_id: int, outcome: Outcome, *, retry_at: dt.datetime | None = None) -> Outcome:
    with app.session() as s:
        store.finish(s, digest_id, outcome.status, note=outcome.note, emailed=len(outcome.emailed),
                     retry_at=retry_at)
    if outcome.note:
        log.info("digest %s %s: %s", digest_id, outcome.status, outcome.note)
    return outcome
