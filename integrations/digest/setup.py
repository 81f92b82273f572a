"""Turning digests on and off (`onno digest on|off`, `/onno settings digest here|off` in Slack, `/onno settings
digest:here|off` in Discord) and saying how they stand."""

from __future__ import annotations

import calendar

from integrations.digest.schedule import plan_refusal, wanted
from storage import digest as store
from storage import mail

SLACK_USAGE = ("Usage: `/onno settings digest here` (post last week's digest in this channel every week) or "
               "`/onno settings digest off`.")
TURN_ON = {"slack": "`/onno settings digest here`", "discord": "`/onno settings digest:here`"}


def when(settings) -> str:
    return f"every {calendar.day_name[settings.digest_weekday - 1]} after {settings.digest_hour:02d}:00 UTC"


def state(s, settings, workspace, *, channel_markup=lambda c: f"<#{c}>") -> str:
    """One line: whether the weekly digest goes out, when, and to whom; or what keeps it from going out."""
    refusal = plan_refusal(s, settings, workspace)
    if refusal is not None:
        return f"off: {refusal.problem} {refusal.hint}"
    cfg = store.get_settings(s, workspace.id)
    if not wanted(s, settings, workspace):
        return f"off (turn on: {TURN_ON.get(workspace.platform, '`onno digest on`')})"
    readers = sum(1 for p in mail.list_people(s, workspace.id) if not p.opted_out)
    where = [f"{readers} {'person' if readers == 1 else 'people'} on file by e-mail"] if readers else []
    picked = {"slack": cfg.slack_channel, "discord": cfg.discord_channel}.get(workspace.platform)
    if picked:
        where.append(channel_markup(picked))
    to = " and ".join(where) if where else ("no one yet: people add themselves with `/onno email me` (Slack) or "
                                            "`/onno email address:…` (Discord), or `onno people add NAME EMAIL`"
                                            + (f" or pick a channel with {TURN_ON[workspace.platform]}"
                                               if workspace.platform in TURN_ON else ""))
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


def discord_here(s, settings, workspace, channel_id: str) -> str:
    """`/onno settings digest:here`: the digest in this channel from now on; PlanLimit (nothing saved) when the plan
    has no digests. What was done, for the reply."""
    refusal = plan_refusal(s, settings, workspace)
    if refusal is not None:
        raise refusal
    store.save_settings(s, workspace.id, enabled=True, discord_channel=str(channel_id))
    return f"weekly digest here in <#{channel_id}> ({when(settings)})"


def discord_off(s, workspace) -> str:
    """`/onno settings digest:off`: no weekly digest, by e-mail or here."""
    store.save_settings(s, workspace.id, enabled=False, discord_channel=None)
    return "weekly digest off"
