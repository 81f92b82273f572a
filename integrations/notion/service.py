"""Connecting a workspace to a Notion board, making one, pulling it, and telling when a connection broke.

Connections use an internal integration token (Notion → Settings → Connections → Develop or manage
integrations), or a public integration's OAuth token (integrations/notion/oauth.py: "Connect Notion"), which
comes with a refresh token: an expired access token is renewed on its 401 (integrations/notion/refresh.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from notion_client.helpers import extract_notion_id

from integrations.errors import PermanentError, TransientError
from integrations.notion.api import BrokenConnection, NotFound, NotionAPI
from integrations.notion.grants import configured
from integrations.notion.models import NotionConnection
from integrations.notion.refresh import Refresher
from integrations.notion.schema import ONNO_ID, build_mapping, plain
from integrations.notion.store import (
    TokenUnreadable,
    decrypt_token,
    encrypt_token,
    get_connection,
    list_connections,
    mark_broken,
)
from storage import notices

log = logging.getLogger(__name__)

BOARD_TITLE = "Meeting action items"
STATUS_OPTIONS = [{"name": "Not started", "color": "default"}, {"name": "In progress", "color": "blue"},
                  {"name": "Done", "color": "green"}]


def board_properties(status_as: str = "status") -> dict:
    """The schema `onno notion create-board` makes: what every card we write can fill in."""
    status = {"status": {}} if status_as == "status" else {"select": {"options": STATUS_OPTIONS}}
    return {"Name": {"title": {}}, "Status": status, "Assignee": {"people": {}}, "Owner": {"rich_text": {}},
            "Due date": {"date": {}}, "Meeting": {"rich_text": {}}, "Link": {"url": {}}, ONNO_ID: {"rich_text": {}}}


def make_api(settings, token: str, *, max_wait: float | None = None, refresh=None) -> NotionAPI:
    return NotionAPI(token, base_url=settings.notion_api_url, rate=settings.notion_rate,
                     max_wait=settings.notion_max_wait if max_wait is None else max_wait,
                     redis_url=settings.broker_url,  # every worker shares the integration's rate
                     refresh=refresh)


def record_broken(app, connection_id: int, exc: BrokenConnection) -> PermanentError:
    """Mark the connection broken; the first to do so says it loudly, later ones say it was said."""
    with app.session() as s:
        first = mark_broken(s, connection_id, exc.reason)
        conn = s.get(NotionConnection, connection_id)
        name = conn.name
        notice = notices.notion_broken(s, conn, exc.reason) if first else None  # same transaction: never lost
    if first:
        log.error("Notion connection %r is broken and is now switched off until connected again: %s", name, exc.reason)
        app.send_notices([notice])  # the team is told once, in their channel
        return PermanentError(f"Notion connection {name!r} is broken: {exc.reason}", status=exc.status)
    return PermanentError(f"Notion connection {name!r} is broken (already reported): {exc.reason}", status=exc.status)


@contextmanager
def connection_api(app, workspace_id: int, name: str, *, max_wait: float | None = None
                   ) -> Iterator[tuple[int, NotionAPI]]:
    """The connection's id and an API client with its token; a broken connection fails here, sending nothing."""
    with app.session() as s:
        conn = get_connection(s, workspace_id, name)
        if conn is None:
            raise PermanentError(f"No Notion connection {name!r} in this workspace: connect one with "
                                 "`onno notion connect --token … --database …`.")
        if conn.status == "broken":
            raise PermanentError(f"Notion connection {name!r} has been broken since {conn.broken_at:%Y-%m-%d %H:%M} "
                                 f"UTC (reported then), nothing sent: {conn.broken_reason}")
        connection_id, stored, refreshable = conn.id, conn.token_encrypted, conn.refresh_encrypted is not None
    try:
        token = decrypt_token(app.settings.resolved_secret_key, stored)
    except TokenUnreadable as exc:
        raise record_broken(app, connection_id, BrokenConnection(f"{exc}; connect again.")) from exc
    refresh = None
    if refreshable and configured(app.settings):
        refresh = Refresher(app, connection_id, token)
    elif refreshable:
        log.warning("Notion connection %r has a refresh token but NOTION_CLIENT_ID / NOTION_CLIENT_SECRET are not "
                    "set: an expired access token cannot be renewed", name)
    api = make_api(app.settings, token, max_wait=max_wait, refresh=refresh)
    try:
        yield connection_id, api
    except BrokenConnection as exc:
        raise record_broken(app, connection_id, exc) from exc
    finally:
        api.close()


@dataclass
class Connected:
    name: str
    database_id: str
    data_source_id: str
    board_title: str
    mapping_lines: list[str]
    sync_summary: str
    added_onno_id: bool


def check_room(app, workspace_id: int, name: str) -> None:
    """Refuse a board more than the plan holds (billing.gate.PlanLimit); reconnecting a name is always allowed."""
    with app.session() as s:
        check_room_in(s, app.settings, workspace_id, name)


def check_room_in(s, settings, workspace_id: int, name: str) -> None:
    from billing.gate import check_boards
    from storage.models import Workspace

    names = [c.name for c in list_connections(s, workspace_id)]
    if name not in names:
        check_boards(s, settings, s.get(Workspace, workspace_id), names)


def new_connection(s, app, workspace_id: int, name: str) -> NotionConnection:
    """The connection row called `name`, made if missing; the plan's board limit is checked again under the
    workspace's lock, so two connects at once cannot both take the last board."""
    from billing.accounts import lock_usage
    from storage.models import Workspace

    conn = get_connection(s, workspace_id, name)
    if conn is None:
        lock_usage(s, s.get(Workspace, workspace_id))
        conn = get_connection(s, workspace_id, name)  # made by the connect we waited for
    if conn is None:
        check_room_in(s, app.settings, workspace_id, name)
        conn = NotionConnection(workspace_id=workspace_id, name=name)
        s.add(conn)
    return conn


def _id(value: str, what: str) -> str:
    found = extract_notion_id(value or "")
    if not found:
        raise PermanentError(f"{value!r} is not a Notion {what} id or link.")
    return found


def connect(app, workspace_id: int, *, token: str, database: str, name: str = "default",
            data_source: str | None = None, properties: dict | None = None, statuses: dict | None = None,
            refresh_token: str | None = None) -> Connected:
    """Check the token and the board, map its properties, store the connection and pull the board once.

    `refresh_token`: the one an OAuth token came with, kept to renew it; None (an internal integration's
    token, which does not expire) clears one stored before."""
    from integrations.notion.board import Board

    token = (token or "").strip()
    if not token:
        raise PermanentError("No Notion token: pass --token or set NOTION_TOKEN (an internal integration secret).")
    database_id = _id(database, "database")
    check_room(app, workspace_id, name)
    overrides = {"properties": {k: v for k, v in (properties or {}).items() if v},
                 "statuses": {k: v for k, v in (statuses or {}).items() if v}}
    with make_api(app.settings, token) as api:
        bot = api.me()
        ds_id = _id(data_source, "data source") if data_source else None
        title = ""
        try:
            db = api.database(database_id)
        except NotFound:
            if ds_id:
                raise
            try:  # a data source id given where a database id was asked: fine too
                ds = api.data_source(database_id)
            except NotFound as exc:
                raise PermanentError(
                    f"Notion has no database {database_id} that this integration can see: open the database "
                    "in Notion, ••• → Connections, and add the integration.", status=404) from exc
            ds_id, database_id = ds["id"], (ds.get("parent") or {}).get("database_id") or database_id
        else:
            sources = db.get("data_sources") or []
            title = "".join(t.get("plain_text", "") for t in db.get("title") or [])
            if ds_id is None:
                if len(sources) != 1:
                    listed = ", ".join(f"{d['id']} ({d.get('name', '')})" for d in sources) or "none"
                    raise PermanentError(f"The database has {len(sources)} data sources ({listed}): pick one with "
                                         "--data-source ID.")
                ds_id = sources[0]["id"]
            elif ds_id not in {d["id"] for d in sources}:
                raise PermanentError(f"Data source {ds_id} is not in database {database_id}.")
        ds = api.data_source(ds_id)
        title = title or plain({"type": "title", "title": ds.get("title") or []}) or ""
        mapping = build_mapping(ds, overrides=overrides)
        added = False
        if mapping.onno_id is None and ONNO_ID not in (ds.get("properties") or {}):
            try:  # the stable id on each card is what makes a retry after a crash safe
                ds = api.add_properties(ds_id, {ONNO_ID: {"rich_text": {}}})
                mapping, added = build_mapping(ds, overrides=overrides), True
            except PermanentError as exc:
                log.warning("could not add the %r property to the board: %s", ONNO_ID, exc.reason)
        with app.session() as s:
            conn = new_connection(s, app, workspace_id, name)
            conn.token_encrypted = encrypt_token(app.settings.resolved_secret_key, token)
            conn.refresh_encrypted = (encrypt_token(app.settings.resolved_secret_key, refresh_token)
                                      if refresh_token else None)
            conn.bot_id = bot.get("id")
            conn.notion_workspace = (bot.get("bot") or {}).get("workspace_name")
            conn.database_id, conn.data_source_id, conn.board_title = database_id, ds_id, title[:500]
            conn.mapping, conn.overrides = mapping.to_dict(), overrides
            conn.status, conn.broken_reason, conn.broken_at = "ok", None, None
            conn.pull_started_at = None  # (re)connected: read the whole board, as this token sees it
            s.flush()
            connection_id = conn.id
        report = Board(app, api, connection_id).pull()
    return Connected(name=name, database_id=database_id, data_source_id=ds_id, board_title=title,
                     mapping_lines=mapping.describe(), sync_summary=report.summary(), added_onno_id=added)


def create_board(app, workspace_id: int, *, parent: str, token: str | None = None, title: str = BOARD_TITLE,
                 name: str = "default", refresh_token: str | None = None) -> Connected:
    """Make a ready board database under a page the integration can see, and connect it."""
    if not token:
        with app.session() as s:
            conn = get_connection(s, workspace_id, name)
            if conn is None:
                raise PermanentError("No Notion token: pass --token (or NOTION_TOKEN), or connect first.")
            token = decrypt_token(app.settings.resolved_secret_key, conn.token_encrypted)
            if conn.refresh_encrypted:  # the connection's own OAuth token: it stays renewable
                refresh_token = decrypt_token(app.settings.resolved_secret_key, conn.refresh_encrypted)
    parent_id = _id(parent, "page")
    check_room(app, workspace_id, name)  # before a board is made in Notion that we could not connect
    with make_api(app.settings, token) as api:
        try:
            db = api.create_database(parent_id, title, board_properties("status"))
        except NotFound as exc:
            raise PermanentError(f"Notion has no page {parent_id} that this integration can see: open the page, "
                                 "••• → Connections, and add the integration.", status=404) from exc
        except PermanentError as exc:
            if exc.status != 400:
                raise
            # API versions that cannot create status properties: a select with the same three options.
            log.info("status property refused (%s); making Status a select", exc.reason)
            db = api.create_database(parent_id, title, board_properties("select"))
    return connect(app, workspace_id, token=token, database=db["id"], name=name,
                   data_source=db["data_sources"][0]["id"], refresh_token=refresh_token)


def sync(app, workspace_id: int, name: str = "default"):
    """Pull the board now: cards moved or edited in Notion update our tickets."""
    from integrations.notion.board import Board

    with connection_api(app, workspace_id, name) as (connection_id, api):
        board = Board(app, api, connection_id)
        board.refresh_schema()
        return board.pull()


def pull_stale(app, every: float) -> int:
    """Pull each working board not pulled for `every` seconds (the sweeper's periodic pull); returns how many.

    Each board is claimed by moving its pull time first, so of several sweepers one pulls it."""
    from sqlalchemy import or_, select, update

    from storage.models import utcnow

    cutoff = utcnow() - dt.timedelta(seconds=every)
    stale = or_(NotionConnection.last_synced_at.is_(None), NotionConnection.last_synced_at < cutoff)
    with app.session() as s:
        due = list(s.execute(select(NotionConnection.id, NotionConnection.workspace_id, NotionConnection.name)
                             .where(NotionConnection.status == "ok", stale)))
    pulled = 0
    for connection_id, workspace_id, name in due:
        with app.session() as s:
            claimed = s.execute(update(NotionConnection).where(NotionConnection.id == connection_id, stale)
                                .values(last_synced_at=utcnow())).rowcount == 1
        if not claimed:
            continue
        try:
            sync(app, workspace_id, name)
            pulled += 1
        except (PermanentError, TransientError) as exc:  # broken (told once) or busy: the next round tries again
            log.info("periodic pull of Notion board %r skipped: %s", name, exc.reason)
    return pulled


def status(app, workspace_id: int) -> list[dict]:
    """Every connection of the workspace, as `onno notion status` shows it."""
    from integrations.notion.schema import Mapping
    from integrations.notion.store import cards

    out = []
    with app.session() as s:
        for conn in list_connections(s, workspace_id):
            rows = cards(s, conn.id)
            out.append({
                "name": conn.name, "status": conn.status, "broken_reason": conn.broken_reason,
                "broken_at": conn.broken_at.isoformat(timespec="seconds") if conn.broken_at else None,
                "board": conn.board_title, "database_id": conn.database_id, "data_source_id": conn.data_source_id,
                "notion_workspace": conn.notion_workspace,
                "last_synced_at": conn.last_synced_at.isoformat(timespec="seconds") if conn.last_synced_at else None,
                "cards": sum(1 for c in rows if c.page_id), "cards_from_meetings": sum(1 for c in rows if c.onno_id),
                "mapping": Mapping.from_dict(conn.mapping).describe() if conn.mapping else []})
    return out


def disconnect(app, workspace_id: int, name: str = "default") -> bool:
    with app.session() as s:
        conn = get_connection(s, workspace_id, name)
        if conn is None:
            return False
        s.delete(conn)
        return True
