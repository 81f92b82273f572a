"""The digest as one Discord message (Markdown, within 2000 characters) in the channel picked with
`/onno settings digest:here`."""

from __future__ import annotations

from collections.abc import Callable

from core.names import first_name, owns
from integrations.digest.compose import plural, span, usage_line
from integrations.digest.content import Item, WeekDigest
from integrations.discord.api import DiscordAPI
from integrations.discord.format import LIMIT, escape
from integrations.email.compose import nice_date, status
from storage import mail

LIMITS = {"meetings": 6, "overdue": 8, "open": 6, "done": 5, "said": 4}  # lines per section before "…and N more"
LINE = 300  # a line longer than this (a long action item) is cut


def link(title: str, url: str | None) -> str:
    """A masked link that does not unfurl; just the title when there is no page."""
    text = escape(title.replace("[", "(").replace("]", ")"))
    return f"[{text}](<{url}>)" if url else text


def cut(line: str) -> str:
    return line if len(line) <= LINE else line[:LINE - 1] + "…"


def section(heading: str, lines: list[str], limit: int) -> list[str]:
    if not lines:
        return []
    shown = [f"- {cut(line)}" for line in lines[:limit]]
    more = len(lines) - len(shown)
    return [f"**{heading}** ({len(lines)})", *shown] + ([f"- …and {more} more"] if more else [])


def digest_text(d: WeekDigest, *, mention: Callable[[str | None], str | None] = lambda _n: None) -> str:
    """The message: overdue items first, each linked to its meeting at that moment; long lists cut so it fits."""
    def item(i: Item) -> str:
        due = nice_date(i.due, d.start)
        when = f", was due {due}" if i.overdue else (f", due {due}" if due else "")
        owner = mention(i.owner) or (f"**{escape(i.owner)}**" if i.owner else "*no owner*")
        return f"{escape(i.text)} — {owner}{when} · {link(i.meeting, i.url)}"

    def said(text: str, url: str | None, meeting: str | None, extra: str = "") -> str:
        return f"{escape(text)}{extra}" + (f" · {link(meeting, url)}" if meeting else "")

    overdue = d.overdue
    stats = [plural(len(d.meetings), "meeting"), plural(round(d.minutes), "minute"),
             plural(len(d.open_items), "open item") + (f", {len(overdue)} overdue" if overdue else ""),
             f"{len(d.done)} done"]
    head = [f"## 🗓 Weekly digest · {span(d.start, d.end)}",
            "-# " + " · ".join([f"Week {int(d.week.rpartition('W')[2])}", *stats])]
    sections = [
        ("Meetings", [f"{link(m.title, m.url)} · {m.date:%a} {m.date.day} {m.date:%b}" for m in d.meetings],
         "meetings"),
        ("🔴 Overdue", [item(i) for i in overdue], "overdue"),
        ("Still open", [item(i) for i in d.open_items if not i.overdue], "open"),
        ("✅ Done this week", [said(i.text, i.url, i.meeting, f" — {escape(i.how)}") for i in d.done], "done"),
        ("Decisions", [said(x.text, x.url, x.meeting) for x in d.decisions], "said"),
        ("Unanswered questions", [said(x.text, x.url, x.meeting, f" — {escape(x.asked_by)}" if x.asked_by else "")
                                  for x in d.unanswered], "said"),
        ("Tickets moved", [said(f"`{mv.key}` {mv.title}: {status(mv.from_status)} → {status(mv.to_status)}",
                                mv.url, mv.meeting) for mv in d.moves if mv.to_status != "DONE"], "said"),
    ]
    foot = [f"-# {escape(usage_line(d))}"]
    limits = [LIMITS[kind] for _h, _l, kind in sections]
    while True:
        body = [line for (heading, lines, _k), n in zip(sections, limits, strict=True)
                for line in section(heading, lines, n)]
        text = "\n".join(head + body + foot)
        if len(text) <= LIMIT:
            return text
        # Too long: one line fewer from the section showing the most (each keeps at least one), then cut outright.
        widest = max(range(len(sections)), key=lambda k: min(limits[k], len(sections[k][1])))
        if min(limits[widest], len(sections[widest][1])) <= 1:
            return text[:LIMIT - 1].rsplit("\n", 1)[0] + "\n…"
        limits[widest] = min(limits[widest], len(sections[widest][1])) - 1


def mentions(app, workspace_id: int) -> Callable[[str | None], str | None]:
    """An owner's Discord mention when exactly one member on file (put there with `/onno email`) is them."""
    with app.session() as s:
        on_file = [(p.name, p.chat_user) for p in mail.list_people(s, workspace_id) if p.chat_user]
    firsts: dict[str, int] = {}
    for name, _u in on_file:
        firsts[first_name(name)] = firsts.get(first_name(name), 0) + 1

    def mention(owner: str | None) -> str | None:
        found = {user for name, user in on_file
                 if owns(owner, [name], by_first_name=firsts[first_name(name)] == 1)}
        return f"<@{found.pop()}>" if len(found) == 1 else None

    return mention


def post(app, d: WeekDigest, *, channel: str, key: str) -> str:
    """Post the digest with the bot token (DISCORD_TOKEN); the message's id. Discord's errors as Transient- or
    PermanentError (DiscordAPI); no one is pinged. `key` (the round's) makes a repeat return the first post."""
    settings = app.settings
    text = digest_text(d, mention=mentions(app, d.workspace_id))
    api = DiscordAPI(settings.discord_token, base=settings.discord_api_url)
    try:
        return str(api.post_message(channel, text, once=key)["id"])
    finally:
        api.close()
