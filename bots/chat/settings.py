"""One resolver for both bots: a channel's own value, else its workspace's (a Slack workspace, a Discord server),
else the built-in default; and, at intake, the deliveries that go with what was left out and why.

A delivery the plan (no longer) has, a board no longer connected, or e-mail this Onno cannot send is left out with
a note: the meeting itself is always processed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from billing.gate import PlanLimit, check_intake
from core.errors import InputError
from integrations import deliver as outbound
from integrations.notion.store import list_connections
from storage import review as review_repo

CHANNEL_SOURCE, DEFAULT_SOURCE = "this channel", "default"
DEFAULTS = {"meeting_type": "general", "email": False, "notion": False}


@dataclass
class Setting:
    value: object
    source: str  # "this channel" | the workspace's label ("server", "workspace") | "default"


@dataclass
class Effective:
    """What a channel's meetings get, and where each value comes from."""

    meeting_type: Setting
    email: Setting
    notion: Setting
    notion_target: str | None
    review_first: Setting
    own_review: bool | None  # the channel's own (None: the workspace's), as the job takes it


@dataclass
class Delivery:
    """The integrations a meeting from this channel goes to, its review-first choice, and what was left out."""

    targets: list[str]
    review_first: bool | None
    left_out: list[str]


@dataclass(frozen=True)
class Wording:
    """How a platform names its workspace and the command that picks a board."""

    place: str = "workspace"  # "this workspace", "this server"
    pick_board: str = "`/onno settings notion NAME`"


def resolve(s, ws, own: Mapping | None, shared: Mapping | None = None, *, shared_source: str = "workspace"
            ) -> Effective:
    """The channel's settings from its own values and its workspace's (None: not set there)."""
    layers = [(CHANNEL_SOURCE, own or {}), (shared_source, shared or {})]

    def pick(name: str) -> tuple[Setting, Mapping | None]:
        for source, values in layers:
            if values.get(name) is not None:
                return Setting(values[name], source), values
        return Setting(DEFAULTS[name], DEFAULT_SOURCE), None

    mtype, _ = pick("meeting_type")
    email, _ = pick("email")
    notion, where = pick("notion")
    own_review = (own or {}).get("review_first")
    review = Setting(own_review, CHANNEL_SOURCE) if own_review is not None else \
        Setting(review_repo.review_first(s, ws), shared_source)
    target = (where or {}).get("notion_target") if notion.value else None
    return Effective(meeting_type=mtype, email=email, notion=notion, notion_target=target, review_first=review,
                     own_review=own_review)


def plan_refusal(s, settings, ws, kind: str) -> PlanLimit | None:
    """The plan's refusal of a delivery kind (its message names the plan and the upgrade link), or None."""
    try:
        check_intake(s, settings, ws, minutes=None, kinds={kind})
    except PlanLimit as exc:
        return exc
    return None


def delivery(s, settings, ws, eff: Effective, wording: Wording = Wording()) -> Delivery:
    """The e-mail and Notion targets for a meeting handed over now; what cannot go is left out, said why."""
    wanted: list[tuple[str, str]] = []
    left_out: list[str] = []
    if eff.notion.value and eff.notion_target:
        if eff.notion_target in {c.name for c in list_connections(s, ws.id)}:
            wanted.append(("notion", f"notion:{eff.notion_target}"))
        else:
            left_out.append(f"Notion: the board `{eff.notion_target}` is no longer connected to this {wording.place}, "
                            f"so nothing goes there; connect it again, or pick another with {wording.pick_board}.")
    if eff.email.value:
        if settings.smtp_url:
            wanted.append(("email", "email:participants"))
        else:
            left_out.append("E-mail: e-mail isn't set up on this Onno (its operator sets ONNO_SMTP_URL), so no "
                            "summary is mailed.")
    targets = []
    for kind, target in wanted:
        if (refusal := plan_refusal(s, settings, ws, kind)) is not None:
            left_out.append(f"{refusal.problem} {refusal.hint}")
            continue
        try:
            targets.append(outbound.normalise_target(target))
        except InputError as exc:  # a delivery kind this Onno lacks
            left_out.append(f"{exc.problem} {exc.hint}")
    return Delivery(targets=targets, review_first=eff.own_review, left_out=left_out)


def left_out_text(left_out: list[str], bullet: str = "-") -> str:
    """The note beside an accepted upload: what does not go out this time."""
    return "Not sent this time:\n" + "\n".join(f"{bullet} {n}" for n in left_out)
