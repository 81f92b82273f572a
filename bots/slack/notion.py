"""`/onno notion` and the App Home's Notion part: the boards and how they stand, Connect Notion, a token connect."""

from __future__ import annotations

import logging
import re

from core.errors import InputError
from core.links import notion_connect_url
from integrations.errors import DeliveryError
from integrations.notion import grants, oauth
from integrations.notion.adapter import check as check_name
from integrations.notion.models import NotionConnection
from integrations.notion.store import list_connections
from integrations.slack.blocks import button, context, esc, section
from storage import slack as slack_repo

log = logging.getLogger(__name__)

USAGE = ("Usage: `/onno notion` (the boards, and a Connect Notion button), "
         "`/onno notion connect TOKEN [DATABASE_LINK] [NAME]` (an internal integration's secret), "
         "`/onno notion disconnect NAME`.")
NOT_POSTED = "Your token was not posted anywhere: only you saw this command and this answer."
SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")  # Slack escapes links in commands as <url|label>


def connect_link(settings, workspace_id: int, name: str | None = None) -> tuple[str | None, str]:
    """(the signed Connect Notion link, or None and what is missing for it)."""
    if not grants.configured(settings):
        return None, ("One-click Connect Notion is not set up on this Onno (it needs a Notion public integration: "
                      "NOTION_CLIENT_ID and NOTION_CLIENT_SECRET).")
    if "public_url" not in settings.model_fields_set:
        return None, ("Connect Notion needs to know where browsers reach this Onno: set ONNO_PUBLIC_URL (e.g. "
                      "https://onno.example.com) and register ONNO_PUBLIC_URL/notion/oauth/callback as the "
                      "integration's redirect URI.")
    return notion_connect_url(settings, workspace_id, name=name), ""


def board_lines(conns: list[NotionConnection], settings, workspace_id: int) -> list[str]:
    """One line per connected board: its name, board, Notion workspace, and whether it works."""
    lines = []
    for c in conns:
        where = f" in {esc(c.notion_workspace)}" if c.notion_workspace else ""
        if c.status == "broken":
            url, _ = connect_link(settings, workspace_id, c.name)
            fix = f" <{url}|Reconnect {esc(c.name)}>" if url else " Connect it again to fix it."
            state = f"⚠️ *broken* since {c.broken_at:%Y-%m-%d %H:%M} UTC: {esc(c.broken_reason)}.{fix}"
        else:
            pulled = f"last pulled {c.last_synced_at:%Y-%m-%d %H:%M} UTC" if c.last_synced_at else "not pulled yet"
            state = f"✅ working, {pulled}"
        lines.append(f"• `{esc(c.name)}`: *{esc(c.board_title or c.database_id)}*{where}: {state}")
    return lines


def plan_line(s, settings, ws, count: int) -> str | None:
    from billing.accounts import effective_plan, get_account
    from billing.gate import billing_enabled

    if not billing_enabled(settings):
        return None
    plan = effective_plan(get_account(s, ws))
    return f"The {plan.title} plan connects {plan.boards} board{'s' if plan.boards != 1 else ''}; {count} connected."


def notion_blocks(s, settings, ws, admin: bool = True) -> tuple[str, list[dict]]:
    """(text, blocks) of the boards and, for admins, the Connect Notion button: `/onno notion` and the App Home."""
    conns = list_connections(s, ws.id)
    lines = board_lines(conns, settings, ws.id) or ["No Notion board is connected yet."]
    if conns:
        lines.append("A channel's meetings go to a board with `/onno settings notion NAME`.")
    if (limit := plan_line(s, settings, ws, len(conns))) is not None:
        lines.append(limit)
    blocks = [section("*Notion boards*\n" + "\n".join(lines))]
    if not admin:
        ask = "A workspace admin or owner connects Notion boards (`/onno notion` shows them the button)."
        blocks.append(context(ask))
        return "\n".join(["*Notion boards*", *lines, ask]), blocks
    url, missing = connect_link(settings, ws.id)
    if url:
        blocks.append({"type": "actions", "block_id": "notion-connect", "elements": [
            button("Connect Notion", "onno_open_link", "notion-connect", style="primary", url=url)]})
        blocks.append(context("Pick the board (or a page to make one in) on Notion's page. The link works for a day."))
        text = "\n".join(["*Notion boards*", *lines, f"Connect Notion: {url}"])
    else:
        instead = ("Connect with an internal integration's secret instead: `/onno notion connect TOKEN "
                   "[DATABASE_LINK]` (only you see it), or `onno notion connect --token … --database …` on the server.")
        blocks.append(context(f"{missing} {instead}"))
        text = "\n".join(["*Notion boards*", *lines, missing, instead])
    return text, blocks


def notion_command(app, team_id: str, args: str, admin: bool = True) -> dict | str:
    """`/onno notion [connect TOKEN [DATABASE] [NAME] | disconnect NAME]` (the asker's rights checked before)."""
    words = args.split()
    sub = words[0].lower() if words else ""
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        ws_id = ws.id
        if not sub:
            text, blocks = notion_blocks(s, app.settings, ws, admin)
            return {"text": text, "blocks": blocks}
    if sub == "connect":
        return connect_with_token(app, ws_id, words[1:])
    if sub == "disconnect":
        from integrations.notion import service

        if len(words) != 2:
            return "Usage: `/onno notion disconnect NAME` (the names: `/onno notion`)."
        if not service.disconnect(app, ws_id, words[1]):
            return f"No Notion board `{esc(words[1])}` is connected here (the names: `/onno notion`)."
        return f"Disconnected `{esc(words[1])}`; the Notion board itself is left as it is."
    return USAGE


def _unwrap(word: str) -> str:
    m = SLACK_LINK.match(word)
    return m[1] if m else word


def connect_with_token(app, workspace_id: int, words: list[str]) -> str:
    """Connect a board with an internal integration's secret; the answer never repeats the token."""
    from integrations.notion.service import make_api

    if not words:
        return USAGE
    token = _unwrap(words[0])
    if token.startswith("http") or "notion.so" in token:
        return (f"That looks like a link, not a token. {USAGE} The token is the integration's secret (ntn_…), "
                "from Notion → Settings → Connections → Develop or manage integrations.")
    database = _unwrap(words[1]) if len(words) > 1 else None
    name = words[2] if len(words) > 2 else None
    if len(words) > 3 or (name and check_name(name)):
        return f"{check_name(name) if name else 'Too many words.'} {USAGE}"
    try:
        with make_api(app.settings, token, max_wait=5.0) as api:
            if database:
                board = oauth.board_from_link(api, database)
            else:
                boards = oauth.shared_boards(api)
                if len(boards) != 1:
                    return _which_board(boards)
                board = boards[0]
        done = oauth.connect_shared(app, workspace_id, token=token, board=board, wanted=name)
    except InputError as exc:  # the plan's board limit
        return f"Not connected: {exc.problem} {exc.hint}\n{NOT_POSTED}"
    except DeliveryError as exc:
        return f"Not connected: {exc.reason}\n{NOT_POSTED}"
    return (f"Connected `{done.name}` to *{esc(done.board_title or done.database_id)}*; pulled it: "
            f"{done.sync_summary}.\nSend a channel's meetings there with `/onno settings notion {done.name}`.\n"
            f"{NOT_POSTED} Onno keeps it encrypted.")


def _which_board(boards: list[oauth.SharedBoard]) -> str:
    if not boards:
        return ("The integration can see no board: in Notion open the board, ••• → Connections, add the "
                f"integration, and try again (or add the board's link after the token).\n{NOT_POSTED}")
    listed = "\n".join(f"• {esc(b.title)}: {b.url or b.database_id}" for b in boards[:20])
    return (f"The integration can see {len(boards)} boards; add the link of the one to use after the token:\n"
            f"{listed}\n{NOT_POSTED}")


def channel_target(s, ws, target: str) -> str | None:
    """A note when a channel is pointed at a board name that is not valid or not connected (yet)."""
    problem = check_name(target)
    if problem:
        return problem
    names = [c.name for c in list_connections(s, ws.id)]
    if target not in names:
        return (f"No board `{esc(target)}` is connected yet ({', '.join(f'`{n}`' for n in names) or 'none'}): "
                "deliveries there fail until it is. Connect one with `/onno notion`.")
    return None


def default_target(s, ws) -> str:
    """The board `/onno settings notion on` means: the only one connected, else `default`."""
    names = [c.name for c in list_connections(s, ws.id)]
    return names[0] if len(names) == 1 else "default"


def notion_setting(s, ws, opts: dict, words: list[str]) -> str | None:
    """`/onno settings notion on|off|NAME` into the channel's options; a usage line when it cannot be."""
    usage = ("Usage: `/onno settings notion on|off` or `/onno settings notion NAME` (the board's name, see "
             "`/onno notion`).")
    if len(words) != 1:
        return usage
    if words[0] not in ("on", "off"):
        if problem := check_name(words[0]):
            return f"{problem}. {usage}"
        opts["notion_target"] = words[0]
    opts["notion"] = words[0] != "off"
    if opts["notion"] and not opts.get("notion_target"):
        opts["notion_target"] = default_target(s, ws)
    return None


def notion_note(s, ws, opts: dict) -> str:
    """What the settings line adds when the channel's board is not (or no longer) connected."""
    if not opts.get("notion") or not opts.get("notion_target"):
        return ""
    note = channel_target(s, ws, opts["notion_target"])
    return f" ⚠️ {note}" if note else ""
