"""`/onno settings` in Discord: per text channel, with a server-wide default, what its meetings get.

A channel's own value wins, else the server's, else the built-in default (type general, e-mail and Notion off).
The server's review first is the workspace's own setting (storage.review), the one a job falls back to. Where the
weekly digest and team notices go is server-wide (`digest:here|off`, `notices:here|off|auto`). Anyone may look;
changing needs Manage Channels (this channel) or Manage Server (the server's defaults, the digest, the notices).
Turning on what the plan lacks is refused with the way up, and at intake a delivery the plan (no longer) has is left
out with a note, never the whole meeting.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import discord

from billing.gate import PlanLimit
from bots.chat import settings as chat_settings
from bots.chat.settings import Delivery, Effective, Setting, plan_refusal
from integrations.digest import setup as digest_setup
from integrations.notion.adapter import check as check_board_name
from integrations.notion.store import list_connections
from onno import notices
from pipeline.types import MEETING_TYPES
from storage import discord as discord_repo
from storage import mail
from storage import notices as notices_repo
from storage import repository as repo
from storage import review as review_repo

log = logging.getLogger(__name__)

CHANNEL, SERVER = "channel", "server"
DEFAULT = "default"  # a value that clears a setting: the channel follows the server, the server the built-in
SWITCH = ("on", "off", DEFAULT)
DIGEST_PLACES, NOTICE_PLACES = ("here", "off"), ("here", "off", "auto")
CANT_CHANGE = ("Only members with **Manage Channels** (for this channel) or **Manage Server** can change these. "
               "Ask a server admin, or for that permission.")
CANT_CHANGE_SERVER = ("The server-wide defaults need **Manage Server**; with Manage Channels, change this channel "
                      "only (leave out `for`).")
CANT_CHANGE_PLACES = ("Where the weekly digest and team notices go is for the whole server: that needs **Manage "
                      "Server**. Ask a server admin.")
HOW = ("Change (Manage Channels): `/onno settings type:standup email:on notion:BOARD review:on`; `default` "
       "makes this channel follow the server again. Add `for:server` to set the server-wide default (Manage Server). "
       "Manage Server also picks where the weekly digest and team notices go: `digest:here|off`, "
       "`notices:here|off|auto`.")


WORDING = chat_settings.Wording(place="server", pick_board="`/onno settings notion:`")


def settings_channel(channel) -> int:
    """The text channel whose settings apply where a command was typed: a thread follows its parent."""
    if isinstance(channel, discord.Thread) and channel.parent_id:
        return channel.parent_id
    return channel.id


def _values(row) -> dict | None:
    if row is None:
        return None
    return {"meeting_type": row.meeting_type, "email": row.email, "notion": row.notion,
            "notion_target": row.notion_target, "review_first": row.review_first}


def resolve(s, ws, channel_id: str | int) -> Effective:
    own, server = discord_repo.settings_rows(s, ws, channel_id)
    return chat_settings.resolve(s, ws, _values(own), _values(server), shared_source="server")


def meeting_type(app, ws_id: int, channel_id: int) -> str:
    with app.session() as s:
        return resolve(s, repo.workspace_by_id(s, ws_id), channel_id).meeting_type.value


def delivery(app, ws_id: int, channel_id: str | int) -> Delivery:
    """The channel's e-mail and Notion targets for a meeting handed over now; what cannot go is left out, said why."""
    with app.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        return chat_settings.delivery(s, app.settings, ws, resolve(s, ws, channel_id), WORDING)


# -- the answer: view ------------------------------------------------------------------------------------------------


def _source(setting: Setting) -> str:
    return {"this channel": "this channel's", "server": "the server's", "default": "the default"}[setting.source]


def _onoff(value) -> str:
    return "**on**" if value else "**off**"


def lines(s, app, ws, channel_id: int) -> list[str]:
    """The settings of a channel as a reader sees them, with what would keep each from working."""
    eff = resolve(s, ws, channel_id)
    settings = app.settings
    out = [f"**Onno settings for <#{channel_id}>**",
           f"- Meeting type: `{eff.meeting_type.value}` ({_source(eff.meeting_type)})"]
    email = f"- E-mail summary: {_onoff(eff.email.value)} ({_source(eff.email)})"
    if eff.email.value:
        people = [p for p in mail.list_people(s, ws) if not p.opted_out]
        email += (f": mailed to the meeting's participants on file ({len(people)} "
                  f"{'person' if len(people) == 1 else 'people'} on file for this server)")
        if not settings.smtp_url:
            email += " ⚠️ e-mail isn't set up on this Onno yet (ONNO_SMTP_URL), so nothing is mailed"
        if not people:
            email += " ⚠️ nobody is on file, so nobody is mailed (each member puts themselves on file with `/onno email address:you@example.com`)"
        if (refusal := plan_refusal(s, settings, ws, "email")) is not None:
            email += f" ⚠️ left out: {refusal.problem} {refusal.hint}"
    out.append(email)
    notion = f"- Notion: {_onoff(eff.notion.value)} ({_source(eff.notion)})"
    if eff.notion.value:
        conns = {c.name: c for c in list_connections(s, ws.id)}
        conn = conns.get(eff.notion_target or "")
        notion += f": cards on the board `{eff.notion_target}`"
        if conn is None:
            notion += " ⚠️ that board is no longer connected, so nothing goes there"
        elif conn.status == "broken":
            notion += f" ⚠️ the connection is broken ({conn.broken_reason}); connect it again"
        if (refusal := plan_refusal(s, settings, ws, "notion")) is not None:
            notion += f" ⚠️ left out: {refusal.problem} {refusal.hint}"
    out.append(notion)
    review = f"- Review first: {_onoff(eff.review_first.value)} ({_source(eff.review_first)})"
    if eff.review_first.value:
        review += ": Notion and e-mail wait until the meeting's starter or someone with Manage Messages presses " \
                  "**Approve & send** on the notes"
    out.append(review)
    out.append(f"- Weekly digest (server-wide): {digest_setup.state(s, settings, ws)}")
    out.append(f"- Team notices (server-wide): {notices.discord_place_text(s, ws.id)}")
    return out


def view(app, ws_id: int, channel_id: int) -> str:
    """`/onno settings` with nothing to change: anyone may look."""
    with app.session() as s:
        return "\n".join([*lines(s, app, repo.workspace_by_id(s, ws_id), channel_id), HOW])


# -- the answer: change ----------------------------------------------------------------------------------------------


class Refused(Exception):
    """A change that is not made, with the reply that says why and what to do."""


@dataclass
class Change:
    meeting_type: str | None = None
    email: str | None = None
    notion: str | None = None
    review: str | None = None
    digest: str | None = None  # here | off: server-wide
    notices: str | None = None  # here | off | auto: server-wide

    def empty(self) -> bool:
        return not self.channel_part() and not self.server_wide()

    def channel_part(self) -> bool:
        """Whether it changes a channel's (or the server's default) meeting settings, not only where things go."""
        return not (self.meeting_type is None and self.email is None and self.notion is None and self.review is None)

    def server_wide(self) -> bool:
        return self.digest is not None or self.notices is not None


def may_change(perms: discord.Permissions, scope: str, *, server_wide: bool = False) -> str | None:
    """Why this member may not change settings at `scope` (or, `server_wide`, the digest's and notices' places);
    None when they may."""
    if perms.manage_guild or perms.administrator:
        return None
    if server_wide:
        return CANT_CHANGE_PLACES
    if scope == SERVER:
        return CANT_CHANGE_SERVER if perms.manage_channels else CANT_CHANGE
    return None if perms.manage_channels else CANT_CHANGE


def connect_hint(app, ws_id: int) -> str:
    """How a board gets connected to this server (the link only admins see: it picks where meetings go)."""
    from bots.slack.notion import connect_link

    url, missing = connect_link(app.settings, ws_id)
    if url:
        return f"Connect one (the link works for a day): <{url}>"
    return f"Connecting a board needs this Onno's operator: {missing}"


def board_for(s, app, ws, eff: Effective, value: str) -> str:
    """The board `notion:VALUE` means here; Refused when it is not one connected to this server."""
    names = [c.name for c in list_connections(s, ws.id)]
    listed = ", ".join(f"`{n}`" for n in names)
    if value == "on":
        if not names:
            raise Refused("No Notion board is connected to this server yet, so Notion can't be turned on. "
                          + connect_hint(app, ws.id))
        if eff.notion_target in names:
            return eff.notion_target
        if len(names) == 1:
            return names[0]
        if "default" in names:
            return "default"
        raise Refused(f"Several Notion boards are connected ({listed}): say which, e.g. "
                      f"`/onno settings notion:{names[0]}`.")
    name = value.removeprefix("notion:")
    if problem := check_board_name(name):
        raise Refused(f"{problem}. Give a connected board's name ({listed or 'none is connected yet'}), or "
                      "`on`/`off`.")
    if name not in names:
        where = f"The boards connected are {listed}" if names else "No board is connected yet"
        raise Refused(f"No Notion board `{name}` is connected to this server. {where}. Pick one of them, or connect "
                      f"it first. " + connect_hint(app, ws.id))
    return name


def change(app, ws_id: int, channel_id: int, *, scope: str, user_id: int, want: Change) -> str:
    """Apply every change asked for, or none (the first refusal is the answer); then the settings as they stand."""
    with app.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        key = discord_repo.SERVER if scope == SERVER else str(channel_id)
        # Only a change to meeting settings makes (and locks) a settings row; the digest and notices keep their own.
        row = discord_repo.settings_for_change(s, ws, key) if want.channel_part() else None
        eff = resolve(s, ws, channel_id)
        done: list[str] = []
        try:
            if want.meeting_type is not None:
                if want.meeting_type not in (*MEETING_TYPES, DEFAULT):
                    raise Refused(f"`{want.meeting_type}` isn't a meeting type; one of: {', '.join(MEETING_TYPES)}.")
                row.meeting_type = None if want.meeting_type == DEFAULT else want.meeting_type
                done.append(f"meeting type {want.meeting_type}")
            if want.email is not None:
                if want.email not in SWITCH:
                    raise Refused("E-mail is `on`, `off` or `default`.")
                if want.email == "on":
                    gate(s, app, ws, "email")
                row.email = None if want.email == DEFAULT else want.email == "on"
                done.append(f"e-mail summary {want.email}")
            if want.notion is not None:
                value = want.notion.strip()
                if value in ("off", DEFAULT):
                    row.notion = None if value == DEFAULT else False
                    row.notion_target = None
                else:
                    gate(s, app, ws, "notion")
                    row.notion, row.notion_target = True, board_for(s, app, ws, eff, value)
                done.append(f"Notion {value if value in SWITCH else 'on'}"
                            + (f" (board `{row.notion_target}`)" if row.notion else ""))
            if want.review is not None:
                if want.review not in SWITCH:
                    raise Refused("Review first is `on`, `off` or `default`.")
                if scope == SERVER:  # the workspace's own setting: what every job of this server falls back to
                    review_repo.set_review_first(s, ws, want.review == "on")
                else:
                    row.review_first = None if want.review == DEFAULT else want.review == "on"
                done.append(f"review first {want.review}")
            done += places(s, app, ws, channel_id, want)
        except Refused as exc:
            s.rollback()
            return f"{exc}\nNothing was changed."
        if row is not None:
            row.updated_by, row.updated_at = str(user_id), discord_repo.utcnow()
        s.flush()
        where = ("the server" if row is None else "the server-wide default" if scope == SERVER
                 else f"<#{channel_id}>")
        head = f"✅ Saved for {where}: {', '.join(done)}."
        return "\n".join([head, *lines(s, app, ws, channel_id)])


def places(s, app, ws, channel_id: int, want: Change) -> list[str]:
    """`digest:here|off` and `notices:here|off|auto`, server-wide; `here` is the channel the command was typed in."""
    done: list[str] = []
    if want.digest is not None:
        if want.digest not in DIGEST_PLACES:
            raise Refused("The weekly digest is `here` (post it in this channel every week) or `off`.")
        if want.digest == "off":
            done.append(digest_setup.discord_off(s, ws))
        else:
            try:
                done.append(digest_setup.discord_here(s, app.settings, ws, str(channel_id)))
            except PlanLimit as refusal:
                raise Refused(f"{refusal.problem}\n{refusal.hint}") from None
    if want.notices is not None:
        if want.notices not in NOTICE_PLACES:
            raise Refused("Team notices are `here` (this channel), `off` (not in Discord) or `auto` (the text "
                          "channel of the latest live meeting).")
        notices_repo.set_discord_place(s, ws.id, channel_id=str(channel_id) if want.notices == "here" else None,
                                       off=want.notices == "off")
        done.append({"here": f"team notices here in <#{channel_id}>", "off": "team notices off in Discord",
                     "auto": "team notices in the latest live meeting's text channel"}[want.notices])
    return done


def gate(s, app, ws, kind: str) -> None:
    if (refusal := plan_refusal(s, app.settings, ws, kind)) is not None:
        raise Refused(f"{refusal.problem}\n{refusal.hint}")


def board_choices(app, ws_id: int, typed: str) -> list[tuple[str, str]]:
    """Autocomplete for `notion`: the connected boards first, then on/off/default; (label, value)."""
    with app.session() as s:
        conns = list_connections(s, ws_id)
    typed = typed.strip().lower()
    out = [(f"{c.name} (board: {c.board_title or c.database_id})"[:100], c.name) for c in conns]
    out += [("on (the board in use, or the only one)", "on"), ("off", "off"),
            ("default (follow the server)", DEFAULT)]
    return [(label, value) for label, value in out if typed in label.lower()][:25]
