"""`onno people`: the workspace's people on file, who get e-mailed summaries of the meetings they are in."""

from __future__ import annotations

import json

import click

from core.errors import InputError
from onno.cli import app, fail, resolve, workspace_option


@click.group()
def people() -> None:
    """People on file: meeting participants with an address get the e-mailed summary (--deliver email:participants)."""


@people.command("add")
@click.argument("name")
@click.argument("email")
@workspace_option
def people_add(name: str, email: str, workspace: str) -> None:
    """Put NAME (as they appear in meetings) on file with EMAIL; an address already on file is renamed."""
    from integrations.email.adapter import ADDRESS
    from storage import mail
    from storage import repository as repo

    if not ADDRESS.match(email.strip()):
        fail(InputError(f"{email!r} is not an e-mail address.", "For example: onno people add Maya maya@example.com"))
    if not name.strip():
        fail(InputError("The name is empty.", "Give the name as it appears in meetings, e.g. Maya."))
    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        person, created = mail.add_person(s, repo.workspace_by_id(s, ws_id), name, email)
        line = f"{'Added' if created else 'Updated'} {person.name} <{person.email}>."
        if person.opted_out:
            line += " They have unsubscribed, so they get no e-mail."
    click.echo(line)


@people.command("list")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@workspace_option
def people_list(fmt: str, workspace: str) -> None:
    """List the people on file, and who has unsubscribed."""
    from storage import mail
    from storage import repository as repo

    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        rows = [{"name": p.name, "email": p.email, "opted_out": p.opted_out, "confirmed": p.confirmed_at is not None}
                for p in mail.list_people(s, repo.workspace_by_id(s, ws_id))]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No one on file yet. Add someone with: onno people add NAME EMAIL")
        return
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        state = "  (unsubscribed)" if r["opted_out"] else "" if r["confirmed"] else "  (waiting to confirm)"
        click.echo(f"{r['name']:<{width}}  {r['email']}{state}")


@people.command("remove")
@click.argument("email")
@workspace_option
def people_remove(email: str, workspace: str) -> None:
    """Take EMAIL off file (an unsubscribed address is kept, so it stays unsubscribed)."""
    from storage import mail
    from storage import repository as repo

    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        person = mail.person_by_email(s, ws, email)
        if person is not None and person.opted_out:
            click.echo(f"{person.email} has unsubscribed; kept on file so that it stays so.")
            return
        removed = mail.remove_person(s, ws, email)
    if not removed:
        fail(InputError(f"{email} is not on file.", "See who is with: onno people list"))
    click.echo(f"Removed {email.strip().lower()}.")
