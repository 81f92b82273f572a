"""`onno slack`: run the app over Socket Mode (behind a firewall), print the manifest, check the set-up."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yaml"


@click.group()
def slack() -> None:
    """The Slack app: Socket Mode, its manifest."""


@slack.command("socket")
def socket() -> None:
    """Connect to Slack over Socket Mode (SLACK_APP_TOKEN) instead of receiving HTTP requests."""
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

    from bots.slack.app import NotConfigured, SlackBot
    from bots.slack.progress import run as run_progress
    from onno.cli import app
    from onno.cli_jobs import self_check

    a = app()
    self_check(a)
    try:
        bot = SlackBot(a, socket=True)
    except NotConfigured as exc:
        raise click.ClickException(str(exc)) from exc

    async def main() -> None:
        progress = asyncio.get_running_loop().create_task(run_progress(bot))
        handler = AsyncSocketModeHandler(bot.bolt, a.settings.slack_app_token)
        click.echo("Connected to Slack over Socket Mode; Ctrl-C stops.", err=True)
        try:
            await handler.start_async()
        finally:
            progress.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await progress
            await bot.drain(timeout=10)
            bot.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@slack.command("manifest")
@click.option("--url", help="Public base URL of `onno web` (default: ONNO_PUBLIC_URL).")
def manifest(url: str | None) -> None:
    """Print the app manifest to paste at api.slack.com/apps → Create New App → From a manifest."""
    from onno.cli import app

    base = (url or app().settings.public_url).rstrip("/")
    click.echo(MANIFEST.read_text().replace("https://onno.example.com", base), nl=False)
