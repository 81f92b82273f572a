"""A meeting result as Discord messages: Markdown Discord renders, each message within its 2000 characters."""

from __future__ import annotations

import re

from core.clock import clock
from pipeline.report import header, sections, who

LIMIT = 2000
PANEL_LIMIT = 1900  # the review panel's text, with room for its last line
PREFIX = "onno:review:"  # custom ids: onno:review:ACTION:ID, parsed by the bot (they outlive a restart)
BUTTON_ITEMS = 4  # up to this many items get a row of buttons each; more are picked from a select menu
SELECT_ITEMS = 25  # a select menu's options
PRIMARY, SECONDARY, SUCCESS, DANGER = 1, 2, 3, 4
KIND_NAMES = {"notion": "Notion", "email": "e-mail"}


def result_messages(result: dict, *, link: str | None = None, review: bool = False) -> list[str]:
    """The result in as few messages as fit, split between lines (a line too long on its own is cut).

    With `review`, the action items are left to the review panel that follows (`review_panel`)."""
    title, meta = header(result)
    lines = [f"## ✅ {escape(title)}", f"-# {escape(meta)}"]
    if result.get("summary"):
        lines.append(escape(result["summary"]))
    for heading, items in sections(result):
        if not items or (review and heading.startswith(("Action items", "Possible"))):  # the panel has them
            continue
        lines.append(f"**{heading}**")
        lines += [f"- {escape(i)}" for i in items]
    if link:
        lines.append(f"Full meeting: <{link}>")
    return pack(lines)


def pack(lines: list[str], limit: int = LIMIT) -> list[str]:
    out: list[str] = []
    cur = ""
    for line in lines:
        if len(line) > limit:
            line = line[:limit - 1] + "…"
        if cur and len(cur) + 1 + len(line) > limit:
            out.append(cur)
            cur = line
        else:
            cur = f"{cur}\n{line}" if cur else line
    if cur:
        out.append(cur)
    return out


MENTION = re.compile(r"(?<!\w)@")  # @everyone, <@123>; not the @ inside an address
MARKUP = re.compile(r"([\\*_~|`>\[\]])")  # what Discord's Markdown reads as formatting or a link


def escape(text: str) -> str:
    """The one escape for people's words in Discord (names, titles, what was said): shown as typed, never turned
    into markup, a disguised link or a mention, by accident or on purpose."""
    return MENTION.sub("@\u200b", MARKUP.sub(r"\\\1", text))


def transcript_line(speaker: str | None, start: float | None, text: str) -> str:
    return f"`{clock(start)}` **{escape(speaker or 'Someone')}**: {escape(text)}"


# -- review first: the panel under the result, its buttons, the edit form ------------------------------------------


def custom_id(action: str, ref: int | str) -> str:
    return f"{PREFIX}{action}:{ref}"


def kinds_text(kinds: list[str]) -> str:
    text = " and ".join(KIND_NAMES.get(k, k) for k in kinds) or "Nothing"
    return text[:1].upper() + text[1:]


NOTE_NAMES = {"possible_decision": "Decision", "possible_blocker": "Blocker"}


def item_line(n: int, state: str, item: dict, edited: bool, note: str | None = None) -> str:
    """One reviewed finding: an action item with its owner and due date, or (`note`, its kind) a possible decision
    or blocker as it was said."""
    if note:
        line = f"{NOTE_NAMES.get(note, 'Note')}: {escape(item.get('text') or '')}"
    else:
        line = f"{escape(item.get('text') or '')} — {escape(who(item.get('owner')))}"
        if item.get("due"):
            line += f", due {escape(str(item['due']))}"
    if state == "dropped":
        return f"{n}. ~~{line}~~ *dropped*"
    if state == "possible":
        return f"{n}. ❔ {line} *possible: not sent unless kept*"
    if note:
        return f"{n}. {line} *kept*"
    return f"{n}. {line}" + (" *(edited)*" if edited else "")


def button(label: str, action: str, ref: int | str, style: int = SECONDARY) -> dict:
    return {"type": 2, "style": style, "label": label[:80], "custom_id": custom_id(action, ref)}


def item_buttons(n: int, fid: int, state: str, note: bool = False) -> list[dict]:
    """Keep or drop a possible finding; edit, drop or restore an action item (a decision or blocker, never edited,
    is dropped or kept again)."""
    if state == "possible":
        return [button(f"✓ Keep {n}", "restore", fid, SUCCESS), button(f"Drop {n}", "drop", fid, DANGER)]
    drop = button(f"↩️ {'Keep' if note else 'Restore'} {n}", "restore", fid, SUCCESS) if state == "dropped" \
        else button(f"Drop {n}", "drop", fid, DANGER)
    return [drop] if note else [button(f"✏️ Edit {n}", "edit", fid), drop]


def review_panel(state: dict, *, picked: int | None = None) -> tuple[str, list[dict]]:
    """(content, components) of the message that reviews a meeting's action items.

    `state` is storage.review.review_state; `picked` is the item chosen in the select menu (when there are more
    than BUTTON_ITEMS items). Once approved the panel says by whom and where it went, and has no components."""
    rows, edited, notes = state["rows"], set(state.get("edited") or ()), state.get("notes") or {}
    approved = state["status"] == "approved"
    if approved:
        by = f" by <@{state['approved_by']}>" if str(state.get("approved_by") or "").isdigit() else ""
        head = f"✅ Approved{by}: sent to {kinds_text(state['kinds'])}."
    else:
        verb = "wait" if len(state["kinds"]) > 1 else "waits"
        head = (f"⏸️ **{kinds_text(state['kinds'])} {verb} for your review.** Edit what is wrong, drop what is not "
                "an action item, then **Approve & send**: only what is left goes out.")
    lines = [f"**Action items** ({len(rows)})", head]
    lines += [item_line(n, st, item, fid in edited, notes.get(fid)) for n, (fid, st, item) in enumerate(rows, 1)] \
        or ["None found."]
    content = pack(lines, PANEL_LIMIT)[0]
    shown = content.count("\n") - 1
    if shown < len(rows):
        content += f"\n…and {len(rows) - shown} more on the meeting page."
    if approved:
        return content, []
    components: list[dict] = []
    if len(rows) <= BUTTON_ITEMS:
        components += [{"type": 1, "components": item_buttons(n, fid, st, fid in notes)} for n, (fid, st, _i) in
                       enumerate(rows, 1)]
    else:
        options = [{"label": f"{n}. {item.get('text') or ''}"[:100], "value": str(fid),
                    "description": ("dropped" if st == "dropped" else
                                    f"possible {NOTE_NAMES[notes[fid]].lower()}" if fid in notes else
                                    who(item.get("owner")))[:100],
                    "default": fid == picked} for n, (fid, st, item) in enumerate(rows[:SELECT_ITEMS], 1)]
        components.append({"type": 1, "components": [
            {"type": 3, "custom_id": custom_id("pick", state["meeting_id"]), "options": options,
             "placeholder": "Pick an action item to edit or drop…", "min_values": 1, "max_values": 1}]})
        chosen = next(((n, fid, st) for n, (fid, st, _i) in enumerate(rows, 1) if fid == picked), None)
        if chosen is not None:
            components.append({"type": 1, "components": item_buttons(*chosen, chosen[1] in notes)})
    components.append({"type": 1, "components": [button("✅ Approve & send", "approve", state["meeting_id"],
                                                        SUCCESS)]})
    return content, components


def edit_modal(item: dict) -> dict:
    """The modal (Discord's JSON) that edits one action item: text, owner, due date as YYYY-MM-DD."""
    def field(label: str, key: str, value: str, *, required: bool, max_length: int, style: int = 1,
              placeholder: str | None = None, description: str | None = None) -> dict:
        text_input = {"type": 4, "custom_id": key, "style": style, "required": required, "max_length": max_length}
        if value:
            text_input["value"] = value[:max_length]
        if placeholder:
            text_input["placeholder"] = placeholder
        out = {"type": 18, "label": label, "component": text_input}
        if description:
            out["description"] = description
        return out

    return {"custom_id": custom_id("edit", item["finding_id"]), "title": f"Edit action item {item['number']}"[:45],
            "components": [
                field("What needs doing", "text", item.get("text") or "", required=True, max_length=500, style=2),
                field("Owner", "owner", item.get("owner") or "", required=False, max_length=100,
                      description="Leave it empty for nobody yet."),
                field("Due", "due", item.get("due") or "", required=False, max_length=10, placeholder="YYYY-MM-DD",
                      description="A date as YYYY-MM-DD, or empty for none.")]}
