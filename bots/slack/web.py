"""Bolt's paths on `onno web`: /slack/events, /slack/install, /slack/oauth_redirect; and the progress poller."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request

from bots.slack.app import NotConfigured, SlackBot
from bots.slack.progress import run as run_progress
from bots.slack.verify import bolt_request

log = logging.getLogger(__name__)

BOT_KEY = web.AppKey("slack_bot", object)


def add_routes(web_app: web.Application, app) -> None:
    try:
        bot = SlackBot(app)
    except NotConfigured as exc:
        reason = str(exc)

        async def not_configured(_request: web.Request) -> web.Response:
            return web.Response(status=404, text=f"The Slack app is not configured on this server. {reason}")

        for path in ("/slack/events", "/slack/install", "/slack/oauth_redirect"):
            web_app.router.add_route("*", path, not_configured)
        return
    web_app[BOT_KEY] = bot

    async def events(request: web.Request) -> web.Response:
        bolt_req = await bolt_request(request, bot.settings.slack_signing_secret)
        if isinstance(bolt_req, web.Response):
            return bolt_req
        return await to_aiohttp_response(await bot.bolt.async_dispatch(bolt_req))

    async def install(request: web.Request) -> web.Response:
        flow = bot.bolt.oauth_flow
        if flow is None:
            return web.Response(status=404, text="This Onno serves one workspace (SLACK_BOT_TOKEN); there is "
                                                 "nothing to install. Set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
                                                 "to let other workspaces install it.")
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def oauth_redirect(request: web.Request) -> web.Response:
        flow = bot.bolt.oauth_flow
        if flow is None:
            return web.Response(status=404, text="No OAuth on this server.")
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/slack/install", install)
    web_app.router.add_get("/slack/oauth_redirect", oauth_redirect)

    async def background(_web_app: web.Application):
        task = asyncio.get_running_loop().create_task(run_progress(bot))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await bot.drain(timeout=10)
        bot.close()

    web_app.cleanup_ctx.append(background)
