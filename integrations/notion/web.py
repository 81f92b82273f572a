"""Connect Notion over HTTP on `onno web`: the signed connect link, Notion's callback, and the board picker."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from jinja2 import Environment

from integrations.notion import oauth
from integrations.notion.adapter import check as check_name
from onno.links import check_notion_connect_signature
from storage import repository as repo

log = logging.getLogger(__name__)

PAGE = Environment(autoescape=True).from_string("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex">
<title>{{ heading }}</title>
<style>
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem} .muted{color:#57606a} .problem{background:#fff8c5;padding:.6rem .8rem;border-radius:6px}
form{margin:.4rem 0} ul{padding:0;list-style:none} li{margin:.6rem 0}
button{font:inherit;font-weight:600;color:#fff;background:#0b5cad;border:0;border-radius:6px;padding:.5rem 1rem;cursor:pointer}
button.second{background:#57606a} select,input{font:inherit;padding:.3rem}
</style></head><body>
<h1>{{ heading }}</h1>
{% if message %}<p class="{{ 'problem' if kind == 'pick' else '' }}">{{ message }}</p>{% endif %}
{% if hint %}<p class="muted">{{ hint }}</p>{% endif %}
{% if kind == "connected" %}
<p>Meetings delivered to <b>notion:{{ done.name }}</b> become cards on <b>{{ done.board_title or "the board" }}</b>
{%- if workspace %} in the Notion workspace {{ workspace }}{% endif %}.</p>
<p class="muted">Pulled the board: {{ done.sync_summary }}. In Slack, <code>/onno settings notion {{ done.name }}</code>
sends a channel's meetings there. You can close this page.</p>
{% elif kind == "pick" %}
{% if boards %}<p>Which board should meetings go to?</p><ul>
{% for b in boards %}<li><form method="post" action="{{ pick_url }}">
<input type="hidden" name="key" value="{{ key }}"><input type="hidden" name="data_source" value="{{ b.data_source_id }}">
<button type="submit">{{ b.title }}</button>
{% set named = connections.get(b.data_source_id.replace("-", "")) %}
{% if named %}<span class="muted"> connected here as <code>{{ named }}</code>: choose it to reconnect</span>{% endif %}
</form></li>{% endfor %}</ul>{% endif %}
{% if pages %}<form method="post" action="{{ pick_url }}"><input type="hidden" name="key" value="{{ key }}">
<p>{% if boards %}Or c{% else %}C{% endif %}reate a new board, ready for meetings (Status, Assignee, Due date…), in
<select name="parent">{% for p in pages %}<option value="{{ p.page_id }}">{{ p.title }}</option>{% endfor %}</select></p>
<p><input name="title" value="Meeting action items" maxlength="200" aria-label="Board title">
<button type="submit" class="{{ 'second' if boards else '' }}">Create a new board</button></p></form>
{% else %}<p class="muted">To have a new board made instead, start again and share a page with Onno.</p>{% endif %}
{% elif kind == "nothing_shared" %}
<p>Onno can see no page or database in {{ workspace or "that Notion workspace" }}: nothing was shared with it.</p>
<p class="muted">Start again from /onno notion in Slack, and on Notion's page select the board (or a page to make
one in).</p>
{% endif %}
</body></html>""")
HEADINGS = {"connected": "Notion is connected", "pick": "Pick a Notion board", "denied": "Notion was not connected",
            "nothing_shared": "Nothing was shared", "expired": "Start again", "refused": "Notion said no",
            "unreachable": "Notion could not be reached", "invalid": "Link not valid",
            "not_configured": "Connect Notion is not set up here"}
STATUS = {"expired": 400, "refused": 400, "unreachable": 502, "invalid": 404, "not_configured": 404}


def page(kind: str, *, message: str = "", hint: str = "", **values) -> web.Response:
    html = PAGE.render(heading=HEADINGS.get(kind, "Notion"), kind=kind, message=message, hint=hint,
                       pick_url="/notion/oauth/pick", **values)
    # no-referrer: the callback's address holds the code and state; DENY: no page may frame our buttons.
    return web.Response(text=html, content_type="text/html", status=STATUS.get(kind, 200), headers={
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"})


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
        if not oauth.configured(app.settings):
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
        form = await request.post()
        out = await asyncio.to_thread(oauth.pick, app, str(form.get("key", "")),
                                      data_source_id=str(form.get("data_source", "")) or None,
                                      parent_page_id=str(form.get("parent", "")) or None,
                                      title=str(form.get("title", "")).strip() or None)
        return outcome_page(out)

    web_app.router.add_get(r"/notion/connect/{ws:\d+}", connect)
    web_app.router.add_get(oauth.CALLBACK_PATH, callback)
    web_app.router.add_post("/notion/oauth/pick", pick)
