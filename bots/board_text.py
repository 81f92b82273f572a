"""The board as chat text, the same in Slack and Discord; each passes its own markup."""

from __future__ import annotations

from collections.abc import Callable

from storage.models import Ticket

EMPTY = "No board yet. Import one with `onno board import board.json`; meetings then move its cards."


def board_text(rows: list[Ticket], *, bold: str, italic: str, bullet: str,
               escape: Callable[[str], str]) -> str:
    """Tickets by status, each with the last move a meeting made (bold/italic are the platform's markers,
    `escape` its way of keeping card titles from being read as markup)."""
    if not rows:
        return EMPTY
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
