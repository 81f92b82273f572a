"""A local HTTP server playing Notion's API (version 2025-09-03) for tests and the benchmark.

It keeps workspaces' boards in memory and checks every request as the real API does: the Notion-Version
header, the bearer token, databases created under pages, pages created under a data source, property values
of the type the schema says (status options that exist, people who exist), filter syntax per property type,
page sizes, timestamp filters on `last_edited_time` with an ISO 8601 date. A page's `last_edited_time` is
rounded down to the minute, as Notion's is, so a pull that filters by it must reach back a minute. What it refuses it answers with Notion's error body (400 validation_error, 401, 404 ...) and
also records in `violations`, so a test can assert that nothing we sent was malformed. Faults on demand:
429/529 with Retry-After, 5xx, a revoked token, a deleted database, a create that is carried out but never
answered (the connection drops), or one that blocks until released (for killing the client mid-request).

It also plays a public integration's OAuth: Notion's authorize page (the person's choice is set beforehand
with `user_will`: approve or cancel, which pages and boards to share, a template to duplicate), and
POST /v1/oauth/token, checked as Notion checks it (HTTP Basic client credentials, grant_type, a single-use
code, the same redirect_uri). A token made that way sees only what the person shared, and /v1/search lists
exactly that. It comes with a refresh token: `expire(access_token)` makes the access token answer 401 as an
expired one does, and the refresh_token grant trades the refresh token for a new pair, rotating it (the old
refresh token and access token then stop working; a spent, unknown or revoked one is 400 invalid_grant). An
access token taken away otherwise (`revoke`, or removed from `tokens` by a test) is revoked: the person removed
the connection in Notion, and its refresh token goes with it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
import uuid
from base64 import b64decode
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode

VERSION = "2025-09-03"
UUID = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$")
SCHEMA_TYPES = {"title", "rich_text", "number", "select", "multi_select", "status", "date", "people", "files",
                "checkbox", "url", "email", "phone_number", "formula", "relation", "rollup", "created_time",
                "created_by", "last_edited_time", "last_edited_by", "unique_id"}
TEXT_CONDITIONS = {"equals", "does_not_equal", "contains", "does_not_contain", "starts_with", "ends_with",
                   "is_empty", "is_not_empty"}
FILTER_CONDITIONS = {
    "title": TEXT_CONDITIONS, "rich_text": TEXT_CONDITIONS, "url": TEXT_CONDITIONS,
    "select": {"equals", "does_not_equal", "is_empty", "is_not_empty"},
    "status": {"equals", "does_not_equal", "is_empty", "is_not_empty"},
    "people": {"contains", "does_not_contain", "is_empty", "is_not_empty"},
    "date": {"equals", "before", "after", "on_or_before", "on_or_after", "is_empty", "is_not_empty"},
    "unique_id": {"equals", "does_not_equal", "greater_than", "less_than", "greater_than_or_equal_to",
                  "less_than_or_equal_to"},
}
BLOCK_TYPES = {"paragraph", "quote", "bulleted_list_item", "numbered_list_item", "heading_1", "heading_2",
               "heading_3", "callout", "to_do"}
DEFAULT_STATUS = [("Not started", "To-do", "default"), ("In progress", "In progress", "blue"),
                  ("Done", "Complete", "green")]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class OAuthError(Exception):
    """An answer of the token endpoint in OAuth's own shape: {"error": ..., "error_description": ...}."""

    def __init__(self, status: int, error: str, description: str):
        super().__init__(description)
        self.status, self.error, self.description = status, error, description


@dataclass
class Grant:
    """What the person does on Notion's authorize page, and the code it leads to."""

    approve: bool = True
    share: tuple[str, ...] = ()  # ids of pages and databases shared with the integration
    duplicate_template: bool = False
    client_id: str = ""
    redirect_uri: str | None = None
    used: bool = False
    template_id: str | None = None


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def edited_iso() -> str:
    """Now as a page's last_edited_time: Notion rounds it down to the minute."""
    return dt.datetime.now(dt.UTC).replace(second=0, microsecond=0).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def shift_iso(stamp: str, delta: dt.timedelta) -> str:
    return (parse_iso(stamp) + delta).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(stamp: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def norm(object_id: str) -> str:
    """Notion takes ids with or without dashes."""
    if not UUID.match(object_id or ""):
        raise ApiError(400, "validation_error", f"path failed validation: {object_id!r} should be a valid uuid")
    h = object_id.replace("-", "")
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def text_items(content: str) -> list[dict]:
    return [{"type": "text", "text": {"content": content, "link": None},
             "annotations": {"bold": False, "italic": False, "strikethrough": False, "underline": False,
                             "code": False, "color": "default"}, "plain_text": content, "href": None}]


@dataclass
class Fault:
    method: str
    path: re.Pattern
    status: int
    code: str
    retry_after: str | None
    times: int


@dataclass
class FakeNotion:
    """The state of one fake Notion: users, pages that can hold boards, databases, data sources, cards."""

    tokens: set[str] = field(default_factory=set)
    users: list[dict] = field(default_factory=list)
    parent_pages: set[str] = field(default_factory=set)
    page_titles: dict[str, str] = field(default_factory=dict)
    oauth_clients: dict[str, tuple[str, set[str]]] = field(default_factory=dict)  # id -> (secret, redirect URIs)
    grants: dict[str, set[str]] = field(default_factory=dict)  # OAuth token -> ids the person shared
    codes: dict[str, Grant] = field(default_factory=dict)
    oauth_errors: list[str] = field(default_factory=list)  # token requests refused, as "error: description"
    refresh_tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # issued -> (client id, access)
    expired: set[str] = field(default_factory=set)  # access tokens past their time (renewable, unlike revoked)
    hold_refresh: int = 0  # refresh grants whose answer waits for `refresh_release` (to make refreshes overlap)
    refresh_arrived: threading.Event = field(default_factory=threading.Event)
    refresh_release: threading.Event = field(default_factory=threading.Event)
    databases: dict[str, dict] = field(default_factory=dict)
    data_sources: dict[str, dict] = field(default_factory=dict)
    pages: dict[str, dict] = field(default_factory=dict)
    requests: list[dict] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    reject_status_creation: bool = False  # as API versions that cannot create status properties
    drop_after_create: int = 0  # creates carried out whose answer is never sent (the connection drops)
    block_after_create: int = 0  # creates carried out whose answer waits for `release` (kill the client then)
    created_event: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self):
        self.lock = threading.RLock()
        self.bot = {"object": "user", "id": new_id(), "type": "bot", "name": "Onno",
                    "bot": {"owner": {"type": "workspace", "workspace": True}, "workspace_name": "Acme"}}
        self.workspace_id = new_id()
        self._unique = 0
        self._token: str | None = None  # whose request is being answered (None: the test itself, sees all)
        self._next = Grant()

    # -- setting up -----------------------------------------------------------------------------------------

    def add_token(self, token: str = "ntn_test_secret") -> str:
        self.tokens.add(token)
        return token

    def add_user(self, name: str, email: str | None = None) -> str:
        user = {"object": "user", "id": new_id(), "type": "person", "name": name, "avatar_url": None,
                "person": {"email": email or f"{name.split()[0].lower()}@example.com"}}
        self.users.append(user)
        return user["id"]

    def add_parent_page(self, title: str = "Team wiki") -> str:
        page_id = new_id()
        self.parent_pages.add(page_id)
        self.page_titles[page_id] = title
        return page_id

    def add_board(self, properties: dict | None = None, title: str = "Team board") -> tuple[str, str]:
        """A database with one data source, as a team made it in Notion; (database id, data source id)."""
        properties = properties or {"Name": {"title": {}}, "Status": {"status": {}}, "Assignee": {"people": {}},
                                    "Due": {"date": {}}}
        db = self._create_database(self.add_parent_page(), title, properties, check=False)
        return db["id"], db["data_sources"][0]["id"]

    def add_card(self, data_source_id: str, title: str, status: str | None = None, **values) -> str:
        """A card a person made in Notion; `values`: property name -> request-shaped value."""
        ds = self.data_sources[data_source_id]
        title_prop = next(n for n, p in ds["properties"].items() if p["type"] == "title")
        props = {title_prop: {"title": [{"text": {"content": title}}]}}
        if status is not None:
            status_prop = next(n for n, p in ds["properties"].items() if p["type"] in ("status", "select"))
            props[status_prop] = {ds["properties"][status_prop]["type"]: {"name": status}}
        props.update(values)
        with self.lock:
            return self._create_page({"parent": {"type": "data_source_id", "data_source_id": data_source_id},
                                      "properties": props})["id"]

    def move(self, page_id: str, option: str) -> None:
        """A person drags the card to another column in Notion."""
        page = self.pages[page_id]
        ds = self.data_sources[page["parent"]["data_source_id"]]
        name = next(n for n, p in ds["properties"].items() if p["type"] in ("status", "select"))
        with self.lock:
            self._set_properties(page, ds, {name: {ds["properties"][name]["type"]: {"name": option}}})

    def rename(self, page_id: str, title: str) -> None:
        page = self.pages[page_id]
        ds = self.data_sources[page["parent"]["data_source_id"]]
        name = next(n for n, p in ds["properties"].items() if p["type"] == "title")
        with self.lock:
            self._set_properties(page, ds, {name: {"title": [{"text": {"content": title}}]}})

    def trash(self, page_id: str) -> None:
        """A person deletes the card (it goes to Notion's trash: queries no longer return it)."""
        with self.lock:
            self.pages[page_id]["in_trash"] = True
            self.pages[page_id]["last_edited_time"] = edited_iso()

    def backdate(self, delta: dt.timedelta) -> None:
        """Every card made and last edited `delta` earlier: a board the team has used for a while."""
        with self.lock:
            for page in self.pages.values():
                page["created_time"] = shift_iso(page["created_time"], -delta)
                page["last_edited_time"] = shift_iso(page["last_edited_time"], -delta)

    def remove_property(self, data_source_id: str, name: str) -> None:
        """A person deletes a column of the board."""
        with self.lock:
            self.data_sources[data_source_id]["properties"].pop(name)
            for page in self.pages.values():
                page["properties"].pop(name, None)

    def delete_database(self, database_id: str) -> None:
        with self.lock:
            db = self.databases.pop(database_id)
            for source in db["data_sources"]:
                self.data_sources.pop(source["id"], None)

    def fail(self, method: str, path: str, status: int, *, retry_after: float | str | None = None,
             code: str | None = None, times: int = 1) -> None:
        """The next `times` requests matching METHOD and the path pattern get `status`."""
        code = code or {429: "rate_limited", 529: "service_unavailable", 500: "internal_server_error",
                        503: "service_unavailable", 409: "conflict_error"}.get(status, "internal_server_error")
        self.faults.append(Fault(method, re.compile(path), status, code,
                                 None if retry_after is None else str(retry_after), times))

    # -- a public integration's OAuth -----------------------------------------------------------------------

    def add_oauth_client(self, redirect_uri: str, client_id: str = "onno-public-client",
                         secret: str = "onno-client-secret") -> tuple[str, str]:
        """A public integration as made in Notion's developer portal, with its one redirect URI."""
        self.oauth_clients[client_id] = (secret, {redirect_uri})
        return client_id, secret

    def user_will(self, *, approve: bool = True, share: tuple[str, ...] | list[str] = (),
                  duplicate_template: bool = False) -> None:
        """What the person does on the next authorize page: allow (sharing these pages and databases, or
        duplicating the integration's template into their workspace) or cancel."""
        self._next = Grant(approve=approve, share=tuple(share), duplicate_template=duplicate_template)

    def authorize(self, query: dict) -> tuple[int, str]:
        """Notion's authorize page after the person's choice: (302, where the browser goes) or (400, why).

        Like Notion it sends nobody back to a redirect URI it does not know for the client: those are 400s.
        """
        client = self.oauth_clients.get(query.get("client_id", ""))
        if client is None:
            return 400, "Missing or invalid client_id."
        redirect = query.get("redirect_uri")
        if redirect is not None and redirect not in client[1]:
            return 400, f"redirect_uri {redirect!r} is not one of this integration's redirect URIs."
        target = redirect or next(iter(client[1]))
        back = {"state": query["state"]} if "state" in query else {}
        if query.get("response_type") != "code":
            return 302, f"{target}?{urlencode({'error': 'unsupported_response_type', **back})}"
        if query.get("owner") != "user":
            return 302, f"{target}?{urlencode({'error': 'invalid_request', **back})}"
        grant, self._next = self._next, Grant()
        if not grant.approve:
            return 302, f"{target}?{urlencode({'error': 'access_denied', **back})}"
        with self.lock:
            share = set(norm(i) for i in grant.share)
            if grant.duplicate_template:  # the template page lands in their workspace with a board in it
                page_id = self.add_parent_page("Onno meetings")
                self._create_database(page_id, "Meeting action items", {
                    "Name": {"title": {}}, "Status": {"status": {}}, "Assignee": {"people": {}},
                    "Due date": {"date": {}}}, check=False)
                grant.template_id = page_id
                share.add(page_id)
            grant.share = tuple(share)
        grant.client_id, grant.redirect_uri = query["client_id"], redirect
        code = f"code-{uuid.uuid4().hex}"
        self.codes[code] = grant
        return 302, f"{target}?{urlencode({'code': code, **back})}"

    def expire(self, access_token: str) -> None:
        """The access token's time is up: Notion answers it 401 unauthorized; its refresh token still works."""
        with self.lock:
            self.tokens.discard(access_token)
            self.expired.add(access_token)

    def revoke(self, access_token: str) -> None:
        """The person removes the connection in Notion: the access token and its refresh token both stop."""
        with self.lock:
            self.tokens.discard(access_token)
            self.expired.discard(access_token)
            for refresh, (_client, access) in list(self.refresh_tokens.items()):
                if access == access_token:
                    del self.refresh_tokens[refresh]

    def oauth_token(self, headers, body: dict | None) -> dict:
        """POST /v1/oauth/token: a code (or a refresh token) for an access token, or OAuth's error answer."""
        scheme, _, encoded = (headers.get("Authorization") or "").partition(" ")
        try:
            client_id, _, secret = b64decode(encoded).decode().partition(":") if scheme == "Basic" else ("", "", "")
        except ValueError:
            client_id = secret = ""
        client = self.oauth_clients.get(client_id)
        if client is None or client[0] != secret:
            raise OAuthError(401, "invalid_client", "Client authentication failed: HTTP Basic with the "
                             "integration's client id and secret.")
        body = body if isinstance(body, dict) else {}
        if body.get("grant_type") == "refresh_token":
            return self._refresh(client_id, body)
        if body.get("grant_type") != "authorization_code":
            raise OAuthError(400, "unsupported_grant_type", f"grant_type {body.get('grant_type')!r} is not "
                             "supported here; use authorization_code or refresh_token.")
        grant = self.codes.get(body.get("code") or "")
        if grant is None or grant.client_id != client_id:
            raise OAuthError(400, "invalid_grant", "Invalid code.")
        if grant.used:
            raise OAuthError(400, "invalid_grant", "Invalid code: this code has been used.")
        if grant.redirect_uri is not None and body.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match the one of the authorization.")
        if grant.redirect_uri is None and "redirect_uri" in body:
            raise OAuthError(400, "invalid_request", "redirect_uri is not allowed: the authorization had none.")
        grant.used = True
        token = f"ntn_oauth_{uuid.uuid4().hex}"
        self.tokens.add(token)
        self.grants[token] = set(grant.share)
        return self._token_answer(client_id, token, grant.template_id)

    def _refresh(self, client_id: str, body: dict) -> dict:
        """The refresh_token grant: {grant_type, refresh_token} and nothing else; the pair rotates."""
        extra = set(body) - {"grant_type", "refresh_token"}
        if extra or not isinstance(body.get("refresh_token"), str):
            raise OAuthError(400, "invalid_request", f"A refresh takes grant_type and refresh_token only (got "
                             f"{sorted(body)}).")
        live = self.refresh_tokens.get(body["refresh_token"])
        if live is None or live[0] != client_id or (live[1] not in self.tokens and live[1] not in self.expired):
            raise OAuthError(400, "invalid_grant", "Invalid refresh token: it was revoked, expired or already used.")
        del self.refresh_tokens[body["refresh_token"]]
        old = live[1]
        self.tokens.discard(old)
        self.expired.discard(old)
        token = f"ntn_oauth_{uuid.uuid4().hex}"
        self.tokens.add(token)
        self.grants[token] = self.grants.pop(old, set())
        return self._token_answer(client_id, token, None)

    def _token_answer(self, client_id: str, token: str, template_id: str | None) -> dict:
        """The token endpoint's answer (the same for a code and a refresh), with a new refresh token."""
        refresh = f"nrt_{uuid.uuid4().hex}"
        self.refresh_tokens[refresh] = (client_id, token)
        person = next((u for u in self.users if u["type"] == "person"), None) or {
            "object": "user", "id": new_id(), "type": "person", "name": "Maya Cohen", "avatar_url": None,
            "person": {"email": "maya@example.com"}}
        return {"access_token": token, "token_type": "bearer", "refresh_token": refresh,
                "bot_id": self.bot["id"], "workspace_id": self.workspace_id,
                "workspace_name": self.bot["bot"]["workspace_name"], "workspace_icon": "https://www.notion.so/icon.png",
                "owner": {"type": "user", "user": person}, "duplicated_template_id": template_id,
                "request_id": new_id()}

    # what a token may see: everything for an internal token (the tests share boards by hand), only what the
    # person shared on the authorize page (and what lies inside it) for an OAuth token

    def _sees(self, object_id: str) -> bool:
        shared = self.grants.get(self._token) if self._token else None
        return shared is None or object_id in shared

    def _sees_database(self, db: dict) -> bool:
        return self._sees(db["id"]) or self._sees(db["parent"].get("page_id", ""))

    def _sees_data_source(self, ds: dict) -> bool:
        db = self.databases.get(ds["parent"]["database_id"])
        return db is not None and self._sees_database(db)

    def _sees_card(self, page: dict) -> bool:
        ds = self.data_sources.get(page["parent"]["data_source_id"])
        return ds is not None and self._sees_data_source(ds)

    # -- reading back ---------------------------------------------------------------------------------------

    def cards(self, data_source_id: str) -> list[dict]:
        return [p for p in self.pages.values() if p["parent"]["data_source_id"] == data_source_id
                and not p["in_trash"]]

    def value(self, page: dict, name: str):
        """A property's value, simplified: text as str, status/select name, people ids, date start, url."""
        prop = page["properties"][name]
        kind, value = prop["type"], prop[prop["type"]]
        if kind in ("title", "rich_text"):
            return "".join(t["plain_text"] for t in value)
        if kind in ("status", "select"):
            return value["name"] if value else None
        if kind == "people":
            return [u["id"] for u in value]
        if kind == "date":
            return value["start"] if value else None
        return value

    def calls(self, method: str | None = None, path: str = "") -> list[dict]:
        return [r for r in self.requests if (method is None or r["method"] == method) and re.search(path, r["path"])]

    # -- the API --------------------------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict, headers, body: dict | None) -> tuple[int, dict, dict]:
        """(status, body, extra headers) for one request."""
        if headers.get("Notion-Version") != VERSION:
            raise ApiError(400, "missing_version" if not headers.get("Notion-Version") else "validation_error",
                           f"Notion-Version must be {VERSION}, got {headers.get('Notion-Version')!r}")
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and fault.path.search(path):
                fault.times -= 1
                extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                return fault.status, error_body(fault.status, fault.code, "Fault injected by the test."), extra
        if method == "POST" and path == "/v1/oauth/token":
            if (body or {}).get("grant_type") == "refresh_token":
                self.refresh_arrived.set()
                if self.hold_refresh > 0:  # answered only once the test lets it (other requests go on meanwhile)
                    self.hold_refresh -= 1
                    self.refresh_release.wait(60)
            with self.lock:
                return 200, self.oauth_token(headers, body), {}
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.tokens:
            raise ApiError(401, "unauthorized", "API token is invalid.")
        with self.lock:
            self._token = auth[7:]
            try:
                return self._route(method, path, query, body)
            finally:
                self._token = None

    def _route(self, method: str, path: str, query: dict, body: dict | None) -> tuple[int, dict, dict]:
        route = path.removeprefix("/v1")
        if method == "POST" and route == "/search":
            return 200, self._search(body or {}), {}
        if method == "GET" and route == "/users/me":
            return 200, self.bot, {}
        if method == "GET" and route == "/users":
            return 200, self._list(self.users + [self.bot], query, kind="user"), {}
        if method == "POST" and route == "/databases":
            return 200, self._create_database_request(body), {}
        if method == "GET" and (m := re.fullmatch(r"/databases/([^/]+)", route)):
            return 200, self._database(norm(m[1])), {}
        if m := re.fullmatch(r"/data_sources/([^/]+)", route):
            ds = self._data_source(norm(m[1]))
            if method == "GET":
                return 200, ds, {}
            if method == "PATCH":
                return 200, self._update_data_source(ds, body), {}
        if method == "POST" and (m := re.fullmatch(r"/data_sources/([^/]+)/query", route)):
            return 200, self._query(self._data_source(norm(m[1])), body or {}, query), {}
        if method == "POST" and route == "/pages":
            return 200, self._create_page(body), {}
        if m := re.fullmatch(r"/pages/([^/]+)", route):
            page = self._page(norm(m[1]))
            if method == "GET":
                return 200, page, {}
            if method == "PATCH":
                return 200, self._update_page(page, body), {}
        if re.fullmatch(r"/databases/([^/]+)/query", route):
            raise ApiError(400, "invalid_request_url", "Invalid request URL: with 2025-09-03 query "
                           "/v1/data_sources/{id}/query")
        raise ApiError(400, "invalid_request_url", f"Invalid request URL: {method} {path}")

    # databases and data sources

    def _database(self, database_id: str) -> dict:
        if database_id not in self.databases or not self._sees_database(self.databases[database_id]):
            raise ApiError(404, "object_not_found", f"Could not find database with ID: {database_id}. Make sure "
                           "the relevant pages and databases are shared with your integration.")
        return self.databases[database_id]

    def _data_source(self, data_source_id: str) -> dict:
        if data_source_id not in self.data_sources or not self._sees_data_source(self.data_sources[data_source_id]):
            raise ApiError(404, "object_not_found", f"Could not find data_source with ID: {data_source_id}.")
        return self.data_sources[data_source_id]

    def _create_database_request(self, body: dict | None) -> dict:
        body = require_object(body, "body")
        parent = require_object(body.get("parent"), "body.parent")
        if parent.get("type") != "page_id" or "page_id" not in parent:
            raise ApiError(400, "validation_error", "body.parent.type should be `page_id` (a database is created "
                           "under a page)")
        page_id = norm(parent["page_id"])
        if page_id not in self.parent_pages or not self._sees(page_id):
            raise ApiError(404, "object_not_found", f"Could not find page with ID: {page_id}.")
        if "properties" in body:
            raise ApiError(400, "validation_error", "body.properties is not a field of create database in "
                           "2025-09-03: use body.initial_data_source.properties")
        title = "".join(rich_text_request(body.get("title", []), "body.title"))
        initial = require_object(body.get("initial_data_source"), "body.initial_data_source")
        return self._create_database(page_id, title, require_object(initial.get("properties"),
                                                                    "body.initial_data_source.properties"))

    def _create_database(self, page_id: str, title: str, properties: dict, *, check: bool = True) -> dict:
        schema = {}
        titles = 0
        for name, config in properties.items():
            config = require_object(config, f"properties.{name}")
            kinds = [k for k in config if k in SCHEMA_TYPES]
            if len(kinds) != 1 or set(config) - {kinds[0], "type", "description", "name"}:
                raise ApiError(400, "validation_error", f"properties.{name} should have exactly one property type")
            kind = kinds[0]
            titles += kind == "title"
            if kind == "status" and check and self.reject_status_creation:
                raise ApiError(400, "validation_error", "Creating new status database properties is currently "
                               "not supported.")
            schema[name] = self._schema_property(name, kind, config[kind] or {})
        if titles != 1:
            raise ApiError(400, "validation_error", "A data source must have exactly one title property.")
        db_id, ds_id, ts = new_id(), new_id(), now_iso()
        self.data_sources[ds_id] = {
            "object": "data_source", "id": ds_id, "created_time": ts, "last_edited_time": ts,
            "created_by": {"object": "user", "id": self.bot["id"]}, "title": text_items(title),
            "description": [], "properties": schema, "parent": {"type": "database_id", "database_id": db_id},
            "database_parent": {"type": "page_id", "page_id": page_id}, "archived": False, "in_trash": False,
            "is_inline": False, "icon": None, "cover": None, "url": f"https://www.notion.so/{ds_id.replace('-', '')}"}
        self.databases[db_id] = {
            "object": "database", "id": db_id, "title": text_items(title), "description": [],
            "parent": {"type": "page_id", "page_id": page_id}, "is_inline": False, "in_trash": False,
            "is_locked": False, "created_time": ts, "last_edited_time": ts,
            "data_sources": [{"id": ds_id, "name": title}], "icon": None, "cover": None,
            "url": f"https://www.notion.so/{db_id.replace('-', '')}", "public_url": None}
        return self.databases[db_id]

    def _schema_property(self, name: str, kind: str, config: dict) -> dict:
        prop = {"id": uuid.uuid4().hex[:4], "name": name, "type": kind, "description": None, kind: {}}
        if kind == "title":
            prop["id"] = "title"
        if kind in ("select", "multi_select"):
            prop[kind] = {"options": [{"id": new_id(), "name": o["name"], "color": o.get("color", "default"),
                                       "description": None} for o in config.get("options", [])]}
            if any("," in o["name"] for o in prop[kind]["options"]):
                raise ApiError(400, "validation_error", "Select option names cannot contain commas.")
        if kind == "status":
            options, groups = [], {}
            for option, group, color in DEFAULT_STATUS:
                oid = new_id()
                options.append({"id": oid, "name": option, "color": color, "description": None})
                groups.setdefault(group, []).append(oid)
            prop["status"] = {"options": options, "groups": [
                {"id": new_id(), "name": g, "color": "gray", "option_ids": ids} for g, ids in groups.items()]}
        if kind == "unique_id":
            prop["unique_id"] = {"prefix": config.get("prefix")}
        return prop

    def _update_data_source(self, ds: dict, body: dict | None) -> dict:
        body = require_object(body, "body")
        for name, config in require_object(body.get("properties", {}), "body.properties").items():
            if config is None:
                ds["properties"].pop(name, None)
                continue
            kinds = [k for k in config if k in SCHEMA_TYPES]
            if len(kinds) != 1:
                raise ApiError(400, "validation_error", f"body.properties.{name} should have one property type")
            if kinds[0] == "status":
                raise ApiError(400, "validation_error", "It is not possible to create a status property here.")
            ds["properties"][name] = self._schema_property(name, kinds[0], config[kinds[0]] or {})
            for page in self.pages.values():  # existing pages show the new property, empty
                if page["parent"]["data_source_id"] == ds["id"]:
                    page["properties"].setdefault(name, empty_value(ds["properties"][name]))
        ds["last_edited_time"] = now_iso()
        return ds

    # pages

    def _page(self, page_id: str) -> dict:
        page = self.pages.get(page_id)
        if page is None or not self._sees_card(page):
            raise ApiError(404, "object_not_found", f"Could not find page with ID: {page_id}.")
        return page

    def _create_page(self, body: dict | None) -> dict:
        body = require_object(body, "body")
        parent = require_object(body.get("parent"), "body.parent")
        if parent.get("type") == "database_id" or "database_id" in parent:
            raise ApiError(400, "validation_error", "body.parent: with 2025-09-03 create pages in a data source: "
                           "{\"type\": \"data_source_id\", \"data_source_id\": ...}")
        if parent.get("type") != "data_source_id" or "data_source_id" not in parent:
            raise ApiError(400, "validation_error", "body.parent.data_source_id should be defined")
        ds = self._data_source(norm(parent["data_source_id"]))
        unknown = set(body) - {"parent", "properties", "children", "icon", "cover", "content", "markdown",
                               "template", "position"}
        if unknown:
            raise ApiError(400, "validation_error", f"body has unknown fields: {sorted(unknown)}")
        for i, block in enumerate(body.get("children") or []):
            check_block(block, f"body.children[{i}]")
        ts, page_id = now_iso(), new_id()
        page = {"object": "page", "id": page_id, "created_time": ts, "last_edited_time": ts,
                "created_by": {"object": "user", "id": self.bot["id"]},
                "last_edited_by": {"object": "user", "id": self.bot["id"]}, "cover": None, "icon": None,
                "parent": {"type": "data_source_id", "data_source_id": ds["id"],
                           "database_id": ds["parent"]["database_id"]},
                "archived": False, "in_trash": False, "is_locked": False, "properties": {},
                "url": f"https://www.notion.so/{page_id.replace('-', '')}", "public_url": None,
                "children": body.get("children") or []}
        for name, prop in ds["properties"].items():
            page["properties"][name] = empty_value(prop)
            if prop["type"] == "unique_id":
                self._unique += 1
                page["properties"][name]["unique_id"] = {"prefix": prop["unique_id"]["prefix"],
                                                          "number": self._unique}
        title = next(n for n, p in ds["properties"].items() if p["type"] == "title")
        if title not in (body.get("properties") or {}):
            raise ApiError(400, "validation_error", f"body.properties.{title} (the title) should be defined")
        self._set_properties(page, ds, require_object(body.get("properties"), "body.properties"))
        self.pages[page_id] = page
        return page

    def _update_page(self, page: dict, body: dict | None) -> dict:
        body = require_object(body, "body")
        unknown = set(body) - {"properties", "in_trash", "archived", "icon", "cover", "is_locked"}
        if unknown:
            raise ApiError(400, "validation_error", f"body has unknown fields: {sorted(unknown)}")
        ds = self.data_sources[page["parent"]["data_source_id"]]
        self._set_properties(page, ds, require_object(body.get("properties", {}), "body.properties"))
        if "in_trash" in body:
            page["in_trash"] = bool(body["in_trash"])
            page["last_edited_time"] = edited_iso()
        return page

    def _set_properties(self, page: dict, ds: dict, values: dict) -> None:
        """Check each value against the schema's type, then store it as the API returns it."""
        out = {}
        for name, value in values.items():
            schema = ds["properties"].get(name) or next(
                (p for p in ds["properties"].values() if p["id"] == name), None)
            if schema is None:
                raise ApiError(400, "validation_error", f"{name} is not a property that exists.")
            value = require_object(value, f"body.properties.{name}")
            kind = schema["type"]
            given = [k for k in value if k != "type"]
            if given != [kind]:
                raise ApiError(400, "validation_error", f"body.properties.{name}.{kind} should be defined, instead "
                               f"was {given}: {name} is expected to be {kind}.")
            out[schema["name"]] = self._property_value(schema, value[kind], f"body.properties.{name}.{kind}")
        for name, value in out.items():
            page["properties"][name] = value
        page["last_edited_time"] = edited_iso()

    def _property_value(self, schema: dict, value, where: str) -> dict:
        kind = schema["type"]
        result = {"id": schema["id"], "type": kind}
        if kind in ("title", "rich_text"):
            result[kind] = text_items("".join(rich_text_request(value, where)))
        elif kind in ("status", "select"):
            if value is None:
                if kind == "status":
                    raise ApiError(400, "validation_error", f"{where} should be an object, instead was null")
                result[kind] = None
                return result
            value = require_object(value, where)
            name = value.get("name")
            options = schema[kind]["options"]
            option = next((o for o in options if o["name"] == name or o["id"] == value.get("id")), None)
            if option is None and kind == "status":
                raise ApiError(400, "validation_error", f"Invalid status option. Status option {name!r} does not "
                               "exist.")
            if option is None:
                if not isinstance(name, str) or not name or "," in name:
                    raise ApiError(400, "validation_error", f"{where}.name should be a string without commas")
                option = {"id": new_id(), "name": name, "color": "default", "description": None}
                options.append(option)  # writing a new select option creates it, as Notion does
            result[kind] = {"id": option["id"], "name": option["name"], "color": option["color"]}
        elif kind == "people":
            if not isinstance(value, list):
                raise ApiError(400, "validation_error", f"{where} should be an array")
            known = {u["id"]: u for u in self.users + [self.bot]}
            for user in value:
                if not isinstance(user, dict) or user.get("id") not in known:
                    raise ApiError(400, "validation_error", f"{where}: user {user!r} does not exist")
                if user.get("object", "user") != "user":
                    raise ApiError(400, "validation_error", f"{where}.object should be `user`")
            result[kind] = [{"object": "user", "id": u["id"]} for u in value]
        elif kind == "date":
            if value is not None:
                value = require_object(value, where)
                try:
                    dt.date.fromisoformat(value["start"][:10])
                except (KeyError, TypeError, ValueError) as exc:
                    raise ApiError(400, "validation_error", f"{where}.start should be an ISO 8601 date") from exc
                value = {"start": value["start"], "end": value.get("end"), "time_zone": value.get("time_zone")}
            result[kind] = value
        elif kind == "url":
            if value is not None and (not isinstance(value, str) or len(value) > 2000):
                raise ApiError(400, "validation_error", f"{where} should be a string (at most 2000) or null")
            result[kind] = value
        elif kind in ("created_time", "last_edited_time", "created_by", "last_edited_by", "unique_id", "formula",
                      "rollup"):
            raise ApiError(400, "validation_error", f"{where}: {kind} properties cannot be written")
        else:
            result[kind] = value
        return result

    # queries

    def _query(self, ds: dict, body: dict, query: dict) -> dict:
        unknown = set(body) - {"filter", "sorts", "start_cursor", "page_size", "archived", "in_trash",
                               "result_type"}
        if unknown:
            raise ApiError(400, "validation_error", f"body has unknown fields: {sorted(unknown)}")
        pages = [p for p in self.pages.values() if p["parent"]["data_source_id"] == ds["id"] and not p["in_trash"]]
        if body.get("filter") is not None:
            predicate = self._filter(ds, body["filter"], "body.filter", depth=0)
            pages = [p for p in pages if predicate(p)]
        pages.sort(key=lambda p: p["created_time"], reverse=True)
        return self._list(pages, body, kind="page_or_data_source")

    def _search(self, body: dict) -> dict:
        """POST /v1/search (2025-09-03): pages and data sources shared with the integration, titles matching."""
        unknown = set(body) - {"query", "sort", "filter", "start_cursor", "page_size"}
        if unknown:
            raise ApiError(400, "validation_error", f"body has unknown fields: {sorted(unknown)}")
        flt = body.get("filter")
        if flt is not None:
            flt = require_object(flt, "body.filter")
            if flt.get("property") != "object" or set(flt) != {"property", "value"}:
                raise ApiError(400, "validation_error", "body.filter.property should be `object`")
            if flt["value"] not in ("page", "data_source"):
                raise ApiError(400, "validation_error", "body.filter.value should be `page` or `data_source`, "
                               f"instead was `{flt['value']}`")
        sort = body.get("sort")
        if sort is not None and (not isinstance(sort, dict) or sort.get("timestamp") != "last_edited_time"
                                 or sort.get("direction") not in ("ascending", "descending")):
            raise ApiError(400, "validation_error", "body.sort should be {timestamp: last_edited_time, direction}")
        query = body.get("query") or ""
        if not isinstance(query, str):
            raise ApiError(400, "validation_error", "body.query should be a string")
        found: list[dict] = []
        if flt is None or flt["value"] == "data_source":
            found += [ds for ds in self.data_sources.values() if self._sees_data_source(ds) and not ds["in_trash"]]
        if flt is None or flt["value"] == "page":
            found += [self._page_object(p) for p in self.parent_pages if self._sees(p)]
            found += [p for p in self.pages.values() if not p["in_trash"] and self._sees_card(p)]
        if query:
            found = [o for o in found if query.casefold() in self._title_of(o).casefold()]
        found.sort(key=lambda o: o["last_edited_time"], reverse=(sort or {}).get("direction") != "ascending")
        return self._list(found, body, kind="page_or_data_source")

    def _page_object(self, page_id: str) -> dict:
        """A page that holds boards, as the API shows it (a top-level page of the workspace)."""
        ts = "2026-01-05T09:00:00.000Z"
        return {"object": "page", "id": page_id, "created_time": ts, "last_edited_time": ts, "in_trash": False,
                "archived": False, "parent": {"type": "workspace", "workspace": True},
                "properties": {"title": {"id": "title", "type": "title",
                                         "title": text_items(self.page_titles.get(page_id, "Untitled"))}},
                "url": f"https://www.notion.so/{page_id.replace('-', '')}"}

    @staticmethod
    def _title_of(obj: dict) -> str:
        if obj["object"] == "data_source":
            return "".join(t["plain_text"] for t in obj.get("title", []))
        prop = next((p for p in obj.get("properties", {}).values() if p.get("type") == "title"), None)
        return "".join(t["plain_text"] for t in prop["title"]) if prop else ""

    def _list(self, items: list[dict], params: dict, *, kind: str) -> dict:
        size = params.get("page_size", 100)
        try:
            size = int(size)
        except (TypeError, ValueError):
            size = -1
        if not 1 <= size <= 100:
            raise ApiError(400, "validation_error", "page_size should be a number between 1 and 100")
        start = int(params.get("start_cursor") or 0)
        chunk = items[start:start + size]
        more = start + size < len(items)
        return {"object": "list", "results": chunk, "next_cursor": str(start + size) if more else None,
                "has_more": more, "type": kind, kind: {}}

    def _filter(self, ds: dict, flt: dict, where: str, depth: int):
        flt = require_object(flt, where)
        for op in ("and", "or"):
            if op in flt:
                if len(flt) != 1 or not isinstance(flt[op], list):
                    raise ApiError(400, "validation_error", f"{where}.{op} should be an array, alone")
                if depth >= 2:
                    raise ApiError(400, "validation_error", f"{where}: compound filters nest at most two deep")
                parts = [self._filter(ds, f, f"{where}.{op}[{i}]", depth + 1) for i, f in enumerate(flt[op])]
                combine = all if op == "and" else any
                return lambda p, parts=parts, combine=combine: combine(f(p) for f in parts)
        if "timestamp" in flt:
            stamp = flt["timestamp"]
            if stamp not in ("created_time", "last_edited_time") or set(flt) != {"timestamp", stamp}:
                raise ApiError(400, "validation_error", f"{where}: timestamp filter on created_time or "
                               "last_edited_time, with a condition under that key")
            cond, arg = one_condition(flt[stamp], FILTER_CONDITIONS["date"], f"{where}.{stamp}")
            if cond not in ("is_empty", "is_not_empty"):
                check_date(arg, f"{where}.{stamp}.{cond}")
            return lambda p: compare_dates(p[stamp], cond, arg)
        name = flt.get("property")
        schema = ds["properties"].get(name) if isinstance(name, str) else None
        if schema is None:
            raise ApiError(400, "validation_error", f"Could not find property with name or id: {name}")
        kind = schema["type"]
        keys = set(flt) - {"property", "type"}
        if keys != {kind}:
            raise ApiError(400, "validation_error", f"{where}.{kind} should be defined for {name} ({kind}), "
                           f"instead was {sorted(keys)}")
        if kind not in FILTER_CONDITIONS:
            raise ApiError(400, "validation_error", f"{where}: cannot filter on a {kind} property here")
        cond, arg = one_condition(flt[kind], FILTER_CONDITIONS[kind], f"{where}.{kind}")
        return lambda p: match(self.value(p, schema["name"]) if kind != "unique_id"
                               else p["properties"][schema["name"]]["unique_id"]["number"], cond, arg)


def require_object(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise ApiError(400, "validation_error", f"{where} should be an object, instead was {type(value).__name__}")
    return value


def rich_text_request(items, where: str) -> list[str]:
    """The contents of a rich text array as a request must give it: [{"text": {"content": ...}}]."""
    if not isinstance(items, list) or len(items) > 100:
        raise ApiError(400, "validation_error", f"{where} should be an array of at most 100 rich text items")
    out = []
    for i, item in enumerate(items):
        item = require_object(item, f"{where}[{i}]")
        if item.get("type", "text") != "text" or not isinstance(item.get("text"), dict):
            raise ApiError(400, "validation_error", f"{where}[{i}].text should be defined")
        content = item["text"].get("content")
        if not isinstance(content, str) or len(content) > 2000:
            raise ApiError(400, "validation_error", f"{where}[{i}].text.content should be a string of at most "
                           "2000 characters")
        link = item["text"].get("link")
        if link is not None and not (isinstance(link, dict) and isinstance(link.get("url"), str)):
            raise ApiError(400, "validation_error", f"{where}[{i}].text.link should be {{\"url\": ...}} or null")
        out.append(content)
    return out


def check_block(block, where: str) -> None:
    block = require_object(block, where)
    kind = block.get("type")
    if kind not in BLOCK_TYPES or not isinstance(block.get(kind), dict):
        raise ApiError(400, "validation_error", f"{where}.type should be a block type with its object")
    rich_text_request(block[kind].get("rich_text"), f"{where}.{kind}.rich_text")


def empty_value(schema: dict) -> dict:
    kind = schema["type"]
    empty = {"title": [], "rich_text": [], "people": [], "multi_select": [], "files": [], "checkbox": False,
             "relation": []}.get(kind)
    return {"id": schema["id"], "type": kind, kind: empty}


def one_condition(value, allowed: set[str], where: str):
    value = require_object(value, where)
    if len(value) != 1 or next(iter(value)) not in allowed:
        raise ApiError(400, "validation_error", f"{where} should have exactly one of {sorted(allowed)}")
    cond, arg = next(iter(value.items()))
    if cond in ("is_empty", "is_not_empty") and arg is not True:
        raise ApiError(400, "validation_error", f"{where}.{cond} should be true")
    return cond, arg


def match(value, cond: str, arg) -> bool:
    if isinstance(value, list):  # people
        return {"contains": arg in value, "does_not_contain": arg not in value, "is_empty": not value,
                "is_not_empty": bool(value)}[cond]
    text = value or ""
    return {"equals": value == arg, "does_not_equal": value != arg, "contains": str(arg) in str(text),
            "does_not_contain": str(arg) not in str(text), "starts_with": str(text).startswith(str(arg)),
            "ends_with": str(text).endswith(str(arg)), "is_empty": not value, "is_not_empty": bool(value),
            "greater_than": value is not None and value > arg, "less_than": value is not None and value < arg,
            "greater_than_or_equal_to": value is not None and value >= arg,
            "less_than_or_equal_to": value is not None and value <= arg}[cond]


def check_date(arg, where: str) -> None:
    """A date condition's value, as Notion takes it: an ISO 8601 date or date-time string."""
    try:
        if not isinstance(arg, str):
            raise ValueError
        parse_iso(arg)
    except ValueError:
        raise ApiError(400, "validation_error", f"{where} should be an ISO 8601 date string (e.g. "
                       f"\"2026-05-10\" or \"2026-05-10T12:00:00Z\"), instead was {arg!r}") from None


def compare_dates(stamp: str, cond: str, arg) -> bool:
    value, other = parse_iso(stamp), parse_iso(arg)
    return {"equals": value == other, "before": value < other, "after": value > other,
            "on_or_before": value <= other, "on_or_after": value >= other}[cond]


def error_body(status: int, code: str, message: str) -> dict:
    return {"object": "error", "status": status, "code": code, "message": message, "request_id": new_id()}


class NotionServer:
    """The fake on a local port; `url` is what NOTION_API_URL should be."""

    def __init__(self, state: FakeNotion | None = None):
        self.state = state or FakeNotion()
        fake = self.state

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _redirect(self, status: int, location_or_text: str) -> None:
                data = b"" if status == 302 else location_or_text.encode()
                self.send_response(status)
                if status == 302:
                    self.send_header("Location", location_or_text)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _serve(self, method: str):
                path, _, qs = self.path.partition("?")
                if method == "GET" and path == "/v1/oauth/authorize":  # the page a browser is sent to
                    query = dict(parse_qsl(qs))
                    fake.requests.append({"t": time.monotonic(), "method": method, "path": path, "query": query})
                    status, where = fake.authorize(query)
                    if status == 400:
                        fake.violations.append(f"GET {path}: {where}")
                    return self._redirect(status, where)
                query = dict(p.split("=", 1) for p in qs.split("&") if "=" in p)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                started = time.monotonic()
                record = {"t": started, "method": method, "path": path, "status": None}
                try:
                    body = None
                    if raw:
                        if "application/json" not in (self.headers.get("Content-Type") or ""):
                            raise ApiError(400, "invalid_request", "Content-Type must be application/json")
                        try:
                            body = json.loads(raw)
                        except ValueError as exc:
                            raise ApiError(400, "invalid_json", "Error parsing JSON body.") from exc
                    record["body"] = body
                    status, answer, extra = fake.handle(method, path, query, self.headers, body)
                except ApiError as exc:
                    status, answer, extra = exc.status, error_body(exc.status, exc.code, exc.message), {}
                    if exc.status == 400:
                        fake.violations.append(f"{method} {path}: {exc.message}")
                except OAuthError as exc:
                    status, extra = exc.status, {}
                    answer = {"error": exc.error, "error_description": exc.description, "request_id": new_id()}
                    fake.oauth_errors.append(f"{exc.error}: {exc.description}")
                    if exc.error in ("invalid_request", "unsupported_grant_type"):  # we sent it wrong
                        fake.violations.append(f"{method} {path}: {exc.description}")
                record["status"] = status
                if isinstance(answer.get("results"), list):
                    record["results"] = len(answer["results"])
                fake.requests.append(record)
                if method == "POST" and path == "/v1/pages" and status == 200:
                    fake.created_event.set()
                    if fake.drop_after_create > 0:
                        fake.drop_after_create -= 1
                        self.close_connection = True
                        return  # done in Notion, never answered: the client sees the connection drop
                    if fake.block_after_create > 0:
                        fake.block_after_create -= 1
                        fake.release.wait(60)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_PATCH(self):
                self._serve("PATCH")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.state.release.set()
        self.state.refresh_release.set()
        self.server.shutdown()
        self.server.server_close()
