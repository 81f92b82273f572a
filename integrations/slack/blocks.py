"""The meeting result as Block Kit: summary, action items with buttons, questions, decisions, blockers, tickets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.clock import clock

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
    return [section(f"⏸ *{held_names(held)} {verb} for your review.* Edit what is wrong, drop what is not an "
                    "action item, then approve: only what is left goes out."),
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
        if block.get("type") == "actions" and block.get("block_id", "").startswith("item-"):
            # What was sent is sent: the item keeps ✓ Done, its review buttons go.
            elements = [e for e in block["elements"] if e.get("action_id") not in REVIEW_ACTIONS]
            if elements:
                out.append({**block, "elements": elements})
            continue
        out.append(block)
    return out


REVIEW_ACTIONS = ("onno_item_edit", "onno_item_drop", "onno_item_restore")
EDIT_CALLBACK = "onno_item_edit"


def review_item_blocks(fid: int, line: str, state: str, edited: bool) -> list[dict]:
    """An action item while its meeting waits for review: ✓ Done, Edit and Drop; dropped, only Restore."""
    if state == "dropped":
        return [section(f"~{line}~ _dropped_"), {"type": "actions", "block_id": f"item-{fid}", "elements": [
            button("↩ Restore", "onno_item_restore", str(fid))]}]
    if state == "possible":
        return [section(f"❔ {line} _possible: not sent unless you keep it_"),
                {"type": "actions", "block_id": f"item-{fid}", "elements": [
                    button("✓ Keep", "onno_item_restore", str(fid), style="primary"),
                    button("Drop", "onno_item_drop", str(fid))]}]
    return [section(f"☐ {line}" + (" _(edited)_" if edited else "")),
            {"type": "actions", "block_id": f"item-{fid}", "elements": [
                button("✓ Done", "onno_item_done", str(fid), style="primary"),
                button("✏️ Edit", "onno_item_edit", str(fid)),
                button("Drop", "onno_item_drop", str(fid))]}]


NOTE_NAMES = {"possible_decision": "Decision", "possible_blocker": "Blocker"}
MAX_POSSIBLE = 8  # possible findings shown with Keep and Drop; the rest are on the meeting page


def possible_blocks(fid: int, line: str, state: str) -> list[dict]:
    """A possible finding while its meeting waits for review: Keep and Drop; kept, Drop; dropped, Keep again."""
    if state == "possible":
        return review_item_blocks(fid, line, state, False)
    if state == "dropped":
        return [section(f"~{line}~ _dropped_"), {"type": "actions", "block_id": f"item-{fid}", "elements": [
            button("↩ Keep", "onno_item_restore", str(fid))]}]
    return [section(f"✓ {line} _kept: sent with the rest_"), {"type": "actions", "block_id": f"item-{fid}",
                                                             "elements": [button("Drop", "onno_item_drop", str(fid))]}]


def possible_line(kind: str, item: dict, mention, link: str | None) -> str:
    if kind in NOTE_NAMES:
        return f"{NOTE_NAMES[kind]}: {esc(item.get('text'))}" + at(link, item)
    return action_item_line(item, mention, link)


def plain(text: str, limit: int) -> dict:
    return {"type": "plain_text", "text": text[:limit]}


def edit_modal(item: dict, *, metadata: str) -> dict:
    """The modal that edits one action item: its text, owner and due date (`private_metadata` says which)."""
    def text_input(block_id: str, label: str, value: str, *, optional: bool, max_length: int,
                   multiline: bool = False, hint: str | None = None) -> dict:
        element = {"type": "plain_text_input", "action_id": "value", "max_length": max_length,
                   "multiline": multiline}
        if value:
            element["initial_value"] = value[:max_length]
        block = {"type": "input", "block_id": block_id, "optional": optional, "label": plain(label, 2000),
                 "element": element}
        if hint:
            block["hint"] = plain(hint, 2000)
        return block

    due = {"type": "datepicker", "action_id": "value", "placeholder": plain("No due date", 150)}
    if iso_date(item.get("due")):
        due["initial_date"] = item["due"]
    return {"type": "modal", "callback_id": EDIT_CALLBACK, "private_metadata": metadata,
            "title": plain(f"Edit action item {item['number']}", 24), "submit": plain("Save", 24),
            "close": plain("Cancel", 24), "blocks": [
                text_input("text", "What needs doing", item.get("text") or "", optional=False, max_length=500,
                           multiline=True),
                text_input("owner", "Owner", item.get("owner") or "", optional=True, max_length=100,
                           hint="Leave it empty for nobody yet."),
                {"type": "input", "block_id": "due", "optional": True, "label": plain("Due", 2000),
                 "element": due}]}


def iso_date(value: str | None) -> bool:
    try:
        dt.date.fromisoformat(value or "")
        return True
    except ValueError:
        return False


def result_blocks(result: dict, *, link: str | None, item_ids: list[int], meeting_id: int,
                  mention: Callable[[str | None], str | None] = lambda _name: None,
                  marks: dict[int, str] | None = None, held: list[str] = (),
                  reviews: dict[int, tuple[str, dict]] | None = None,
                  possibles: list[tuple[int, str, dict, str]] = ()) -> tuple[str, list[dict]]:
    """(fallback text, blocks) for the thread reply; `held` names the deliveries waiting for review, `reviews`
    (finding id -> state, the item as it goes out) what reviewers did to each item so far, `possibles` the
    meeting's possible findings (finding id, state, item, kind) to keep or drop while it waits."""
    marks, reviews = marks or {}, reviews or {}
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
        review_state, reviewed = reviews.get(fid, ("open", item))
        line = action_item_line(reviewed, mention, link)
        state = marks.get(fid) if fid is not None else None
        if held and fid is not None and state != "done":
            blocks.extend(review_item_blocks(fid, line, review_state, reviewed != item))
            continue
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
    if held and possibles:
        blocks.append(section(f"*Possible* ({len(possibles)}): Onno is not sure; only what you keep is sent"))
        for fid, state, item, kind in possibles[:MAX_POSSIBLE]:
            blocks.extend(possible_blocks(fid, possible_line(kind, item, mention, link), state))
    else:
        add("Possible (not sent anywhere: Onno is not sure)",
            [possible_line(kind, x, mention, link) for key, kind in (
                ("possible_action_items", "possible_action_item"), ("possible_decisions", "possible_decision"),
                ("possible_blockers", "possible_blocker")) for x in result.get(key, [])])
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
    text = f"{esc(title)}: {len(items)} action items, {n_open} unanswered questions, " \
           f"{len(result.get('decisions', []))} decisions."
    return text, blocks
