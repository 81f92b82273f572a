"""The meeting result as Block Kit: summary, action items with buttons, questions, decisions, blockers, tickets."""

from __future__ import annotations

from collections.abc import Callable

from onno.render import clock

MAX_BLOCKS = 50  # Slack's limit per message
MAX_ITEMS = 10  # action items shown with buttons; the rest are behind the meeting link
MAX_TEXT = 2900  # a section's text may hold 3000 characters


def esc(text: str | None) -> str:
    """Escape what mrkdwn would read as markup."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(text: str) -> dict:
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:MAX_TEXT]}]}


def button(text: str, action_id: str, value: str, *, style: str | None = None, url: str | None = None) -> dict:
    b = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True}, "action_id": action_id,
         "value": value}
    if style:
        b["style"] = style
    if url:
        b["url"] = url
    return b


def at(link: str | None, item: dict) -> str:
    """The item's moment, linked to that line of the meeting page."""
    start = item.get("start")
    if start is None:
        return ""
    label = clock(start)
    return f" · <{link}#t{int(start)}|{label}>" if link else f" · {label}"


def bullets(lines: list[str], more: int = 0) -> str:
    text = "\n".join(f"• {line}" for line in lines)
    return text + (f"\n_…and {more} more_" if more else "")


def owner_text(owner: str | None, mention: Callable[[str | None], str | None]) -> str:
    if not owner:
        return "_unassigned_"
    return mention(owner) or f"*{esc(owner)}*"


def action_item_line(item: dict, mention, link: str | None) -> str:
    line = f"{esc(item.get('text'))} — {owner_text(item.get('owner'), mention)}"
    if item.get("due"):
        line += f", due {esc(item['due'])}"
    return line + at(link, item)


HELD_NAMES = {"notion": "Notion", "email": "e-mail"}


def held_names(held: list[str]) -> str:
    names = [HELD_NAMES.get(k, k) for k in held]
    text = " and ".join(names)
    return text[:1].upper() + text[1:]


def review_blocks(held: list[str], meeting_id: int) -> list[dict]:
    """The line saying what waits for review, and the button that sends it (block id `review-MEETING`)."""
    verb = "wait" if len(held) > 1 else "waits"
    return [section(f"⏸ *{held_names(held)} {verb} for your review.* Mark what is not an action item, "
                    "then approve: only what is left goes out."),
            {"type": "actions", "block_id": f"review-{meeting_id}", "elements": [
                button("Approve & send", "onno_review_approve", str(meeting_id), style="primary")]}]


def approved_blocks(blocks: list[dict], meeting_id: int, user_id: str, held: list[str]) -> list[dict]:
    """The message's blocks with the review line replaced by who approved it."""
    out: list[dict] = []
    for block in blocks:
        if block.get("block_id") == f"review-{meeting_id}":
            if out and out[-1].get("type") == "section":
                out.pop()
            out.append(context(f"✅ Approved by <@{user_id}>" + (f": sent to {held_names(held)}." if held
                                                                  else ".")))
            continue
        out.append(block)
    return out


def result_blocks(result: dict, *, link: str | None, item_ids: list[int], meeting_id: int,
                  mention: Callable[[str | None], str | None] = lambda _name: None,
                  marks: dict[int, str] | None = None, held: list[str] = ()) -> tuple[str, list[dict]]:
    """(fallback text, blocks) for the thread reply; `held` names the deliveries waiting for review."""
    marks = marks or {}
    m = result["meeting"]
    title = m.get("title") or "Meeting"
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": f"📝 {title}"[:150],
                                                       "emoji": True}}]
    meta = f"{esc(m.get('type'))} · {esc(m.get('date'))} · {clock(m.get('duration'))}"
    if m.get("participants"):
        meta += " · " + ", ".join(esc(p) for p in m["participants"])
    if link:
        meta += f" · <{link}|open the meeting>"
    blocks.append(context(meta))
    if result.get("summary"):
        blocks.append(section(f"*Summary*\n{esc(result['summary'])}"))

    items = result.get("action_items", [])
    blocks.append({"type": "divider"})
    blocks.append(section(f"*Action items* ({len(items)})" + ("" if items else "\nNone found.")))
    shown = items[:MAX_ITEMS]
    for i, item in enumerate(shown):
        fid = item_ids[i] if i < len(item_ids) else None
        line = action_item_line(item, mention, link)
        state = marks.get(fid) if fid is not None else None
        if state:
            label = "✅ done" if state == "done" else "_not an action item_"
            blocks.append(section(f"~{line}~ {label}"))
            continue
        blocks.append(section(f"☐ {line}"))
        if fid is not None:
            blocks.append({"type": "actions", "block_id": f"item-{fid}", "elements": [
                button("✓ Done", "onno_item_done", str(fid), style="primary"),
                button("Not an action item", "onno_item_not_action", str(fid))]})
    if len(items) > len(shown):
        blocks.append(context(f"…and {len(items) - len(shown)} more" + (f" on <{link}|the meeting page>"
                                                                          if link else "")))

    def add(heading: str, lines: list[str], limit: int = 12) -> None:
        if lines:
            blocks.append(section(f"*{heading}* ({len(lines)})\n" + bullets(lines[:limit], len(lines) - limit
                                                                            if len(lines) > limit else 0)))

    open_qs = [q for q in result.get("questions", []) if not q.get("answered")]
    add("Unanswered questions", [f"{esc(q.get('text'))} — {esc(q.get('asked_by') or 'someone')}{at(link, q)}"
                                 for q in open_qs])
    add("Worth asking next", [f"{esc(q.get('text'))}" + (f" _({esc(q['topic'])})_" if q.get("topic") else "")
                              for q in result.get("suggested_questions", [])]
        + [esc(q.get("text")) for q in result.get("follow_ups", [])])
    add("Decisions", [esc(d.get("text")) + at(link, d) for d in result.get("decisions", [])])
    add("Blockers", [esc(b.get("text")) + at(link, b) for b in result.get("blockers", [])])
    add("Ticket moves", [f"`{esc(u.get('key'))}` {esc(u.get('from'))} → *{esc(u.get('to'))}*" + at(link, u)
                         for u in result.get("ticket_updates", [])])
    add("Ticket moves to confirm (not applied)", [
        f"`{esc(u.get('key'))}` {esc(u.get('from'))} → {esc(u.get('to'))}? “{esc(u.get('evidence'))}”"
        for u in result.get("unconfirmed_ticket_updates", [])])
    add("Metrics", [f"{esc(x.get('name'))}: {x.get('value'):g} {esc(x.get('unit'))}" + at(link, x)
                    for x in result.get("metrics", []) if isinstance(x.get("value"), int | float)], limit=8)

    if held:
        blocks.extend(review_blocks(held, meeting_id))
    blocks.append({"type": "divider"})
    tail = [button("📧 E-mail me the summary", "onno_email_me", str(meeting_id)),
            button("Send to Notion", "onno_send_notion", str(meeting_id))]
    if link:
        tail.append(button("Open meeting", "onno_open_meeting", str(meeting_id), url=link))
    blocks.append({"type": "actions", "block_id": f"meeting-{meeting_id}", "elements": tail})

    if len(blocks) > MAX_BLOCKS:  # keep the head and the buttons; the page has everything
        blocks = blocks[: MAX_BLOCKS - 2] + [context(f"More on <{link}|the meeting page>." if link else "…"),
                                             blocks[-1]]
    n_open = len(open_qs)
    text = f"{title}: {len(items)} action items, {n_open} unanswered questions, " \
           f"{len(result.get('decisions', []))} decisions."
    return text, blocks
