"""The `onno` command line: process meetings, browse stored meetings and the board."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from core.clock import clock
from core.errors import InputError
from pipeline.board import read_board
from pipeline.report import render
from pipeline.types import MEETING_TYPES, MeetingInfo

FORMATS = ("text", "markdown", "json")


def default_format() -> str:
    """Readable text on a terminal; JSON for programs reading a pipe."""
    return "text" if sys.stdout.isatty() else "json"


def app():
    from onno.service import App

    return App()


def workspace_option(command):
    """`--workspace NAME|ID`: this machine's CLI workspace by name, or any (a Slack team's, a Discord server's)
    by the id `onno workspaces` lists."""
    return click.option("--workspace", default="local", show_default=True, metavar="NAME|ID",
                        help="The CLI workspace by name, or any workspace (a Slack team's, a Discord server's) "
                             "by its id from `onno workspaces`.")(command)


def workspace_ref(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def resolve(a, workspace: str) -> int:
    """The row id of `--workspace`; exits with a message when no workspace has that id."""
    from storage import repository as repo

    with a.session() as s:
        try:
            return repo.resolve_workspace(s, workspace_ref(workspace)).id
        except LookupError:
            fail(InputError(f"There is no workspace {workspace}.",
                            "See `onno workspaces` for their ids; leave out --workspace for this machine's own."))


def fail(exc: InputError) -> None:
    """Say what went wrong and what to do, then exit non-zero."""
    click.echo(f"Error: {exc.problem}", err=True)
    if exc.hint:
        click.echo(exc.hint, err=True)
    sys.exit(1)


@contextmanager
def progress_bar(label: str):
    """A progress bar on an interactive terminal; nothing at all when output is piped."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeRemainingColumn(), transient=True, console=None) as bar:
        task = bar.add_task(label, total=1.0)
        yield lambda share: bar.update(task, completed=share)


def parse_date(_ctx, _param, value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-16.") from exc


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log what happens, for debugging.")
def main(verbose: bool) -> None:
    """Onno turns meeting recordings into transcripts, action items, questions and ticket moves."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(message)s")


def meeting_options(command):
    """The options every command that takes in a meeting shares (process, submit)."""
    options = [
        click.argument("source", type=click.Path(path_type=Path)),
        click.option("--title", help="Meeting title (default: the file name)."),
        click.option("--type", "meeting_type", type=click.Choice(MEETING_TYPES), default="general",
                     show_default=True, help="Meeting type; decides the checklist of questions worth asking."),
        click.option("--date", callback=parse_date, help="Meeting date, YYYY-MM-DD (default today); deadlines "
                     "resolve against it."),
        click.option("--participants", default="", help="Comma-separated names, e.g. Alice,Bob."),
        click.option("--uploader", help="Who recorded or sent it, e.g. Maya: a hint for naming the voices (most "
                     "likely the host, who opens the meeting)."),
        click.option("--board", "board_file", type=click.Path(path_type=Path),
                     help='Existing tickets as JSON [{"key","title","status"}]; stored, and moved by the meeting.'),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def meeting_input(source: Path, title: str | None, meeting_type: str, date: dt.date, participants: str,
                  board_file: Path | None, uploader: str | None = None):
    """The meeting's facts and the board file's tickets (None without one) from the shared options."""
    board = read_board(board_file) if board_file else None
    names = [p.strip() for p in participants.split(",") if p.strip()]
    return MeetingInfo(title=title or source.stem, type=meeting_type, date=date, participants=names,
                       uploader=" ".join((uploader or "").split()) or None), board


@main.command()
@meeting_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format (default: text on a "
              "terminal, json when piped).")
def process(source: Path, title: str | None, meeting_type: str, date: dt.date, participants: str,
            uploader: str | None, board_file: Path | None, fmt: str | None) -> None:
    """Process SOURCE: an audio/video file, a folder of per-speaker tracks, or a transcript (.vtt, .srt, .sbv, .docx, .txt, Whisper .json)."""
    try:
        info, board = meeting_input(source, title, meeting_type, date, participants, board_file, uploader)
        with progress_bar(f"Processing {source.name}") as progress:
            done = app().process(source, info, board=board, progress=progress)
    except InputError as exc:
        fail(exc)
    fmt = fmt or default_format()
    click.echo(render(done.result, fmt), nl=False)
    if fmt != "json" and sys.stdout.isatty():
        click.echo(f"Saved as meeting {done.meeting_id}: onno meetings show {done.meeting_id}", err=True)


@main.group()
def meetings() -> None:
    """Meetings processed so far."""


@meetings.command("list")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--limit", default=50, show_default=True)
def meetings_list(fmt: str, limit: int) -> None:
    """List stored meetings, newest first."""
    from pipeline.types import one_line
    from storage import repository as repo

    a = app()
    with a.session() as s:
        rows = [{"id": m.id, "title": m.title, "type": m.type, "date": m.date.isoformat(),
                 "duration": m.duration, "action_items": sum(1 for f in m.findings if f.kind == "action_item")}
                for m in repo.list_meetings(s, repo.get_or_create_workspace(s), limit=limit)]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No meetings yet. Process one with: onno process RECORDING")
        return
    for r in rows:
        click.echo(f"{r['id']:>4}  {r['date']}  {clock(r['duration']):>8}  {r['type']:<20} {one_line(r['title'])}"
                   f"  ({r['action_items']} action items)")


@meetings.command("show")
@click.argument("meeting_id", type=int)
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Output format (default: text on a "
              "terminal, json when piped).")
def meetings_show(meeting_id: int, fmt: str | None) -> None:
    """Show one stored meeting."""
    from storage import repository as repo

    a = app()
    with a.session() as s:
        m = repo.get_meeting(s, repo.get_or_create_workspace(s), meeting_id)
        result = repo.meeting_result_dict(m) if m else None
    if result is None:
        fail(InputError(f"There is no meeting {meeting_id}.", "See the stored meetings with: onno meetings list"))
    click.echo(render(result, fmt or default_format()), nl=False)


@meetings.command("rename-speaker")
@click.argument("meeting_id", type=int)
@click.argument("old")
@click.argument("new")
def meetings_rename_speaker(meeting_id: int, old: str, new: str) -> None:
    """Name a speaker of a stored meeting ("Speaker 2" -> Daniel): lines, owners, askers and the Slack, Discord
    and Notion deliveries follow."""
    from onno.speakers import rename_speaker

    try:
        done = rename_speaker(app(), meeting_id, old, new)
    except InputError as exc:
        fail(exc)
    click.echo(done.summary())


@main.group()
def board() -> None:
    """The team's board of tickets, as Onno keeps it."""


@board.command("list")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--history", is_flag=True, help="Also show how each ticket moved, and which meeting moved it.")
@workspace_option
def board_list(fmt: str, history: bool, workspace: str) -> None:
    """List the stored tickets by status."""
    from storage import repository as repo

    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        rows = []
        for t in repo.list_tickets(s, ws):
            row = {"key": t.key, "title": t.title, "status": t.status}
            if history:
                row["history"] = [{"from": h.from_status, "to": h.to_status, "source": h.source,
                                   "meeting_id": h.meeting_id, "evidence": h.evidence,
                                   "at": h.created_at.isoformat(timespec="seconds")}
                                  for h in repo.ticket_history(s, ws, t.key)]
            rows.append(row)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("The board is empty. Import one with: onno board import FILE.json")
        return
    for status in ("TODO", "IN_PROGRESS", "DONE"):
        group = [r for r in rows if r["status"] == status]
        click.echo(f"{status} ({len(group)})")
        for r in group:
            click.echo(f"  {r['key']:<10} {r['title']}")
            for h in r.get("history", []):
                origin = f"meeting {h['meeting_id']}" if h["meeting_id"] else h["source"]
                click.echo(f"      {h['at']}  {h['from'] or '—'} → {h['to']}  ({origin})")


@board.command("import")
@click.argument("board_file", type=click.Path(path_type=Path))
@workspace_option
def board_import(board_file: Path, workspace: str) -> None:
    """Import tickets from a JSON file; existing keys are updated, new ones added (a Slack workspace's or Discord
    server's board with --workspace ID)."""
    from storage import repository as repo

    try:
        tickets = read_board(board_file)
    except InputError as exc:
        fail(exc)
    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        created, updated = repo.import_board(s, repo.workspace_by_id(s, ws_id), tickets)
    click.echo(f"Imported {len(tickets)} tickets: {created} new, {updated} updated.")


@main.command("workspaces")
def workspaces_cmd() -> None:
    """List the workspaces (this machine's, Slack teams, Discord servers) with the ids --workspace takes."""
    from sqlalchemy import select

    from storage.models import Workspace

    with app().session() as s:
        rows = list(s.scalars(select(Workspace).order_by(Workspace.id)))
        for ws in rows:
            click.echo(f"{ws.id:>4}  {ws.platform:<8} {ws.name}" + (f"  ({ws.external_id})" if ws.external_id !=
                                                                      ws.name else ""))
    if not rows:
        click.echo("No workspaces yet: the first meeting processed here, or a Slack or Discord install, makes one.")


@main.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (done automatically on first use too)."""
    from storage import db

    url = app().settings.resolved_database_url
    db.upgrade(url)
    click.echo(f"Database is up to date ({url.split('@')[-1]}).")


from onno.cli_jobs import jobs, outbox, submit, web, worker  # noqa: E402  (they use the helpers above)

for command in (submit, jobs, outbox, worker, web):
    main.add_command(command)

from onno.cli_billing import plan  # noqa: E402

main.add_command(plan)

from onno.cli_people import people  # noqa: E402

main.add_command(people)

from onno.cli_digest import digest  # noqa: E402

main.add_command(digest)

from bots.slack.cli import slack  # noqa: E402

main.add_command(slack)

from onno.cli_notion import notion  # noqa: E402

main.add_command(notion)

from onno.cli_review import review, settings_group  # noqa: E402

main.add_command(review)
main.add_command(settings_group)

from onno.cli_live import live_sim  # noqa: E402

main.add_command(live_sim)

from bots.discord.cli import discord_cmd  # noqa: E402

main.add_command(discord_cmd)

if __name__ == "__main__":
    main(prog_name=os.path.basename(sys.argv[0]))
