"""App Home: the user's open action items across meetings, and the workspace's recent meetings."""

from __future__ import annotations

from bots.slack.notion import notion_blocks
from core.clock import clock
from core.links import meeting_url
from core.names import owns
from integrations.slack.blocks import button, context, esc, section
from storage import repository as repo
from storage import slack as slack_repo

MAX_ITEMS = 15


def home_view(app, team_id: str, names: list[str], admin: bool = False) -> dict:
    """The Home tab of a member known by `names` (real name, display name, handle); admins get Connect Notion."""
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        mine = [(f, m) for f, m in slack_repo.open_action_items(s, ws) if owns(f.data.get("owner"), names)]
        recent = repo.list_meetings(s, ws, limit=5)
        blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": "Your open action items"}}]
        if not mine:
            blocks.append(section("Nothing open for you. 🎉"))
        for f, m in mine[:MAX_ITEMS]:
            link = meeting_url(app.settings, ws.id, m.id, at=f.start)
            due = f", due {esc(f.data['due'])}" if f.data.get("due") else ""
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"☐ {esc(f.text)}{due}\n"
                           f"<{link}|{esc(m.title)}> · {m.date} · {clock(f.start)}"}})
            blocks.append({"type": "actions", "block_id": f"item-{f.id}", "elements": [
                button("✓ Done", "onno_item_done", str(f.id), style="primary"),
                button("Not an action item", "onno_item_not_action", str(f.id))]})
        if len(mine) > MAX_ITEMS:
            blocks.append(context(f"…and {len(mine) - MAX_ITEMS} more."))
        blocks += [{"type": "divider"},
                   {"type": "header", "text": {"type": "plain_text", "text": "Recent meetings"}}]
        if not recent:
            blocks.append(section("No meetings yet: share a recording in a channel I'm in."))
        for m in recent:
            n_open = sum(1 for f, mm in slack_repo.open_action_items(s, ws) if mm.id == m.id)
            blocks.append(section(f"<{meeting_url(app.settings, ws.id, m.id)}|{esc(m.title)}>\n"
                                  f"{m.date} · {m.type} · {clock(m.duration)} · {n_open} open action items"))
        blocks += [{"type": "divider"}, *notion_blocks(s, app.settings, ws, admin)[1]]  # boards, Connect Notion
    return {"type": "home", "blocks": blocks[:100]}
