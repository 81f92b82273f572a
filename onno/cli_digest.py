"""`onno digest`: the weekly digest: preview it, send it now, turn the Monday digest on or off."""

from __future__ import annotations

import datetime as dt

import click

from core.errors import InputError
from onno.cli import app, fail, resolve, workspace_option, workspace_ref

PLACEHOLDER_UNSUBSCRIBE = "https://unsubscribe.invalid/each-reader-gets-their-own-link"


def week_option(command):
    def parse(_ctx, _param, value: str | None) -> str:
        from integrations.digest import weeks

        if value is None:
            return weeks.previous(dt.datetime.now(dt.UTC).date())
        try:
            return weeks.parse(value)
        except InputError as exc:
            raise click.BadParameter(f"{exc.problem} {exc.hint}") from exc

    return click.option("--week", callback=parse, metavar="YYYY-Www",
                        help="The ISO week (UTC), e.g. 2026-W47; default: last week.")(command)


@click.group(invoke_without_command=True)
@workspace_option
@click.pass_context
def digest(ctx: click.Context, workspace: str) -> None:
    """Weekly digests (Team plan): last week's meetings, open and overdue action items, what got done."""
    if ctx.invoked_subcommand:
        return
    from integrations.digest.setup import state
    from storage import digest as store
    from storage import repository as repo

    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        click.echo(f"Weekly digest: {state(s, a.settings, repo.workspace_by_id(s, ws_id), channel_markup=str)}.")
        for row in store.recent(s, ws_id):
            click.echo(f"  {row.week}  {row.status:<8} {row.note or ''}".rstrip())
    click.echo("Preview: onno digest preview   Send now: onno digest send   Turn on/off: onno digest on|off")


@digest.command("preview")
@week_option
@click.option("--format", "fmt", type=click.Choice(("text", "html")), default="text", show_default=True)
@click.option("--as", "reader", metavar="NAME", help="As this person gets it: their open items first.")
@workspace_option
def preview(week: str, fmt: str, reader: str | None, workspace: str) -> None:
    """Print the digest of a week as it would be mailed (nothing is sent)."""
    from integrations.digest import compose
    from integrations.digest.content import collect

    a = app()
    d = collect(a, resolve(a, workspace), week)
    if d.empty:
        click.echo(f"Nothing happened in {week} ({compose.span(d.start, d.end)}): no meetings, nothing done, no "
                   "tickets moved. No digest goes out for such a week.")
        return
    ctx = compose.context(d, reader=reader, unsubscribe=PLACEHOLDER_UNSUBSCRIBE)
    html, text = compose.render(ctx)
    if fmt == "html":
        click.echo(html, nl=False)
        return
    click.echo(f"Subject: {compose.subject(d, len(ctx['mine']))}\n")
    click.echo(text, nl=False)


@digest.command("send")
@week_option
@click.option("--again", is_flag=True, help="Send it once more, to everyone, even though it went out already.")
@workspace_option
def send(week: str, again: bool, workspace: str) -> None:
    """Send a week's digest now: by e-mail to the people on file, and to the Slack channel picked for it."""
    from integrations.digest.compose import span
    from integrations.digest.schedule import send_now

    a = app()
    try:
        out = send_now(a, workspace_ref(workspace), week, again=again)
    except InputError as exc:
        fail(exc)
    where = [f"{len(out.emailed)} {'person' if len(out.emailed) == 1 else 'people'} by e-mail"] if out.emailed else []
    if out.slack_channel:
        where.append(f"Slack channel {out.slack_channel}")
    if out.discord_channel:
        where.append(f"Discord channel {out.discord_channel}")
    to = " and ".join(where) or "no one"
    if out.status == "already":
        click.echo(f"The digest of {week} went out already, to {to}. Send it once more with --again.")
    elif out.status == "skipped":
        click.echo(f"No digest for {week}: {out.note}.")
    elif out.status == "busy":
        fail(InputError(f"The digest of {week} is being sent right now by another process.",
                        "Try again in a few minutes: `onno digest send` then says how it went."))
    elif out.status == "sent":
        click.echo(f"Sent the digest of {week} ({span(out.digest.start, out.digest.end)}) to {to}.")
        if out.note:
            click.echo(f"Not delivered: {out.note}", err=True)
    elif out.status == "pending":
        fail(InputError(f"The digest of {week} reached {to} so far: {out.note}.",
                        "It is retried by `onno worker`; or run `onno digest send` again later: only those "
                        "still waiting get it."))
    else:
        fail(InputError(f"The digest of {week} was not sent: {out.note}.",
                        "Fix that, then run `onno digest send` again."))


def switch(on: bool, workspace: str) -> None:
    from integrations.digest.setup import set_enabled, state
    from storage import repository as repo

    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        set_enabled(s, ws, on)
        click.echo(f"Weekly digest: {state(s, a.settings, ws, channel_markup=str)}.")
    if on and not a.settings.broker_url:
        click.echo("No ONNO_BROKER_URL here: `onno web` sends it on schedule while it runs; without it, run "
                   "`onno digest send` once a week (cron, e.g. `5 8 * * 1`).", err=True)


@digest.command("on")
@workspace_option
def digest_on(workspace: str) -> None:
    """Send last week's digest every week (after Monday 08:00 UTC unless ONNO_DIGEST_WEEKDAY/HOUR say otherwise)."""
    switch(True, workspace)


@digest.command("off")
@workspace_option
def digest_off(workspace: str) -> None:
    """Stop the weekly digest (`onno digest send` still sends one when asked)."""
    switch(False, workspace)
