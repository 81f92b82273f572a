"""`/onno email`: a member puts themselves on file for e-mailed summaries (their Slack address), or takes it off."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError

from integrations.email import confirm
from integrations.email.adapter import ADDRESS
from integrations.slack.blocks import esc
from storage import mail
from storage import slack as slack_repo

log = logging.getLogger(__name__)

USAGE = ("Usage: `/onno email` (are you on file?), `/onno email me` (your Slack address), "
         "`/onno email me as \"Maya\"` (the name meetings know you by), `/onno email ADDRESS` (another address), "
         "`/onno email off` (no more e-mail).")
# `me`, `me resubscribe` or an address, then optionally `as NAME`; Slack may send an address as <mailto:a|a>.
FORM = re.compile(r"^(?P<who><mailto:[^|>]+\|[^>]+>|\S+)(?:\s+(?P<resub>resubscribe))?(?P<as>\s+as\b\s*(?P<name>.*))?$",
                  re.IGNORECASE | re.DOTALL)
QUOTES = "\"'“”‘’«»"


@dataclass
class Profile:
    """What Slack says of the member: their name and profile address, or why it couldn't say."""

    name: str = ""
    email: str = ""
    problem: str = ""
    admin: bool = False  # a workspace admin or owner: may change what the whole workspace shares


async def profile(bot, team_id: str, user_id: str) -> Profile:
    """users.info: the member's real (else display) name and, with users:read.email, their address."""
    token = await bot.token(team_id)
    if not token:
        return Profile(problem="I'm not installed in this workspace any more; install me again.")
    try:
        user = (await bot.client(token).users_info(user=user_id))["user"]
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        log.warning("users.info %s failed: %s", user_id, error)
        if error == "missing_scope":
            return Profile(problem="This Onno's Slack app lacks the `users:read` permission, so I can't see your "
                                   "profile; whoever manages the app can reinstall it from its manifest.")
        return Profile(problem=f"Slack didn't tell me who you are ({error or 'no answer'}); try again in a minute.")
    p = user.get("profile") or {}
    name = p.get("real_name") or user.get("real_name") or p.get("display_name") or user.get("name") or ""
    admin = any(user.get(k) for k in ("is_admin", "is_owner", "is_primary_owner"))
    return Profile(name=" ".join(name.split()), email=mail.normal_email(p.get("email") or ""), admin=admin)


async def email_command(bot, command: dict, rest: str) -> str:
    """The answer to `/onno email …` (only the member who asked sees it)."""
    team_id, user_id, channel_id = command["team_id"], command["user_id"], command.get("channel_id") or ""
    rest = rest.strip()
    if rest.lower() in ("help", "?"):
        return USAGE
    me = await profile(bot, team_id, user_id)
    if not rest:
        return await bot.db(show, bot.app, team_id, user_id, me, channel_id)
    if rest.lower() == "off":
        return await bot.db(off, bot.app, team_id, user_id, me)
    form = FORM.match(rest)
    if form is None:
        return USAGE
    who, resubscribe = form["who"], bool(form["resub"])
    name = form["name"].strip().strip(QUOTES).strip() if form["as"] else None
    if who.lower() == "me":
        if me.problem:
            return me.problem
        if not me.email:
            return ("Slack didn't give me your e-mail address: this Onno's Slack app may lack the `users:read.email` "
                    "permission, or your profile shows none. Give it yourself: `/onno email you@example.com`.")
        address = me.email
    elif resubscribe:
        return "Only your Slack address can be resubscribed from here: `/onno email me resubscribe`."
    else:
        address = mail.normal_email(who.split("|", 1)[1].rstrip(">") if who.startswith("<mailto:") else who)
        if not ADDRESS.match(address) or len(address) > 320:
            return (f"`{esc(who)}` is not an e-mail address. For example: `/onno email maya@example.com`, or "
                    "`/onno email maya@example.com as \"Maya\"` with the name meetings know you by.")
    if name is not None and not name:
        return "The name after `as` is empty. For example: `/onno email me as \"Maya\"`."
    name = name or me.name or command.get("user_name") or ""
    if not name:
        return f"{me.problem or 'Slack did not tell me your name.'} Give it: `/onno email {who} as \"Maya\"`."
    if len(name) > 200:
        return "That name is over 200 characters; give the name meetings know you by, e.g. `as \"Maya\"`."
    verified = bool(me.email) and address == me.email
    return await bot.db(put, bot.app, team_id, user_id, channel_id, name=name, address=address, verified=verified,
                        resubscribe=resubscribe)


# -- the database side: one member's own rows only ------------------------------------------------------------------


def show(app, team_id: str, user_id: str, me: Profile, channel_id: str) -> str:
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        rows = mail.chat_people(s, ws, user_id, me.email or None)
        if not rows:
            offer = (f"`/onno email me` puts you on file with your Slack address ({me.email}), "
                     "`/onno email ADDRESS` with another one") if me.email else \
                "`/onno email you@example.com` puts you on file (Slack doesn't tell me your address)"
            return (f"You're not on file, so Onno doesn't e-mail you meeting summaries. {offer}.\n"
                    + where(s, app, ws, channel_id))
        lines = [state_line(p, me) for p in rows]
        mailed = [p for p in rows if mail.mailable(p)]
        return "\n".join([*lines, *(what_you_get(p) for p in mailed[:1]), where(s, app, ws, channel_id)])


def put(app, team_id: str, user_id: str, channel_id: str, *, name: str, address: str, verified: bool,
        resubscribe: bool) -> str:
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        out = mail.put_on_file(s, ws, chat_user=user_id, name=name, email=address, verified=verified,
                               resubscribe=resubscribe)
        p = out.person
        if out.kind == "unsubscribed":
            since = f" on {p.opted_out_at:%d %b %Y}" if p.opted_out_at else ""
            return (f"{esc(p.email)} unsubscribed from Onno's e-mail{since} (with the link in an e-mail), and "
                    "stays unsubscribed: I changed nothing. To get e-mail there again: `/onno email me resubscribe`.")
        if out.kind == "taken":
            return (f"{esc(p.email)} is on file for another member of this workspace, so I can't put it on file "
                    "for you. If it's your Slack address, `/onno email me` from that Slack account.")
        if out.kind == "listed":
            return (f"{esc(p.email)} is already on file (as *{esc(p.name)}*), and your Slack profile doesn't show it "
                    "as yours, so I can't change it. Whoever runs Onno can (`onno people`).")
        head = {"added": "You're on file", "updated": "You're on file", "pending": "You're on file",
                "resubscribed": "Welcome back: you're on file again"}[out.kind]
        lines = [f"{head} as *{esc(p.name)}* <mailto:{p.email}|{esc(p.email)}>."]
        if out.released:
            lines.append("Taken off file: " + ", ".join(esc(a) for a in out.released) + ".")
        if out.kind != "pending":
            lines.append(what_you_get(p))
        lines.append(where(s, app, ws, channel_id))
        ws_id, email, was_out = ws.id, p.email, p.opted_out
    if out.kind == "pending":  # mailed once this row is committed, so the link finds it
        lines.insert(-1, confirm_line(confirm.request(app, ws_id, email), email, was_out))
    return "\n".join(lines)


def confirm_line(sent: str, email: str, resubscribing: bool) -> str:
    """What became of the confirmation mail for a typed address (integrations.email.confirm.request)."""
    back = " It had unsubscribed: confirming brings it back." if resubscribing else ""
    if sent == "sent":
        return (f"📬 Check your inbox: I mailed {esc(email)} a link to confirm it's yours. Onno e-mails it nothing "
                f"until you follow it (within 7 days).{back}")
    if sent == "recent":
        return (f"📬 Check your inbox: I mailed {esc(email)} a link to confirm it less than 10 minutes ago (look in "
                f"spam too). Ask again after that for a new one.{back}")
    if sent == "off":
        return "Onno can't mail you the link to confirm it: e-mail isn't set up, so nothing is mailed."
    return (f"I couldn't mail {esc(email)} the link to confirm it ({esc(sent.removeprefix('failed: '))}); "
            "try again in a minute.")


def off(app, team_id: str, user_id: str, me: Profile) -> str:
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        out = mail.take_off_file(s, ws, chat_user=user_id, verified_email=me.email or None)
    if out.kind == "not_on_file":
        return "You're not on file, so there was nothing to take off: Onno doesn't e-mail you."
    if out.kind == "kept":
        line = f"You're off file. {esc(out.person.email)} had unsubscribed, and stays unsubscribed."
        return line + "".join(f" Onno no longer e-mails {esc(a)} either." for a in out.released)
    return ("You're off file: Onno no longer e-mails " + ", ".join(esc(a) for a in out.released)
            + ". `/onno email me` puts you back.")


def state_line(p: mail.Person, me: Profile) -> str:
    line = f"You're on file as *{esc(p.name)}* <mailto:{p.email}|{esc(p.email)}>"
    if not p.opted_out:
        if p.confirmed_at is None:
            return line + (", waiting for you to confirm the address with the link I mailed to it: until then Onno "
                           f"e-mails it nothing. `/onno email {esc(p.email)}` mails a new link.")
        return line + "."
    since = f" on {p.opted_out_at:%d %b %Y}" if p.opted_out_at else ""
    again = "`/onno email me resubscribe` to get e-mail again" if me.email and p.email == me.email else \
        f"`/onno email {esc(p.email)}` mails it a link that brings it back"
    return line + f", but that address unsubscribed{since}, so you get no e-mail ({again})."


def what_you_get(p: mail.Person) -> str:
    first = p.name.split(" ")[0]
    also = f" (or just *{esc(first)}*)" if first != p.name else ""
    return (f"You get the e-mailed summary of the meetings that name *{esc(p.name)}*{also}, from channels with "
            f"e-mail on, and the weekly digest when your team has it on. Known by another name in meetings? "
            f"`/onno email {esc(p.email)} as \"{esc(first)}\"`. `/onno email off` stops it all.")


def where(s, app, ws, channel_id: str) -> str:
    """Whether this channel mails its meetings' summaries, and whether this Onno can mail at all."""
    line = ""
    if channel_id and not channel_id.startswith("D"):  # a direct message has no settings of its own
        on = bool((slack_repo.channel_settings(s, ws, channel_id).options or {}).get("email"))
        line = (f"E-mail summaries are *on* in <#{channel_id}>." if on else
                f"E-mail summaries are *off* in <#{channel_id}> (`/onno settings email on` turns them on).")
    if not app.settings.smtp_url:
        line += " ⚠️ E-mail isn't set up on this Onno yet (ONNO_SMTP_URL), so nothing is mailed."
    return line.strip()
