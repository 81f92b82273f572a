"""Telling the team once, where they work: team notices posted to Slack and Discord from an outbox.

A notice is written (storage.notices.create) in the same transaction as the change it reports (a Notion connection
marked broken, a failed payment), under a key that makes a second one a no-op. It is then sent at once, best effort
(`App.send_notices`), and otherwise by the sweeper; the outbox's claim (pending -> sending, with a lease) means one
sender at a time, and each destination's receipt is kept, so a retry never posts twice where it already posted.

Where it goes, decided when it is sent:
- Slack (a Slack workspace, with its bot token): the channel picked with `/onno settings notices here`, else the
  channel that most recently had a recording processed; nowhere in Slack after `/onno settings notices off`.
- Discord (with DISCORD_TOKEN set): the channel picked with `/onno settings notices:here`, else the text channel of
  the workspace's most recent live meeting; nowhere in Discord after `/onno settings notices:off`.
Nowhere at all (the CLI's workspace, a team that has processed nothing yet): the notice is logged at ERROR and
marked delivered to "log", so it is never retried and never posted late, out of context.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from core.retry import RetryPolicy
from integrations.discord.api import DiscordAPI
from integrations.errors import PermanentError, TransientError
from integrations.slack import api as slack_api
from integrations.slack.tokens import bot_token
from storage import notices as repo
from storage import outbox
from storage import repository as workspaces
from storage.models import utcnow
from storage.notices import create, notion_broken  # noqa: F401  (made in storage, sent from here)

log = logging.getLogger(__name__)

MIN_LEASE = 120.0  # longer than two posts with their timeouts: a live sender is never taken over mid-post
DISCORD_LIMIT = 2000


# -- sending notices just made -------------------------------------------------------------------------------------------------


def send_new(app, keys: list[str | None], *, wait: bool = True) -> None:
    """Send notices just committed, now and best effort; whatever does not go out here, the sweeper sends.

    `wait=False` sends from a thread, for callers that must answer quickly (Stripe's webhook).
    """
    keys = [k for k in keys if k]
    if not keys:
        return
    if not wait:
        threading.Thread(target=send_new, args=(app, keys), name="onno-notices", daemon=True).start()
        return
    for key in keys:
        try:
            with app.session() as s:
                row = repo.notice_by_key(s, key)
                notice_id = row.id if row is not None else None
            if notice_id is not None:
                send(app, notice_id)
        except Exception as exc:  # the database or a chat service is away: the row waits for the sweeper
            log.warning("team notice %s not sent now (the sweeper sends it later): %s", key, exc)


# -- where notices go -----------------------------------------------------------------------------------------------


def places(app, workspace_id: int) -> list[str]:
    """Where this workspace's notices go now: `slack:CHANNEL`, `discord:CHANNEL`; empty when nowhere."""
    out = []
    with app.session() as s:
        ws = workspaces.workspace_by_id(s, workspace_id)
        if ws is None:
            return []
        prefs = repo.notice_settings(s, ws.id)
        if ws.platform == "slack":
            out.append(place("slack", prefs and prefs.slack_channel_id, bool(prefs and prefs.slack_off),
                             lambda: repo.latest_recording_channel(s, ws.id)))
        if app.settings.discord_token:
            out.append(place("discord", prefs and prefs.discord_channel_id, bool(prefs and prefs.discord_off),
                             lambda: repo.latest_live_text_channel(s, ws.id)))
    return [p for p in out if p]


def place(kind: str, picked: str | None, off: bool, latest) -> str | None:
    """The channel picked for notices, else (unless turned off) where the team last worked with us."""
    channel = picked or (None if off else latest())
    return f"{kind}:{channel}" if channel else None


def slack_place_text(s, workspace_id: int, channel_id: str) -> str:
    """The notices line of `/onno settings`."""
    prefs = repo.notice_settings(s, workspace_id)
    change = "change: `/onno settings notices here|off|auto`"
    if prefs is not None and prefs.slack_channel_id:
        where = "this channel" if prefs.slack_channel_id == channel_id else f"<#{prefs.slack_channel_id}>"
        return f"{where} ({change})"
    if prefs is not None and prefs.slack_off:
        return f"off: not posted in Slack, only logged ({change})"
    return f"the channel with the latest recording ({change})"


def discord_place_text(s, workspace_id: int) -> str:
    """Where notices go, for Discord's `/onno settings`."""
    prefs = repo.notice_settings(s, workspace_id)
    if prefs is not None and prefs.discord_channel_id:
        return f"<#{prefs.discord_channel_id}>"
    if prefs is not None and prefs.discord_off:
        return "off: not posted in Discord"
    return "the text channel of the latest live meeting"


def message(text: str, hint: str) -> str:
    return f"⚠️ {text}" + (f"\n{hint}" if hint else "")


def post(app, workspace_id: int, place: str, content: str, key: str, *,
         retried_since: dt.datetime | None = None) -> str:
    """Post one notice to one place; the message's ts or id. `retried_since`: when the notice was made, given on a
    retry, so a Slack post whose answer was lost is found (by its metadata) instead of made twice."""
    kind, _, channel = place.partition(":")
    if kind == "slack":
        with app.session() as s:
            team_id = workspaces.workspace_by_id(s, workspace_id).external_id
        token = bot_token(app, team_id)
        if not token:
            raise PermanentError(f"no Slack token for team {team_id}: install the app again")
        web = slack_api.client(app.settings, token)
        ts, _posted = slack_api.post_once(web, channel, event_type="onno_notice", payload={"key": key},
                                          key_field="key", retried_since=retried_since, text=content)
        return ts
    if kind == "discord":
        api = DiscordAPI(app.settings.discord_token, base=app.settings.discord_api_url)
        try:
            return str(api.post_message(channel, content[:DISCORD_LIMIT], once=key)["id"])
        finally:
            api.close()
    raise PermanentError(f"unknown notice destination {place!r}")


# -- sending --------------------------------------------------------------------------------------------------------


def send(app, notice_id: int) -> str:
    """One attempt at a notice: its status afterwards, or 'skipped' when it was not due or someone else has it."""
    settings = app.settings
    with app.session() as s:
        if not outbox.claim(s, notice_id, max(MIN_LEASE, settings.job_lease_seconds)):
            return "skipped"
        n = repo.get_notice(s, notice_id)
        ws_id, key, attempts, done = n.workspace_id, n.key, n.attempts, dict(n.destinations or {})
        retried_since = n.created_at if attempts > 1 else None
        content = message(n.text, n.hint)
    went = {d.partition(":")[0] for d in done}  # a platform posted to (or refused) before is not tried again
    todo = [p for p in places(app, ws_id) if p.partition(":")[0] not in went]
    if not todo and not done:
        log.error("team notice (no Slack channel or Discord meeting to post it in, so only logged): %s", content)
        with app.session() as s:
            outbox.record(s, key, "log", ref="logged")
            outbox.release(s, notice_id, "delivered", delivered_at=utcnow(), last_error=None)
        return "delivered"
    retry: TransientError | None = None
    for place in todo:
        try:
            outcome = {"ref": post(app, ws_id, place, content, key, retried_since=retried_since)}
        except TransientError as exc:
            retry = exc
            continue
        except PermanentError as exc:
            outcome = {"error": exc.reason}
        except Exception as exc:  # a bug or an unexpected answer: retried like a network error, then given up
            log.exception("team notice %s to %s failed", key, place)
            retry = TransientError(f"{place}: {type(exc).__name__}: {exc}")
            continue
        with app.session() as s:  # the receipt at once: a crash after this never posts here again
            outbox.record(s, key, place, ref=outcome.get("ref"), error=outcome.get("error"))
        done[place] = outcome
    refused = "; ".join(f"{p}: {o['error']}" for p, o in done.items() if "error" in o)
    policy = RetryPolicy.of(settings)
    if retry is not None and not policy.exhausted(attempts):
        wait = policy.wait(attempts, retry.retry_after)
        with app.session() as s:
            outbox.release(s, notice_id, "pending", last_error=retry.reason,
                               next_attempt_at=utcnow() + dt.timedelta(seconds=wait))
        return "pending"
    if retry is not None:
        refused = "; ".join(filter(None, [refused, f"gave up after {attempts} attempts: {retry.reason}"]))
    if any("ref" in o for o in done.values()):
        with app.session() as s:
            outbox.release(s, notice_id, "delivered", delivered_at=utcnow(), last_error=refused or None)
        return "delivered"
    log.error("team notice could not be posted (%s), so only logged: %s", refused, content)
    with app.session() as s:
        outbox.release(s, notice_id, "failed", last_error=refused)
    return "failed"


def sweep(app, *, limit: int = 100) -> int:
    """The sweeper's part: notice lapsed grace periods, then send every notice that is due; how many were tried."""
    from billing.webhooks import notice_lapsed_graces

    notice_lapsed_graces(app)
    with app.session() as s:
        due = outbox.due(s, "notice", limit=limit)
    return sum(1 for notice_id in due if send(app, notice_id) != "skipped")
