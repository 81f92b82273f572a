"""Read a board file: existing tickets as JSON `[{"key", "title", "status"}]`."""

from __future__ import annotations

import json
import re
from pathlib import Path

from core.errors import InputError
from pipeline.types import TICKET_STATUSES, Ticket

EXAMPLE = 'Expected a JSON list like [{"key": "ENG-12", "title": "API docs", "status": "TODO"}].'
# Status names as boards spell them, folded to ours.
STATUS_ALIASES = {"todo": "TODO", "to do": "TODO", "not started": "TODO", "backlog": "TODO", "open": "TODO",
                  "in progress": "IN_PROGRESS", "in_progress": "IN_PROGRESS", "doing": "IN_PROGRESS",
                  "started": "IN_PROGRESS", "done": "DONE", "complete": "DONE", "completed": "DONE",
                  "closed": "DONE"}


def normalise_status(value: object) -> str | None:
    """Our status name for a board's spelling of it, or None when unknown."""
    text = re.sub(r"[\s\-]+", " ", str(value or "")).strip().lower()
    return STATUS_ALIASES.get(text) or (text.upper() if text.upper() in TICKET_STATUSES else None)


def parse_board(data: object, name: str = "board") -> list[Ticket]:
    """Validate decoded JSON into tickets; InputError names the first bad entry."""
    if isinstance(data, dict) and isinstance(data.get("tickets"), list):
        data = data["tickets"]
    if not isinstance(data, list):
        raise InputError(f"{name}: the board must be a JSON list of tickets.", EXAMPLE)
    tickets: list[Ticket] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not str(item.get("key") or "").strip() \
                or not str(item.get("title") or "").strip():
            raise InputError(f"{name}: ticket #{i + 1} needs a non-empty \"key\" and \"title\".", EXAMPLE)
        status = normalise_status(item.get("status", "TODO"))
        if status is None:
            raise InputError(f"{name}: ticket {item['key']} has the unknown status {item.get('status')!r}.",
                             "Use TODO, IN_PROGRESS or DONE.")
        key = str(item["key"]).strip()
        if key in seen:
            raise InputError(f"{name}: ticket {key} appears twice.", "Give every ticket its own key.")
        seen.add(key)
        tickets.append(Ticket(key=key, title=str(item["title"]).strip(), status=status))
    return tickets


def read_board(path: Path) -> list[Ticket]:
    """Read and validate a board file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"Board file {path} does not exist.", "Check the path given to --board.") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"Board file {path} cannot be read.", "Check the file and its permissions.") from exc
    return board_from_text(text, path.name, what=f"Board file {path.name}")


def board_from_text(text: str, name: str = "board", *, what: str | None = None) -> list[Ticket]:
    """Validate a board given as JSON text (a file's, or pasted in chat); `what` names it in messages."""
    what = what or name
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what} is not valid JSON (line {exc.lineno}: {exc.msg}).", EXAMPLE) from exc
    except RecursionError as exc:
        raise InputError(f"{what} is nested too deeply to be a board.", EXAMPLE) from exc
    return parse_board(data, name)
