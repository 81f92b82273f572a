"""Gating at intake: a job the plan does not cover is refused before anything is stored, with a way up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing.accounts import usage
from billing.plans import cheapest_with, includes
from onno.links import billing_url
from pipeline.errors import InputError
from storage.models import Workspace

FEATURE_NAMES = {"notion": "Notion delivery", "email": "e-mailed summaries", "webhook": "webhook delivery",
                 "live_voice": "live voice meetings", "slack": "Slack results", "discord": "Discord results"}


class PlanLimit(InputError):
    """The workspace's plan does not cover this request; the hint says what it includes and how to upgrade."""


def billing_enabled(settings) -> bool:
    """Plans apply once Stripe is configured; a laptop or a self-hosted team without it has no limits."""
    return bool(settings.stripe_api_key)


def check_intake(s: Session, settings, workspace: Workspace, *, minutes: float | None,
                 kinds: set[str] = frozenset(), live: bool = False) -> None:
    """Raise PlanLimit when the plan lacks a requested feature or the minutes left do not cover this job."""
    if not billing_enabled(settings):
        return
    u = usage(s, workspace)
    plan = u.plan
    missing = sorted(k for k in kinds if k not in plan.deliveries) + (["live_voice"] if live and not
                                                                      plan.live_voice else [])
    if missing:
        better = cheapest_with(missing[0])
        link = billing_url(settings, workspace.id, plan=better.name)
        raise PlanLimit(f"The {plan.title} plan does not include {FEATURE_NAMES.get(missing[0], missing[0])}.",
                        f"{includes(plan)}. {better.title} includes it: {link}")
    if minutes is not None and u.used + minutes > plan.monthly_minutes:
        link = billing_url(settings, workspace.id, plan="pro" if plan.name == "free" else "team")
        raise PlanLimit(
            f"This recording is {minutes:.0f} min and the {plan.title} plan has {u.left:.0f} of its "
            f"{plan.monthly_minutes} minutes left until {u.period_end:%d %b %Y}.",
            f"Nothing was processed or stored. {includes(plan)}. More minutes: {link}")
