"""The plans, in one table: what each includes and costs. Change the numbers here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Plan:
    name: str
    title: str
    monthly_minutes: int  # processed audio per billing period
    live_voice: bool  # the Discord bot joining voice channels
    deliveries: frozenset[str]  # delivery target kinds this plan may use
    boards: int
    weekly_digest: bool
    price_usd: int  # per month, shown to users; Stripe's price ids come from settings


THREAD_RESULTS = frozenset({"slack", "discord"})
INTEGRATIONS = frozenset({"notion", "email", "webhook"})

PLANS = {
    "free": Plan("free", "Free", 120, False, THREAD_RESULTS, 1, False, 0),
    "pro": Plan("pro", "Pro", 1200, True, THREAD_RESULTS | INTEGRATIONS, 1, False, 20),
    "team": Plan("team", "Team", 6000, True, THREAD_RESULTS | INTEGRATIONS, 10, True, 60),
}
PAID = ("pro", "team")


def includes(plan: Plan) -> str:
    """One line on what a plan includes, for replies that refuse something."""
    extras = ["live Discord voice"] if plan.live_voice else ["uploaded recordings"]
    extras.append("results in Slack and Discord threads")
    if plan.deliveries & INTEGRATIONS:
        extras.append("Notion, e-mail and webhook delivery")
    if plan.boards > 1:
        extras.append(f"{plan.boards} boards")
    if plan.weekly_digest:
        extras.append("weekly digests")
    return f"{plan.title}: {plan.monthly_minutes} minutes a month, " + ", ".join(extras)


def cheapest_with(feature: str) -> Plan:
    """The first plan that has `feature` (a delivery kind or 'live_voice'), to suggest in an upgrade reply."""
    for plan in PLANS.values():
        if feature == "live_voice" and plan.live_voice or feature in plan.deliveries:
            return plan
    return PLANS["team"]
