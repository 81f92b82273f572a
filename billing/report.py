"""A workspace's plan as every surface shows it (`onno plan`, `/onno plan`, Discord's `/onno plan`)."""

from __future__ import annotations

from billing.accounts import usage
from billing.gate import billing_enabled
from billing.plans import includes
from core.links import billing_url
from storage import repository as repo


def plan_summary(app, workspace: str | int = "local") -> dict:
    """The plan, minutes used and left this period, any notice for the team, and the links to act on it."""
    with app.session() as s:
        ws = repo.resolve_workspace(s, workspace)
        u = usage(s, ws)
        ws_id = ws.id
    enabled = billing_enabled(app.settings)
    return {"plan": u.plan.name, "title": u.plan.title, "status": u.status, "billing": enabled,
            "minutes_used": round(u.used, 1), "minutes_included": u.plan.monthly_minutes,
            "minutes_left": round(u.left, 1), "period_start": u.period_start.isoformat(),
            "period_end": u.period_end.isoformat(), "includes": includes(u.plan), "notice": u.notice,
            "upgrade_url": billing_url(app.settings, ws_id, plan="team" if u.plan.name == "pro" else "pro")
            if enabled and u.plan.name != "team" else None,
            "manage_url": billing_url(app.settings, ws_id, "manage") if enabled and u.status != "none" else None}


def plan_lines(p: dict, *, bold: str = "", link=lambda url: url) -> list[str]:
    """The summary as a few lines; `bold` and `link` carry the chat platform's markup (plain by default)."""
    if not p["billing"]:
        return [f"Billing is off here: no limits apply. {p['minutes_used']:.0f} minutes processed this month."]
    status = "" if p["status"] in ("none", "active") else f" ({p['status']})"
    lines = [f"{bold}{p['title']} plan{status}{bold}: {p['minutes_used']:.0f} of {p['minutes_included']} minutes "
             f"used, {p['minutes_left']:.0f} left until {p['period_end'][:10]}.", p["includes"] + "."]
    if p["notice"]:
        lines.append(f"Note: {p['notice']}")
    if p["upgrade_url"]:
        lines.append(f"Upgrade: {link(p['upgrade_url'])}")
    if p["manage_url"]:
        lines.append(f"Manage or cancel: {link(p['manage_url'])}")
    return lines
