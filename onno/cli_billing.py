"""`onno plan`: the workspace's plan, minutes used and left, and links to upgrade or manage it."""

from __future__ import annotations

import json

import click

from core.errors import InputError
from onno.cli import app, fail


@click.group(invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.pass_context
def plan(ctx: click.Context, fmt: str) -> None:
    """Show the plan, the minutes used and left this period, and where to upgrade."""
    if ctx.invoked_subcommand:
        return
    from billing.report import plan_lines, plan_summary

    p = plan_summary(app())
    if fmt == "json":
        click.echo(json.dumps(p, indent=2))
        return
    click.echo("\n".join(plan_lines(p)))


@plan.command("upgrade")
@click.argument("plan_name", type=click.Choice(("pro", "team")))
def plan_upgrade(plan_name: str) -> None:
    """Print a Stripe Checkout link that upgrades this workspace to PLAN_NAME."""
    from billing import stripe_api
    from billing.accounts import get_account
    from billing.gate import billing_enabled
    from storage import repository as repo

    a = app()
    if not billing_enabled(a.settings):
        fail(InputError("Billing is not set up here.", "Set STRIPE_API_KEY and the STRIPE_PRICE_* ids first."))
    with a.session() as s:
        ws = repo.get_or_create_workspace(s)
        ws_id, customer = ws.id, get_account(s, ws, create=True).stripe_customer_id
    import stripe

    try:
        click.echo(stripe_api.checkout_session(a.settings, workspace_id=ws_id, plan=plan_name, customer=customer))
    except InputError as exc:
        fail(exc)
    except stripe.StripeError as exc:
        fail(InputError(stripe_api.problem(exc)[1]))
