"""The digest as one compact Block Kit message in the channel picked with `/onno settings digest here`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from integrations.digest.compose import plural, span, usage_line
from integrations.digest.content import Item, WeekDigest
from integrations.email.compose import nice_date, status
from integrations.errors import PermanentError
from integrations.slack import api
from integrations.slack.adapter import members
from integrations.slack.blocks import bullets, context, esc, owner_text, section
from integrations.slack.tokens import bot_token

LIMITS = {"meetings": 8, "overdue": 10, "open": 8, "done": 8, "said": 6}


def listed(heading: str, lines: list[str], limit: int) -> list[dict]:
    if not lines:
        return []
    more = len(lines) - limit if len(lines) > limit else 0
    return [section(f"*{heading}* ({len(lines)})\n" + bullets(lines[:limit], more))]


def digest_blocks(d: WeekDigest, *, mention: Callable[[str | None], str | None] = lambda _n: None
                  ) -> tuple[str, list[dict]]:
    """(fallback text, blocks): overdue items first, each line linked to its meeting at that moment."""
    def item(i: Item) -> str:
        due = nice_date(i.due, d.start)
        when = f", was due {esc(due)}" if i.overdue else (f", due {esc(due)}" if due else "")
        return f"{esc(i.text)} — {owner_text(i.owner, mention)}{when} · <{i.url}|{esc(i.meeting)}>"

    def said(text: str, url: str | None, meeting: str | None, extra: str = "") -> str:
        where = f" · <{url}|{esc(meeting)}>" if url and meeting else ""
        return f"{esc(text)}{extra}{where}"

    overdue = d.overdue
    stats = [plural(len(d.meetings), "meeting"), plural(round(d.minutes), "minute"),
             plural(len(d.open_items), "open item") + (f", {len(overdue)} overdue" if overdue else ""),
             f"{len(d.done)} done"]
    title = f"🗓 Weekly digest · {span(d.start, d.end)}"
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
                          context(" · ".join([f"Week {int(d.week.rpartition('W')[2])}", *stats]))]
    blocks += listed("Meetings", [f"<{m.url}|{esc(m.title)}> · {m.date:%a} {m.date.day} {m.date:%b}"
                                  for m in d.meetings], LIMITS["meetings"])
    blocks += listed("🔴 Overdue", [item(i) for i in overdue], LIMITS["overdue"])
    blocks += listed("Still open", [item(i) for i in d.open_items if not i.overdue], LIMITS["open"])
    blocks += listed("✅ Done this week", [said(i.text, i.url, i.meeting, f" — {esc(i.how)}") for i in d.done],
                     LIMITS["done"])
    blocks += listed("Decisions", [said(x.text, x.url, x.meeting) for x in d.decisions], LIMITS["said"])
    blocks += listed("Unanswered questions", [said(x.text, x.url, x.meeting, f" — {esc(x.asked_by)}"
                                                   if x.asked_by else "") for x in d.unanswered], LIMITS["said"])
    blocks += listed("Tickets moved", [said(f"`{mv.key}` {mv.title}: {status(mv.from_status)} → "
                                            f"{status(mv.to_status)}", mv.url, mv.meeting)
                                       for mv in d.moves if mv.to_status != "DONE"], LIMITS["said"])
    blocks.append(context(esc(usage_line(d))))
    return f"Weekly digest, {span(d.start, d.end)}: " + ", ".join(stats), blocks


def post(app, d: WeekDigest, *, team_id: str, channel: str, key: str,
         retried_since: dt.datetime | None = None) -> str:
    """Post the digest with the team's bot token; the message's ts. Slack's errors as Transient/PermanentError.

    `retried_since` (on a retry: when the digest was started): first look for a post of this key whose answer was
    lost, and return its ts instead of posting again."""
    token = bot_token(app, team_id)
    if not token:
        raise PermanentError(f"no Slack token for team {team_id}: install the app again")
    web = api.client(app.settings, token)
    text, blocks = digest_blocks(d, mention=members(web, team_id).mention)
    ts, _posted = api.post_once(web, channel, event_type="onno_digest", payload={"digest": key}, key_field="digest",
                                retried_since=retried_since, text=text, blocks=blocks)
    return ts
