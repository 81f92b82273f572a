"""Turning digests on and off (`onno digest on|off`, `/onno settings digest here|off`) and saying how they stand."""

from __future__ import annotations

import calendar

from integrations.digest.schedule import plan_refusal, wanted
from storage import digest as store
from storage import mail

SLACK_USAGE = ("Usage: `/onno settings digest here` (post last week's digest in this channel every week) or "
               "`/onno settings digest off`.")


def when(settings) -> str:
    return f"every {calendar.day_name[settings.digest_weekday - 1]} after {settings.digest_hour:02d}:00 UTC"


def state(s, settings, workspace, *, channel_markup=lambda c: f"<#{c}>") -> str:
    """One line: whether the weekly digest goes out, when, and to whom; or what keeps it from going out."""
    refusal = plan_refusal(s, settings, workspace)
    if refusal is not None:
        return f"off: {refusal.problem} {refusal.hint}"
    cfg = store.get_settings(s, workspace.id)
    if not wanted(s, settings, workspace):
        turn_on = "`/onno settings digest here`" if workspace.platform == "slack" else "`onno digest on`"
        return f"off (turn on: {turn_on})"
    readers = sum(1 for p in mail.list_people(s, workspace.id) if not p.opted_out)
    where = [f"{readers} {'person' if readers == 1 else 'people'} on file by e-mail"] if readers else []
    if cfg.slack_channel and workspace.platform == "slack":
        where.append(channel_markup(cfg.slack_channel))
    to = " and ".join(where) if where else ("no one yet: people add themselves with `/onno email me` (Slack) or "
                                            "`/onno email address:…` (Discord), or `onno people add NAME EMAIL`"
                                            + (" or pick a channel with `/onno settings digest here`"
                                               if workspace.platform == "slack" else ""))
    unset = " (but e-mail is not set up: set ONNO_SMTP_URL)" if readers and not settings.smtp_url else ""
    return f"on, {when(settings)}: last week's digest to {to}{unset}"


def set_enabled(s, workspace, on: bool) -> None:
    store.save_settings(s, workspace.id, enabled=on)


def slack_command(s, settings, workspace, channel_id: str, args: list[str]) -> str:
    """`/onno settings digest [here|off]`."""
    if args == ["here"]:
        store.save_settings(s, workspace.id, enabled=True, slack_channel=channel_id)
        reply = (f"Weekly digest: here in <#{channel_id}>, {when(settings)}: last week's meetings, open and "
                 "overdue action items, what got done, decisions and unanswered questions. If I'm not in this "
                 "channel yet, invite me: `/invite @Onno`.")
        refusal = plan_refusal(s, settings, workspace)
        return reply + (f"\n⚠️ {refusal.problem} {refusal.hint}" if refusal else "")
    if args == ["off"]:
        store.save_settings(s, workspace.id, enabled=False, slack_channel=None)
        return "Weekly digest: off. Turn it back on with `/onno settings digest here`."
    if not args:
        return f"Weekly digest: {state(s, settings, workspace)}.\n{SLACK_USAGE}"
    return SLACK_USAGE
