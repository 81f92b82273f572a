"""`onno settings review-first on|off` and `onno review MEETING_ID`: hold Notion and e-mail until approved."""

from __future__ import annotations

import click

from core.errors import InputError
from onno.cli import app, fail


@click.group("settings")
def settings_group() -> None:
    """Workspace settings."""


@settings_group.command("review-first")
@click.argument("state", type=click.Choice(("on", "off")), required=False)
def review_first_cmd(state: str | None) -> None:
    """Hold Notion and e-mail deliveries until someone approves the findings (`onno review`); off by default."""
    from storage import repository as repo
    from storage import review as review_repo

    with app().session() as s:
        ws = repo.get_or_create_workspace(s)
        if state is not None:
            review_repo.set_review_first(s, ws, state == "on")
        on = review_repo.review_first(s, ws)
    click.echo("Review first: on (Notion and e-mail wait for `onno review MEETING_ID --approve`)." if on
               else "Review first: off (results are delivered at once).")


def _number(items: list, n: int) -> int:
    if not 1 <= n <= len(items):
        fail(InputError(f"There is no action item {n}.", f"Pick a number from 1 to {len(items)}."
                        if items else "This meeting has no action items."))
    return n - 1


@click.command()
@click.argument("meeting_id", type=int)
@click.option("--drop", "drops", type=int, multiple=True, metavar="N", help="Drop action item N (repeatable).")
@click.option("--keep", "keeps", type=int, multiple=True, metavar="N",
              help="Approve action item N (undoes a drop; repeatable).")
@click.option("--edit", "edits", type=(int, str), multiple=True, metavar="N TEXT", help="New text for item N.")
@click.option("--owner", "owners", type=(int, str), multiple=True, metavar="N NAME",
              help='New owner for item N ("" for nobody).')
@click.option("--due", "dues", type=(int, str), multiple=True, metavar="N YYYY-MM-DD", help="New due date for N.")
@click.option("--approve", is_flag=True, help="Approve the meeting: held Notion and e-mail deliveries go out.")
def review(meeting_id: int, drops, keeps, edits, owners, dues, approve: bool) -> None:
    """Review a meeting's action items before its Notion and e-mail deliveries go out.

    Without options, list them with their numbers; changes are applied before --approve.
    """
    from storage import repository as repo
    from storage import review as review_repo

    a = app()
    with a.session() as s:
        ws = repo.get_or_create_workspace(s)
        if repo.get_meeting(s, ws, meeting_id) is None:
            fail(InputError(f"There is no meeting {meeting_id}.", "See the meetings with: onno meetings list"))
        items = review_repo.action_items(s, meeting_id)
        changes: dict[int, dict] = {}
        for n in drops:
            changes.setdefault(_number(items, n), {})["status"] = "dropped"
        for n in keeps:
            changes.setdefault(_number(items, n), {})["status"] = "approved"
        for field, pairs in (("text", edits), ("owner", owners), ("due", dues)):
            for n, value in pairs:
                checked, errors = review_repo.check_edits(**{field: value})
                if errors:
                    fail(InputError(f"Action item {n}: {errors[field]}"))
                changes.setdefault(_number(items, n), {}).setdefault("edits", {}).update(checked)
        for i, change in changes.items():
            try:
                review_repo.review_finding(s, items[i], status=change.get("status"), edits=change.get("edits"),
                                           user="cli")
            except review_repo.ReviewClosed as exc:
                fail(exc)
    released = a.runner.approve(meeting_id, user="cli") if approve else []
    with a.session() as s:
        state = review_repo.meeting_review(s, meeting_id)
        rows = review_repo.reviewed_items(s, meeting_id)
        held = [d.target for d in review_repo.held_deliveries(s, meeting_id)]
        status = state.status if state else None
    if not rows:
        click.echo("No action items.")
    for n, (_finding, item_state, item) in enumerate(rows, 1):
        line = f"{n:>3}. {item.get('text') or ''} — {item.get('owner') or 'unassigned'}"
        if item.get("due"):
            line += f", due {item['due']}"
        mark = {"dropped": "  [dropped]", "approved": "  [approved]",
                "possible": "  [possible: not sent unless kept]"}.get(item_state, "")
        click.echo(line + mark)
    if status is None:
        click.echo("This meeting was not held for review: everything went out at once.")
    elif approve:
        click.echo(f"Approved: sending {len(released)} held deliver{'y' if len(released) == 1 else 'ies'}."
                   if released else "Already approved: nothing more to send.")
    elif status == "approved":
        click.echo("Approved already.")
    else:
        click.echo(f"Held for review: {', '.join(held) or 'nothing'}. Send with: onno review {meeting_id} --approve")
