"""`onno web`: one aiohttp server for everything that comes in over HTTP (Slack, Stripe, meeting pages)."""

from __future__ import annotations

import importlib

from aiohttp import web

# Modules that each define `add_routes(web_app, app)`; a feature adds itself here.
ROUTE_MODULES = ["onno.web_meetings", "integrations.email.web", "billing.web", "bots.slack.web",
                 "integrations.notion.web"]

APP_KEY = web.AppKey("onno_app", object)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


def make_web_app(app) -> web.Application:
    """The aiohttp application around one Onno `App` (settings, storage, job runner)."""
    web_app = web.Application(client_max_size=5 * 1024 * 1024)
    web_app[APP_KEY] = app
    web_app.router.add_get("/healthz", healthz)
    for name in ROUTE_MODULES:
        importlib.import_module(name).add_routes(web_app, app)
    return web_app


def serve(app, *, host: str, port: int) -> None:
    if not app.settings.broker_url:
        # No workers to sweep: this long-lived process retries deliveries and notices and sends digests itself.
        from onno.sweeper import Sweeper

        Sweeper(app).start()
    web.run_app(make_web_app(app), host=host, port=port, access_log=None)
