"""`onno plan`: the workspace's plan, minutes used and left, and links to upgrade or manage it."""

from __future__ import annotations

import json

import click

from onno.cli import app, fail
from pipeline.errors import InputError


def plan_summary(a, workspace: str | int = "local") -> dict:
    """What `onno plan` and `/onno plan` show, as data."""
    from billing.accounts import usage
    from billing.gate import billing_enabled
    from billing.plans import includes
    from onno.links import billing_url
    from storage import repository as repo

    with a.session() as s:
        ws = repo.resolve_workspace(s, workspace)
        u = usage(s, ws)
        ws_id = ws.id
    enabled = billing_enabled(a.settings)
    return {"plan": u.plan.name, "title": u.plan.title, "status": u.status, "billing": enabled,
            "minutes_used": round(u.used, 1), "minutes_included": u.plan.monthly_minutes,
            "minutes_left": round(u.left, 1), "period_start": u.period_start.isoformat(),
            "period_end": u.period_end.isoformat(), "includes": includes(u.plan), "notice": u.notice,
            "upgrade_url": billing_url(a.settings, ws_id, plan="team" if u.plan.name == "pro" else "pro")
            if enabled and u.plan.name != "team" else None,
            "manage_url": billing_url(a.settings, ws_id, "manage") if enabled and u.status != "none" else None}


@click.group(invoke_without_command=True)
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.pass_context
def plan(ctx: click.Context, fmt: str) -> None:
    """Show the plan, the minutes used and left this period, and where to upgrade."""
    if ctx.invoked_subcommand:
        return
    p = plan_summary(app())
    if fmt == "json":
        click.echo(json.dumps(p, indent=2))
        return
    if not p["billing"]:
        click.echo(f"Billing is off here (no STRIPE_API_KEY): no limits apply. {p['minutes_used']:.0f} minutes "
                   "processed this month.")
        return
    status = "" if p["status"] in ("none", "active") else f" ({p['status']})"
    click.echo(f"{p['title']} plan{status}: {p['minutes_used']:.0f} of {p['minutes_included']} minutes "
               f"used, {p['minutes_left']:.0f} left until {p['period_end'][:10]}.")
    click.echo(p["includes"] + ".")
    if p["notice"]:
        click.echo(f"Note: {p['notice']}")
    if p["upgrade_url"]:
        click.echo(f"Upgrade: {p['upgrade_url']}")
    if p["manage_url"]:
        click.echo(f"Manage or cancel: {p['manage_url']}")


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
    try:
        click.echo(stripe_api.checkout_session(a.settings, workspace_id=ws_id, plan=plan_name, customer=customer))
    except InputError as exc:
        fail(exc)
