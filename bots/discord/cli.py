"""`onno discord`: run the bot (DISCORD_TOKEN) until Ctrl-C."""

from __future__ import annotations

import logging

import click


@click.command("discord")
@click.option("--sync/--no-sync", default=True, show_default=True,
              help="Register the /onno slash commands with Discord on start.")
def discord_cmd(sync: bool) -> None:
    """Run the Discord bot: /onno join records a voice channel live, /onno process takes a recording."""
    from bots.discord.bot import OnnoDiscord, set_api_url
    from onno.cli import app
    from onno.cli_jobs import self_check

    a = app()
    self_check(a)
    token = a.settings.discord_token
    if not token:
        raise click.ClickException("Set DISCORD_TOKEN to the bot's token (Developer Portal → your app → Bot).")
    set_api_url(a.settings.discord_api_url)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    bot = OnnoDiscord(a, sync_commands=sync)
    try:  # load the speech model now, so the first live meeting does not wait for it
        bot.live_pool().warm_up()
    except Exception as exc:
        click.echo(f"The live engine could not start ({exc}); meetings are still recorded and processed.", err=True)
    click.echo("Connecting to Discord; Ctrl-C stops.", err=True)
    bot.run(token, log_handler=None)
