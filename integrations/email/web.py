"""One-click unsubscribe (RFC 8058) for summary e-mails, and the confirmation of a typed address: for both, GET
only shows a page and its button POSTs, so link scanners that prefetch never change anything."""

from __future__ import annotations

import asyncio

from aiohttp import web

from core.pages import HEADERS, environment
from integrations.email import confirm as confirming
from integrations.email.compose import TEMPLATES
from integrations.email.unsubscribe import read_token
from storage import mail as people
from storage import repository as repo


def html_page(template: str, *, status: int, **values) -> web.Response:
    """One of the pages a reader opens from a mail, with the headers of every page opened from a link."""
    html = environment(TEMPLATES).get_template(template).render(**values)
    return web.Response(text=html, content_type="text/html", status=status, headers=HEADERS)


def page(state: str, *, email: str = "", team: str = "", status: int = 200) -> web.Response:
    heading = {"confirm": "Unsubscribe", "done": "You are unsubscribed"}.get(state, "Link not valid")
    return html_page("unsubscribe.html", status=status, state=state, heading=heading, email=email, team=team)


def confirm_page(state: str, *, email: str = "", team: str = "", status: int = 200) -> web.Response:
    heading = {"ask": "Confirm your address", "done": "Address confirmed",
               "expired": "Link expired", "stale": "Nothing to confirm"}.get(state, "Link not valid")
    return html_page("confirm_page.html", status=status, state=state, heading=heading, email=email, team=team,
                     days=confirming.VALID.days)


def add_routes(web_app: web.Application, app) -> None:
    add_unsubscribe_routes(web_app, app)
    add_confirm_routes(web_app, app)


def add_confirm_routes(web_app: web.Application, app) -> None:
    def token(request: web.Request) -> tuple[str, int, str, object] | web.Response:
        state, ws_id, email, issued = confirming.read_token(app.settings.resolved_secret_key,
                                                            request.match_info["token"])
        if state != "ok":
            return confirm_page(state, status=410 if state == "expired" else 404)
        return state, ws_id, email, issued

    def look(ws_id: int, email: str, issued) -> str | None:
        with app.session() as s:
            if repo.workspace_by_id(s, ws_id) is None or not people.confirmable(people.person_by_email(
                    s, ws_id, email), issued):
                return None
            return confirming.team_label(s, ws_id)

    async def ask(request: web.Request) -> web.Response:
        found = token(request)
        if isinstance(found, web.Response):
            return found
        _, ws_id, email, issued = found
        team = await asyncio.to_thread(look, ws_id, email, issued)
        if team is None:
            return confirm_page("stale", status=410)
        return confirm_page("ask", email=email, team=team)

    async def confirm(request: web.Request) -> web.Response:
        found = token(request)
        if isinstance(found, web.Response):
            return found
        _, ws_id, email, issued = found

        def mark() -> str | None:
            with app.session() as s:
                if repo.workspace_by_id(s, ws_id) is None or people.confirm(s, ws_id, email, issued) is None:
                    return None
                return confirming.team_label(s, ws_id)

        team = await asyncio.to_thread(mark)
        if team is None:
            return confirm_page("stale", status=410)
        return confirm_page("done", email=email, team=team)

    web_app.router.add_get("/confirm/{token}", ask)
    web_app.router.add_post("/confirm/{token}", confirm)


def add_unsubscribe_routes(web_app: web.Application, app) -> None:
    def reader(request: web.Request) -> tuple[int, str] | None:
        return read_token(app.settings.resolved_secret_key, request.match_info["token"])

    def team_name(ws_id: int) -> str | None:
        with app.session() as s:
            ws = repo.workspace_by_id(s, ws_id)
            return None if ws is None else ("" if ws.platform == "cli" else ws.name)

    async def confirm(request: web.Request) -> web.Response:
        # Only a page: link scanners and previews follow GETs, and must not unsubscribe anyone.
        found = reader(request)
        team = await asyncio.to_thread(team_name, found[0]) if found else None
        if team is None:
            return page("invalid", status=404)
        return page("confirm", email=found[1], team=team)

    async def unsubscribe(request: web.Request) -> web.Response:
        # The mail client's one-click POST (body "List-Unsubscribe=One-Click") or our own form's button.
        found = reader(request)
        if found is None:
            return page("invalid", status=404)
        ws_id, email = found

        def opt_out() -> str | None:
            team = team_name(ws_id)
            if team is not None:
                with app.session() as s:
                    people.opt_out(s, ws_id, email)
            return team

        team = await asyncio.to_thread(opt_out)
        if team is None:
            return page("invalid", status=404)
        return page("done", email=email, team=team)

    web_app.router.add_get("/unsubscribe/{token}", confirm)
    web_app.router.add_post("/unsubscribe/{token}", unsubscribe)
