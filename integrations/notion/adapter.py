"""The `notion` / `notion:NAME` delivery target: a card per action item, cards moved for ticket updates."""

from __future__ import annotations

import logging
import re

from integrations.deliver import DeliveryContext
from integrations.errors import DeliveryError
from integrations.notion.service import connection_api

log = logging.getLogger(__name__)

DEFAULT_ARG = "default"  # `--deliver notion` means `notion:default`
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def check(arg: str) -> str | None:
    if not NAME.match(arg):
        return f"{arg!r} is not a Notion connection name (letters, digits, - _ .), e.g. notion:default"
    return None


def send(arg: str, ctx: DeliveryContext) -> int:
    """Pull the board first (so moves made in Notion are not undone), then create and move cards."""
    from integrations.notion.board import Board

    name = arg or DEFAULT_ARG
    with connection_api(ctx.app, ctx.workspace_id, name) as (connection_id, api):
        board = Board(ctx.app, api, connection_id)
        board.refresh_schema()
        synced = board.pull()
        report = board.deliver(meeting_id=ctx.meeting_id, result=ctx.result)
    log.info("notion:%s meeting %s: %d cards created, %d already there, %d recovered, %d moved (pull: %s); "
             "%d requests", name, ctx.meeting_id, len(report.created), report.existing, len(report.recovered),
             len(report.moved), synced.summary(), api.requests)
    if report.unmapped:
        log.warning("notion:%s: tickets with no card on the board, not moved: %s", name, ", ".join(report.unmapped))
    return 200


def prepare(arg: str, *, app, workspace_id: int) -> None:
    """Before a meeting's findings are taken: pull the board, so ticket matching sees it as the team does.

    Quick and best effort (Retry-After is slept at most 2 s here): what fails is the delivery's to report.
    """
    from integrations.notion.board import Board

    try:
        with connection_api(app, workspace_id, arg or DEFAULT_ARG, max_wait=2.0) as (connection_id, api):
            board = Board(app, api, connection_id)
            board.refresh_schema()
            board.pull()
    except DeliveryError as exc:
        log.info("notion:%s: no pull before matching: %s", arg, exc.reason)
