"""`/onno email`: a member puts themselves on file for e-mailed summaries with an address they type, or takes it off.

Discord never gives a bot a member's e-mail address, so every address here is typed and unproven: it never takes
over someone else's row, and is mailed nothing but a link to confirm it (integrations.email.confirm) until its
inbox's owner follows that link, which is also how an address that unsubscribed comes back.
"""

from __future__ import annotations

from bots.discord.commands import clip
from bots.discord.settings import plan_refusal, resolve
from integrations.discord.format import escape
from integrations.email import confirm
from integrations.email.adapter import ADDRESS
from storage import mail
from storage import repository as repo

ASK = "/onno email address:you@example.com"


def email(app, ws_id: int, user_id: int, display_name: str, channel_id: int, address: str | None, name: str | None,
          off: bool) -> str:
    """The private answer to `/onno email [address:] [name:] [off:]` from member `user_id`."""
    address = (address or "").strip()
    name = " ".join((name or "").split()) if name is not None else None
    if off and (address or name):
        return "`off` takes no other option: `/onno email off:True` takes you off file."
    if address and (not ADDRESS.match(address) or len(address) > 320):
        return f"`{code(address)}` is not an e-mail address. For example: `{ASK}`."
    if name is not None and not name:
        return f"The name is empty. Give the name meetings know you by, e.g. `{ASK} name:Maya`."
    if name and len(name) > 200:
        return f"That name is over 200 characters; give the name meetings know you by, e.g. `name:{code(display_name)}`."
    with app.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        if off:
            return clip(off_text(mail.take_off_file(s, ws, chat_user=str(user_id))))
        mine = mail.person_by_chat_user(s, ws, str(user_id))
        if not address and not name:
            return clip("\n".join([show(mine, display_name), where(s, app, ws, channel_id)]))
        if not address and mine is None:
            return f"Give your address too: `{ASK} name:{code(name)}`."
        out = mail.put_on_file(s, ws, chat_user=str(user_id), name=name or display_name,
                               email=address or mine.email, verified=False)
        where_line = where(s, app, ws, channel_id)
        ws_id, email, was_out = ws.id, out.person.email, out.person.opted_out
    # Mailed once the row is committed (so the link finds it), on a thread: Discord wants its answer in 3 s.
    sent = confirm.request(app, ws_id, email, background=True) if out.kind == "pending" else None
    return clip(put_text(out, where_line, sent=sent, resubscribing=was_out))


def put_text(out: mail.Outcome, where_line: str, *, sent: str | None = None, resubscribing: bool = False) -> str:
    p = out.person
    addr = escape(p.email)
    if out.kind == "pending":
        lines = [f"You're on file as **{escape(p.name)}** ({addr}), once you confirm the address."]
        if out.released:
            lines.append("Taken off file: " + ", ".join(escape(a) for a in out.released) + ".")
        return "\n".join([*lines, confirm_text(sent, addr, resubscribing), where_line])
    if out.kind == "taken":
        return f"{addr} is on file for another member of this server, so I can't put it on file for you."
    if out.kind == "listed":
        return (f"{addr} is already on file (as **{escape(p.name)}**), put there by whoever runs Onno, so "
                "I can't change it from here." + ("" if p.opted_out else " It gets the summaries of the meetings that "
                                                  f"name {escape(p.name)}."))
    lines = [f"You're on file as **{escape(p.name)}** ({addr})."]
    if out.released:
        lines.append("Taken off file: " + ", ".join(escape(a) for a in out.released) + ".")
    return "\n".join([*lines, what_you_get(p), where_line])


def confirm_text(sent: str | None, addr: str, resubscribing: bool) -> str:
    """What became of the confirmation mail (integrations.email.confirm.request)."""
    back = (" That address had unsubscribed: confirming is how it gets e-mail again, since Discord can't show me "
            "that it's yours.") if resubscribing else ""
    if sent == "sent":
        return (f"📬 Check your inbox: I'm mailing {addr} a link to confirm it's yours. Onno e-mails it nothing until "
                f"you follow it (within 7 days).{back}")
    if sent == "recent":
        return (f"📬 Check your inbox: I mailed {addr} a link to confirm it less than 10 minutes ago (look in spam "
                f"too). Ask again after that for a new one.{back}")
    if sent == "off":
        return "Onno can't mail you the link to confirm it: e-mail isn't set up, so nothing is mailed."
    return f"I couldn't mail {addr} the link to confirm it ({(sent or '').removeprefix('failed: ')}); try again later."


def show(mine: mail.Person | None, display_name: str) -> str:
    if mine is None:
        return ("You're not on file, so Onno doesn't e-mail you meeting summaries. Discord doesn't share e-mail "
                f"addresses with bots: give yours with `{ASK}` (it files you as **{escape(display_name)}**, "
                "your name in this server; add `name:` if meetings know you by another).")
    line = f"You're on file as **{escape(mine.name)}** ({escape(mine.email)})"
    if mine.opted_out:
        return (line + f", but that address unsubscribed{since(mine)}, so you get no e-mail. To get e-mail again, "
                       f"`/onno email address:{code(mine.email)}` mails it a link to confirm (or give another).")
    if mine.confirmed_at is None:
        return (line + ", waiting for you to confirm the address with the link I mailed to it: until then Onno "
                       f"e-mails it nothing. `/onno email address:{code(mine.email)}` mails a new link.")
    return line + ".\n" + what_you_get(mine)


def off_text(out: mail.Outcome) -> str:
    if out.kind == "not_on_file":
        return "You're not on file, so there was nothing to take off: Onno doesn't e-mail you."
    if out.kind == "kept":
        return f"You're off file. {escape(out.person.email)} had unsubscribed, and stays unsubscribed."
    return (f"You're off file: Onno no longer e-mails {', '.join(escape(a) for a in out.released)}. "
            f"`{ASK}` puts you back.")


def what_you_get(p: mail.Person) -> str:
    first = p.name.split(" ")[0]
    also = f" (or just **{escape(first)}**)" if first != p.name else ""
    return (f"You get the e-mailed summary of the meetings that name **{escape(p.name)}**{also}, from "
            "channels with e-mail on, and the weekly digest when your server has it on. Known by another name in "
            "meetings? `/onno email name:…`. `/onno email off:True` stops it all.")


def where(s, app, ws, channel_id: int) -> str:
    """Whether this channel mails its meetings' summaries, and what would keep the mail from going."""
    on = resolve(s, ws, channel_id).email.value
    line = (f"E-mail summaries are **on** in <#{channel_id}>." if on else
            f"E-mail summaries are **off** in <#{channel_id}> (someone with Manage Channels turns them on: "
            "`/onno settings email:on`).")
    if not app.settings.smtp_url:
        line += " ⚠️ E-mail isn't set up on this Onno yet (ONNO_SMTP_URL), so nothing is mailed."
    if on and (refusal := plan_refusal(s, app.settings, ws, "email")) is not None:
        line += f" ⚠️ {refusal.problem} {refusal.hint}"
    return line


def code(text: str) -> str:
    """Text for inside `code`: no backtick to end it early."""
    return text.replace("`", "'")


def since(p: mail.Person) -> str:
    return f" on {p.opted_out_at:%d %b %Y}" if p.opted_out_at else ""
