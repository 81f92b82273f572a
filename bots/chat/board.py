"""A chat workspace's board (a Slack workspace's, a Discord server's): imported from a JSON file or pasted JSON,
stored as the CLI stores its own (`onno board import`), so meetings there move its cards."""

from __future__ import annotations

import html
from collections.abc import Callable

from core.errors import InputError
from pipeline.board import board_from_text
from storage import repository as repo
from storage.models import Ticket

MAX_BOARD_BYTES = 2_000_000
CLI_IMPORT = "`onno board import FILE --workspace {ws_id}` on the server"
SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})


def decode(raw: bytes | str, name: str) -> str:
    """The text of an uploaded or pasted board; InputError for one too large or not UTF-8."""
    if len(raw) > MAX_BOARD_BYTES:
        raise InputError(*too_large(name, len(raw)))
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name} is not UTF-8 text, so it can't be a JSON board.",
                         'Export the board as JSON: [{"key": "ENG-12", "title": "API docs", "status": "TODO"}].') \
            from exc


def too_large(name: str, size: int) -> tuple[str, str]:
    return (f"{name} is too large for a board ({size / 1e6:.1f} MB).",
            f"A board file is at most {MAX_BOARD_BYTES / 1e6:.0f} MB of JSON.")


def pasted(text: str) -> str:
    """JSON typed into a chat command: Slack escapes &, < and >, and phones turn quotes curly."""
    return html.unescape(text).translate(SMART_QUOTES).strip().strip("`").removeprefix("json").strip()


def import_board(app, ws_id: int, raw: bytes | str, name: str) -> str:
    """Upsert the tickets into this workspace's board; the answer says how many, or what is wrong and how to fix
    it."""
    try:
        tickets = board_from_text(decode(raw, name), name)
    except InputError as exc:
        return f"Nothing was imported: {exc.problem} {exc.hint}"
    with app.session() as s:
        created, updated = repo.import_board(s, repo.workspace_by_id(s, ws_id), tickets)
    return (f"Imported {len(tickets)} tickets: {created} new, {updated} updated. `/onno tickets` shows the board; "
            "meetings here now move its cards.")


def board_text(rows: list[Ticket], *, bold: str, italic: str, bullet: str, escape: Callable[[str], str],
               empty: str) -> str:
    """Tickets by status, each with the last move a meeting made (bold/italic are the platform's markers,
    `escape` its way of keeping card titles from being read as markup, `empty` how to get a board there)."""
    if not rows:
        return empty
    out = [f"{bold}Board{bold}"]
    for status in ("TODO", "IN_PROGRESS", "DONE"):
        group = [t for t in rows if t.status == status]
        out.append(f"{bold}{status}{bold} ({len(group)})")
        for t in group:
            moved = [h for h in t.history if h.source == "meeting"]
            tail = (f" {italic}(moved {moved[-1].from_status} → {moved[-1].to_status} in meeting "
                    f"{moved[-1].meeting_id}){italic}" if moved else "")
            out.append(f"{bullet} `{escape(t.key)}` {escape(t.title)}{tail}")
    return "\n".join(out)
