"""`onno notion`: connect a Notion board, make one, see how the connection stands, pull the board."""

from __future__ import annotations

import json
import sys

import click

from core.errors import InputError
from integrations.errors import DeliveryError
from onno.cli import app

ROLES = ("title", "status", "assignee", "assignee_text", "due", "link", "meeting", "key", "onno_id")
TOKEN_HELP = "An internal integration secret (ntn_…); or set NOTION_TOKEN."


def _workspace_id(a) -> int:
    from storage import repository as repo

    with a.session() as s:
        return repo.get_or_create_workspace(s).id


def _fail(exc: DeliveryError | InputError) -> None:
    """A refusal (Notion's, or the plan's board limit) as one line and exit status 1."""
    text = exc.reason if isinstance(exc, DeliveryError) else f"{exc.problem} {exc.hint}".strip()
    click.echo(f"Error: {text}", err=True)
    sys.exit(1)


def _pairs(values: tuple[str, ...], what: str) -> dict[str, str]:
    out = {}
    for value in values:
        key, sep, name = value.partition("=")
        if not sep or not key.strip() or not name.strip():
            raise click.BadParameter(f"{value!r}: expected {what}=NAME")
        out[key.strip()] = name.strip()
    return out


def _print_connected(done) -> None:
    click.echo(f"Connected {done.name!r} to the board {done.board_title or done.database_id!r} "
               f"(data source {done.data_source_id}).")
    if done.added_onno_id:
        click.echo("Added the 'Onno ID' text property: it keeps retried deliveries from making a card twice.")
    for line in done.mapping_lines:
        click.echo(f"  {line}")
    click.echo(f"Pulled the board: {done.sync_summary}.")


@click.group()
def notion() -> None:
    """Deliver meetings to a Notion board, and keep our tickets in step with it."""


@notion.command()
@click.option("--token", envvar=["NOTION_TOKEN", "ONNO_NOTION_TOKEN"], help=TOKEN_HELP)
@click.option("--database", required=True, help="The board: its database id or link (shared with the integration).")
@click.option("--data-source", help="Which data source, for a database with several.")
@click.option("--name", default="default", show_default=True, help="Deliver to it with --deliver notion:NAME.")
@click.option("--property", "properties", multiple=True, metavar="ROLE=NAME",
              help=f"Use this property for a role ({', '.join(ROLES)}) instead of the one found by name.")
@click.option("--status", "statuses", multiple=True, metavar="STATE=OPTION[,OPTION]",
              help="Status options for TODO, IN_PROGRESS, DONE (the first is written), e.g. DONE=Shipped,Released.")
def connect(token: str | None, database: str, data_source: str | None, name: str, properties: tuple[str, ...],
            statuses: tuple[str, ...]) -> None:
    """Connect this workspace to a Notion board with an internal integration token (stored encrypted)."""
    from integrations.notion import service

    props = _pairs(properties, "ROLE")
    unknown = set(props) - set(ROLES)
    if unknown:
        raise click.BadParameter(f"unknown role(s) {', '.join(sorted(unknown))}; roles: {', '.join(ROLES)}")
    states = {k.upper(): [n.strip() for n in v.split(",") if n.strip()] for k, v in _pairs(statuses, "STATE").items()}
    a = app()
    try:
        done = service.connect(a, _workspace_id(a), token=token or "", database=database, name=name,
                               data_source=data_source, properties=props, statuses=states)
    except (DeliveryError, InputError) as exc:
        _fail(exc)
    _print_connected(done)


@notion.command("create-board")
@click.option("--parent", required=True, help="The page to put the board in (its id or link), shared with the "
              "integration.")
@click.option("--title", default="Meeting action items", show_default=True)
@click.option("--token", envvar=["NOTION_TOKEN", "ONNO_NOTION_TOKEN"], help=TOKEN_HELP + " Default: the connection's.")
@click.option("--name", default="default", show_default=True)
def create_board(parent: str, title: str, token: str | None, name: str) -> None:
    """Make a ready board (Name, Status, Assignee, Owner, Due date, Meeting, Link, Onno ID) and connect it."""
    from integrations.notion import service

    a = app()
    try:
        done = service.create_board(a, _workspace_id(a), parent=parent, token=token, title=title, name=name)
    except (DeliveryError, InputError) as exc:
        _fail(exc)
    click.echo(f"Created the board {title!r} (database {done.database_id}).")
    _print_connected(done)


@notion.command("connect-link")
@click.option("--name", help="Connect (or reconnect) this connection name; default: chosen from the board.")
def connect_link(name: str | None) -> None:
    """Print a link that connects a board through Notion's own sign-in (a public integration's OAuth)."""
    from core.links import notion_connect_url
    from integrations.notion import grants

    a = app()
    if not grants.configured(a.settings):
        click.echo("Error: set NOTION_CLIENT_ID and NOTION_CLIENT_SECRET (a Notion public integration) first, "
                   f"with {grants.redirect_uri(a.settings)} as its redirect URI; or connect with a token: "
                   "onno notion connect --token … --database …", err=True)
        sys.exit(1)
    click.echo(notion_connect_url(a.settings, _workspace_id(a), name=name))
    click.echo("Open it in a browser (it works for a day); `onno web` must be reachable at ONNO_PUBLIC_URL.", err=True)


@notion.command()
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def status(fmt: str) -> None:
    """How each Notion connection stands: the board, its mapping, the last pull, and whether it broke."""
    from integrations.notion import service

    a = app()
    rows = service.status(a, _workspace_id(a))
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No Notion connection. Connect one with: onno notion connect --token … --database …")
        return
    for r in rows:
        state = "OK" if r["status"] == "ok" else f"BROKEN since {r['broken_at']}: {r['broken_reason']}"
        click.echo(f"{r['name']}: {state}")
        click.echo(f"  board {r['board']!r}, database {r['database_id']}, data source {r['data_source_id']}"
                   + (f", Notion workspace {r['notion_workspace']!r}" if r["notion_workspace"] else ""))
        click.echo(f"  last pulled {r['last_synced_at'] or 'never'}; {r['cards']} cards known, "
                   f"{r['cards_from_meetings']} made from meetings")
        for line in r["mapping"]:
            click.echo(f"  {line}")
    if any(r["status"] == "broken" for r in rows):
        sys.exit(2)


@notion.command()
@click.option("--name", default="default", show_default=True)
def sync(name: str) -> None:
    """Pull the board now: cards moved or edited in Notion update the stored tickets."""
    from integrations.notion import service

    a = app()
    try:
        report = service.sync(a, _workspace_id(a), name)
    except DeliveryError as exc:
        _fail(exc)
    click.echo(f"Pulled {name!r}: {report.summary()}.")
    for key, before, after in report.moved:
        click.echo(f"  {key}: {before} → {after}")


@notion.command()
@click.option("--name", default="default", show_default=True)
def disconnect(name: str) -> None:
    """Forget a connection (and its token); the Notion board itself is left as it is."""
    from integrations.notion import service

    a = app()
    if not service.disconnect(a, _workspace_id(a), name):
        click.echo(f"Error: no Notion connection {name!r}.", err=True)
        sys.exit(1)
    click.echo(f"Disconnected {name!r}.")
