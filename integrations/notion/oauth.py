"""Connecting Notion the one-click way: a public integration's OAuth, then the board picked from what was shared.

The flow (Notion's Authorization guide): our signed connect link → Notion's authorize page (owner=user, a
single-use state) → back to /notion/oauth/callback with a code → POST /v1/oauth/token (HTTP Basic with the
client id and secret) → the token, kept encrypted in the flow row until a board is chosen. The board is the
one the person shared or duplicated from our template when there is just one; else they pick it on a page
listing the shared data sources, or have a new board made in a shared page. Everything here is blocking:
the web routes run it in threads.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from notion_client.helpers import extract_notion_id

from core.errors import InputError
from integrations.errors import DeliveryError, PermanentError, TransientError
from integrations.notion import flows, service
from integrations.notion.api import NotFound, NotionAPI
from integrations.notion.grants import authorize_url, exchange_code
from integrations.notion.schema import plain
from integrations.notion.service import make_api
from integrations.notion.store import TokenUnreadable, decrypt_token, encrypt_token, list_connections

log = logging.getLogger(__name__)

NAME_CHARS = re.compile(r"[^a-z0-9_.-]+")


# -- what the person shared ----------------------------------------------------------------------------------------

@dataclass
class SharedBoard:
    data_source_id: str
    database_id: str
    title: str
    parent_page_id: str | None
    url: str | None = None


@dataclass
class SharedPage:
    page_id: str
    title: str


def _search(api: NotionAPI, kind: str) -> list[dict]:
    out: list[dict] = []
    cursor = None
    while True:
        kw: dict = {"filter": {"property": "object", "value": kind}, "page_size": 100}
        if cursor:
            kw["start_cursor"] = cursor
        page = api.call(f"list the {kind.replace('_', ' ')}s shared with Onno", api.client.search, **kw)
        out.extend(page.get("results", []))
        if not page.get("has_more") or len(out) >= 500:
            return out
        cursor = page.get("next_cursor")


def board_of(ds: dict) -> SharedBoard:
    """A data source object as the board it is."""
    return SharedBoard(data_source_id=ds["id"], database_id=(ds.get("parent") or {}).get("database_id") or ds["id"],
                       title=plain({"type": "title", "title": ds.get("title") or []}) or "Untitled",
                       parent_page_id=(ds.get("database_parent") or {}).get("page_id"), url=ds.get("url"))


def shared_boards(api: NotionAPI) -> list[SharedBoard]:
    """The data sources (boards) the token can see, as search lists them."""
    return [board_of(ds) for ds in _search(api, "data_source")
            if ds.get("object") == "data_source" and not ds.get("in_trash") and not ds.get("archived")]


def board_from_link(api: NotionAPI, link: str) -> SharedBoard:
    """The board a database (or data source) link or id names, as the token sees it."""
    found = extract_notion_id(link or "")
    if not found:
        raise PermanentError(f"{link!r} is not a Notion database link or id.")
    try:
        db = api.database(found)
    except NotFound:
        try:
            return board_of(api.data_source(found))
        except NotFound as exc:
            raise PermanentError(f"Notion has no database {found} that this integration can see: open it in "
                                 "Notion, ••• → Connections, and add the integration.", status=404) from exc
    sources = db.get("data_sources") or []
    if len(sources) != 1:
        listed = ", ".join(f"{d['id']} ({d.get('name', '')})" for d in sources) or "none"
        raise PermanentError(f"That database has {len(sources)} data sources ({listed}): give the id of the one "
                             "to use instead of the database's link.")
    return board_of(api.data_source(sources[0]["id"]))


def shared_pages(api: NotionAPI) -> list[SharedPage]:
    """Pages a new board can be made in: shared pages that are not themselves cards of a board."""
    pages = []
    for p in _search(api, "page"):
        if p.get("in_trash") or p.get("archived") or (p.get("parent") or {}).get("type") in ("data_source_id",
                                                                                            "database_id"):
            continue
        title = next((plain(v) for v in (p.get("properties") or {}).values() if v.get("type") == "title"), None)
        pages.append(SharedPage(page_id=p["id"], title=title or "Untitled"))
    return pages


def _plain_id(value: str | None) -> str:
    return (value or "").replace("-", "")


def template_board(boards: list[SharedBoard], template_id: str | None) -> SharedBoard | None:
    """The board in the template the person duplicated into their workspace (or the template itself)."""
    if not template_id:
        return None
    want = _plain_id(template_id)
    found = [b for b in boards if want in (_plain_id(b.database_id), _plain_id(b.parent_page_id),
                                           _plain_id(b.data_source_id))]
    return found[0] if len(found) == 1 else None


def choose_name(app, workspace_id: int, data_source_id: str, title: str, wanted: str | None = None) -> str:
    """The connection name for a board: the one it already has here (a reconnect keeps its cards), the one
    asked for, `default` while free, else a name made from the board's title."""
    with app.session() as s:
        conns = list_connections(s, workspace_id)
    for c in conns:
        if _plain_id(c.data_source_id) == _plain_id(data_source_id):
            return c.name
    if wanted:
        return wanted
    taken = {c.name for c in conns}
    if "default" not in taken:
        return "default"
    base = NAME_CHARS.sub("-", title.casefold()).strip("-._")[:90] or "board"
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name


def connect_shared(app, workspace_id: int, *, token: str, board: SharedBoard, wanted: str | None = None,
                   refresh_token: str | None = None) -> service.Connected:
    """Connect one shared board under the name `choose_name` gives it."""
    name = choose_name(app, workspace_id, board.data_source_id, board.title, wanted)
    return service.connect(app, workspace_id, token=token, database=board.database_id, name=name,
                           data_source=board.data_source_id, refresh_token=refresh_token)


# -- the flow, step by step ------------------------------------------------------------------------------------------

@dataclass
class Outcome:
    """What a step of the flow came to, for the page that shows it.

    kind: denied | expired | refused | unreachable | connected | pick | nothing_shared
    """

    kind: str
    message: str = ""
    hint: str = ""
    connected: service.Connected | None = None
    boards: list[SharedBoard] = field(default_factory=list)
    pages: list[SharedPage] = field(default_factory=list)
    pick_key: str | None = None
    notion_workspace: str | None = None
    connections: dict[str, str] = field(default_factory=dict)  # data source id (no dashes) -> connection name


def begin(app, workspace_id: int, name: str | None = None) -> str:
    """Record a new flow and give the Notion authorize URL to send the browser to."""
    with app.session() as s:
        flows.sweep(s)
        state = flows.start(s, workspace_id, name)
    return authorize_url(app.settings, state)


def callback(app, *, state: str, code: str | None, error: str | None) -> Outcome:
    """Notion sent the browser back: take the state (once), trade the code for a token, find the board."""
    with app.session() as s:
        flow = flows.take_state(s, state)
        flow_id, workspace_id, wanted = (flow.id, flow.workspace_id, flow.name) if flow else (None, None, None)
    if flow_id is None:
        return Outcome("expired", "This Notion sign-in link has expired or was already used.",
                       "Start again: /onno notion in Slack, then Connect Notion.")
    if error or not code:
        with app.session() as s:
            flows.finish(s, flow_id, "failed")
        if error == "access_denied":
            return Outcome("denied", "Notion was not connected: the access request was cancelled.",
                           "Nothing changed. To connect later, use /onno notion in Slack and press Connect Notion.")
        return Outcome("refused", f"Notion did not sign in ({error or 'no code came back'}).",
                       "Start again: /onno notion in Slack, then Connect Notion.")
    try:
        answer = exchange_code(app.settings, code)
    except DeliveryError as exc:
        with app.session() as s:
            flows.finish(s, flow_id, "failed")
        log.warning("notion oauth: token exchange failed: %s", exc.reason)
        kind = "unreachable" if isinstance(exc, TransientError) else "refused"
        return Outcome(kind, exc.reason, "Start again: /onno notion in Slack, then Connect Notion.")
    token, refresh_token = answer["access_token"], answer.get("refresh_token") or None
    key = app.settings.resolved_secret_key
    with app.session() as s:
        pick_key = flows.authorized(s, flow_id, token_encrypted=encrypt_token(key, token),
                                    refresh_encrypted=encrypt_token(key, refresh_token) if refresh_token else None,
                                    notion_workspace=answer.get("workspace_name"),
                                    duplicated_template_id=answer.get("duplicated_template_id"))
    return _offer(app, flow_id, workspace_id, token, pick_key, wanted=wanted,
                  template_id=answer.get("duplicated_template_id"), notion_workspace=answer.get("workspace_name"),
                  auto=True, refresh_token=refresh_token)


def _offer(app, flow_id: int, workspace_id: int, token: str, pick_key: str, *, wanted: str | None,
           template_id: str | None, notion_workspace: str | None, auto: bool, problem: str = "",
           hint: str = "", refresh_token: str | None = None) -> Outcome:
    """Connect the one board there is (when `auto`), else the page to pick one."""
    try:
        with make_api(app.settings, token, max_wait=5.0) as api:
            boards = shared_boards(api)
            pages = shared_pages(api)
    except DeliveryError as exc:
        return Outcome("unreachable", f"Notion could not list what you shared: {exc.reason}",
                       "Start again in a minute: /onno notion in Slack, then Connect Notion.")
    chosen = template_board(boards, template_id) if template_id else boards[0] if len(boards) == 1 else None
    if auto and chosen is not None:
        done = _connect(app, flow_id, workspace_id, token, chosen, wanted, refresh_token)
        if isinstance(done, Outcome):
            problem, hint = done.message, done.hint
        else:
            return Outcome("connected", connected=done, notion_workspace=notion_workspace)
    with app.session() as s:
        named = {_plain_id(c.data_source_id): c.name for c in list_connections(s, workspace_id)}
    kind = "pick" if boards or pages else "nothing_shared"
    return Outcome(kind, problem, hint, boards=boards, pages=pages, pick_key=pick_key,
                   notion_workspace=notion_workspace, connections=named)


def _connect(app, flow_id: int, workspace_id: int, token: str, board: SharedBoard, wanted: str | None,
             refresh_token: str | None):
    """service.Connected, or an Outcome saying why not (the flow stays open to pick another board)."""
    try:
        done = connect_shared(app, workspace_id, token=token, board=board, wanted=wanted, refresh_token=refresh_token)
    except InputError as exc:  # the plan's board limit
        return Outcome("pick", exc.problem, exc.hint)
    except DeliveryError as exc:
        return Outcome("pick", f"{board.title!r} could not be connected: {exc.reason}", "Pick another board, or "
                       "have a new one made.")
    with app.session() as s:
        flows.finish(s, flow_id)
    return done


def pick(app, pick_key: str, *, data_source_id: str | None = None, parent_page_id: str | None = None,
         title: str | None = None) -> Outcome:
    """The button on the board page: connect that board, or make a new one in that page and connect it."""
    with app.session() as s:
        flow = flows.take_pick(s, pick_key)
        if flow is None:
            return Outcome("expired", "This board choice has expired or was already made.",
                           "Start again: /onno notion in Slack, then Connect Notion.")
        flow_id, workspace_id, wanted, stored = flow.id, flow.workspace_id, flow.name, flow.token_encrypted
        template_id, notion_workspace = flow.duplicated_template_id, flow.notion_workspace
        stored_refresh = flow.refresh_encrypted
    try:
        token = decrypt_token(app.settings.resolved_secret_key, stored or "")
        refresh_token = decrypt_token(app.settings.resolved_secret_key, stored_refresh) if stored_refresh else None
    except TokenUnreadable:
        with app.session() as s:
            flows.finish(s, flow_id, "failed")
        return Outcome("expired", "This board choice can no longer be read (the server's key changed).",
                       "Start again: /onno notion in Slack, then Connect Notion.")
    problem = hint = ""
    # ids from the form go into request paths: only well-formed Notion ids do
    data_source_id = extract_notion_id(data_source_id or "") or None
    parent_page_id = extract_notion_id(parent_page_id or "") or None
    if parent_page_id:
        name = wanted or choose_name(app, workspace_id, "", title or service.BOARD_TITLE)
        try:
            done = service.create_board(app, workspace_id, parent=parent_page_id, token=token,
                                        title=(title or service.BOARD_TITLE)[:200], name=name,
                                        refresh_token=refresh_token)
        except InputError as exc:
            problem, hint = exc.problem, exc.hint
        except DeliveryError as exc:
            problem, hint = f"No board was made: {exc.reason}", "Pick a board, or another page."
        else:
            with app.session() as s:
                flows.finish(s, flow_id)
            return Outcome("connected", connected=done, notion_workspace=notion_workspace)
    elif data_source_id:
        try:
            with make_api(app.settings, token, max_wait=5.0) as api:
                board = board_of(api.data_source(data_source_id))
        except DeliveryError as exc:
            problem, hint = f"That board cannot be read: {exc.reason}", "Pick another one."
        else:
            done = _connect(app, flow_id, workspace_id, token, board, wanted, refresh_token)
            if not isinstance(done, Outcome):
                return Outcome("connected", connected=done, notion_workspace=notion_workspace)
            problem, hint = done.message, done.hint
    with app.session() as s:
        flows.release(s, flow_id)
    return _offer(app, flow_id, workspace_id, token, pick_key, wanted=wanted, template_id=template_id,
                  notion_workspace=notion_workspace, auto=False, problem=problem, hint=hint,
                  refresh_token=refresh_token)
