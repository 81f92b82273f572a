"""Connect Notion over HTTP on `onno web`: the signed connect link, Notion's callback, and the board picker."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from core.links import check_notion_connect_signature
from core.pages import HEADERS, environment
from integrations.notion import grants, oauth
from integrations.notion.adapter import check as check_name
from storage import repository as repo

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).parent / "templates"

HEADINGS = {"connected": "Notion is connected", "pick": "Pick a Notion board", "denied": "Notion was not connected",
            "nothing_shared": "Nothing was shared", "expired": "Start again", "refused": "Notion said no",
            "unreachable": "Notion could not be reached", "invalid": "Link not valid",
            "not_configured": "Connect Notion is not set up here"}
STATUS = {"expired": 400, "refused": 400, "unreachable": 502, "invalid": 404, "not_configured": 404}


def page(kind: str, *, message: str = "", hint: str = "", **values) -> web.Response:
    html = environment(TEMPLATES).get_template("connect_page.html").render(
        heading=HEADINGS.get(kind, "Notion"), kind=kind, message=message, hint=hint, pick_url="/notion/oauth/pick",
        **values)
    # no-referrer matters most here: the callback's address holds the code and state.
    return web.Response(text=html, content_type="text/html", status=STATUS.get(kind, 200), headers=HEADERS)


def outcome_page(out: oauth.Outcome) -> web.Response:
    return page(out.kind, message=out.message, hint=out.hint, done=out.connected, boards=out.boards,
                pages=out.pages, key=out.pick_key, workspace=out.notion_workspace, connections=out.connections)


def add_routes(web_app: web.Application, app) -> None:
    async def connect(request: web.Request) -> web.Response:
        ws_id = int(request.match_info["ws"])
        name = request.query.get("name", "")
        try:
            expires = int(request.query.get("exp", ""))
        except ValueError:
            expires = 0
        if not check_notion_connect_signature(app.settings.resolved_secret_key, ws_id, expires, name,
                                              request.query.get("sig", "")):
            return page("invalid", message="This Notion link is incomplete, expired or not ours.",
                        hint="Get a new one with /onno notion in Slack.")
        if not grants.configured(app.settings):
            return page("not_configured", message="This Onno has no Notion public integration "
                        "(NOTION_CLIENT_ID and NOTION_CLIENT_SECRET).",
                        hint="Connect with an internal integration token instead: /onno notion connect TOKEN "
                             "in Slack, or onno notion connect --token … --database … on the server.")
        if name and check_name(name):
            return page("invalid", message=check_name(name))

        def start() -> str | None:
            with app.session() as s:
                if repo.workspace_by_id(s, ws_id) is None:
                    return None
            return oauth.begin(app, ws_id, name or None)

        url = await asyncio.to_thread(start)
        if url is None:
            return page("invalid", message="No such workspace.")
        raise web.HTTPFound(url)

    async def callback(request: web.Request) -> web.Response:
        q = request.query
        out = await asyncio.to_thread(oauth.callback, app, state=q.get("state", ""), code=q.get("code"),
                                      error=q.get("error"))
        return outcome_page(out)

    async def pick(request: web.Request) -> web.Response:
        try:  # our page posts a plain urlencoded form; anything else (multipart, not UTF-8) is not from it
            form = await request.post() if request.content_type == "application/x-www-form-urlencoded" else None
        except ValueError:
            form = None
        if form is None:
            return page("invalid", message="This form was not sent by Onno's board picker.",
                        hint="Start again from /onno notion in Slack.")
        out = await asyncio.to_thread(oauth.pick, app, str(form.get("key", "")),
                                      data_source_id=str(form.get("data_source", "")) or None,
                                      parent_page_id=str(form.get("parent", "")) or None,
                                      title=str(form.get("title", "")).strip() or None)
        return outcome_page(out)

    web_app.router.add_get(r"/notion/connect/{ws:\d{1,18}}", connect)
    web_app.router.add_get(grants.CALLBACK_PATH, callback)
    web_app.router.add_post("/notion/oauth/pick", pick)
