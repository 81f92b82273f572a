"""Gating at intake: a job the plan does not cover is refused before anything is stored, with a way up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from billing.accounts import effective_plan, get_account, usage
from billing.plans import PLANS, cheapest_with, includes
from core.errors import InputError
from core.links import billing_url
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


def check_boards(s: Session, settings, workspace: Workspace, existing: list[str]) -> None:
    """Raise PlanLimit when connecting one more Notion board than the plan holds; `existing`: the names of the
    boards connected now, other than the one being connected (reconnecting a name is never refused)."""
    if not billing_enabled(settings):
        return
    plan = effective_plan(get_account(s, workspace))
    if len(existing) < plan.boards:
        return
    names = ", ".join(f"`{n}`" for n in sorted(existing))
    better = next((p for p in PLANS.values() if p.boards > len(existing)), None)
    way_up = (f" or upgrade: {better.title} connects {better.boards} boards: "
              f"{billing_url(settings, workspace.id, plan=better.name)}" if better else "")
    raise PlanLimit(f"The {plan.title} plan connects {plan.boards} Notion board{'s' if plan.boards != 1 else ''}, "
                    f"and this workspace has {len(existing)} ({names}).",
                    "Nothing was connected. Connect again under an existing name to replace that board, "
                    "disconnect one first (`/onno notion disconnect NAME` in Slack, `onno notion disconnect --name "
                    f"NAME` on the server),{way_up or ' or ask for more.'}")
