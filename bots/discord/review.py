"""Review first in Discord: the review panel's buttons, select menu and edit form, answered by custom id.

The panel (integrations/discord/format.review_panel) is posted by the meeting's delivery, maybe by another process.
Its custom ids (`onno:review:ACTION:ID`) carry all a click needs, so the panel keeps working after a restart:
nothing is held in memory. Each click reads the review from the database, changes it through bots.review (the
rules Slack's buttons follow too), then redraws the panel in place (interaction callback 7), or answers privately
when it can't be done.
"""

from __future__ import annotations

import logging

import discord
from sqlalchemy import select

from bots import review as shared
from bots.discord import commands as cmd
from integrations.discord.format import BUTTON_ITEMS, PREFIX, edit_modal, review_panel
from storage.discord import DiscordIntake, DiscordLiveMeeting
from storage.models import Job
from storage.review import check_edits

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
NOT_IN_SERVER = "Review a meeting in the server it belongs to."
CANT_APPROVE = ("Only the person who started this meeting (or uploaded it), or someone with **Manage Messages** "
                "in this channel, can approve it. Ask one of them, or a server admin for that permission.")


class Components(discord.ui.View):
    """Components given as Discord's JSON (what the delivery posted): drawn as they are, nothing dispatched here."""

    def __init__(self, rows: list[dict]):
        super().__init__(timeout=None)
        self.rows = rows

    def to_components(self) -> list[dict]:
        return self.rows


class Form(discord.ui.Modal):
    """A modal given as Discord's JSON. It is answered by custom id like the panel (so a form left open over a
    restart still saves), so discord.py is not asked to keep it: it is stopped before it is sent."""

    def __init__(self, data: dict):
        super().__init__(title=data["title"], custom_id=data["custom_id"], timeout=None)
        self.rows = data["components"]
        self.stop()

    def to_components(self) -> list[dict]:
        return self.rows


def starter(app, meeting_id: int) -> str | None:
    """Who ran `/onno join` or `/onno process` for this meeting; None for one that came from elsewhere."""
    with app.session() as s:
        q = (select(DiscordIntake.started_by).join(Job, Job.id == DiscordIntake.job_id)
             .where(Job.meeting_id == meeting_id))
        if (who := s.scalars(q).first()) is not None:
            return who
        q = (select(DiscordLiveMeeting.started_by).join(Job, Job.id == DiscordLiveMeeting.job_id)
             .where(Job.meeting_id == meeting_id))  # meetings recorded before intakes were noted
        return s.scalars(q).first()


def fields(components: list[dict]) -> dict[str, str]:
    """A modal submission's values by text input custom id (inside labels or action rows)."""
    out: dict[str, str] = {}
    for c in components or []:
        if c.get("type") == 1:
            out.update(fields(c.get("components") or []))
        elif c.get("type") == 18:
            out.update(fields([c.get("component") or {}]))
        elif c.get("custom_id"):
            out[c["custom_id"]] = c.get("value") or ""
    return out


async def handle(bot, interaction: discord.Interaction) -> bool:
    """Answer a click on a review panel or its edit form; False for any other interaction."""
    data = interaction.data or {}
    cid = str(data.get("custom_id") or "")
    kind = interaction.type
    if not cid.startswith(PREFIX) or kind not in (discord.InteractionType.component,
                                                  discord.InteractionType.modal_submit):
        return False
    action, _, ref = cid.removeprefix(PREFIX).partition(":")
    try:
        await _handle(bot, interaction, action, int(ref), kind == discord.InteractionType.modal_submit, data)
    except shared.Refused as exc:
        await private(interaction, str(exc))
    except (ValueError, KeyError) as exc:
        log.warning("a review interaction %r we can't read: %s", cid, exc)
        await private(interaction, "I couldn't read that click; the message may be out of date.")
    return True


async def private(interaction: discord.Interaction, text: str) -> None:
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)


async def _handle(bot, interaction: discord.Interaction, action: str, ref: int, submitted: bool,
                  data: dict) -> None:
    if interaction.guild_id is None or not isinstance(interaction.user, discord.Member):
        raise shared.Refused(NOT_IN_SERVER)
    guild = interaction.guild
    ws_id = await bot.db(cmd.workspace_id, bot.app, interaction.guild_id, guild.name if guild else None)
    user = str(interaction.user.id)
    app = bot.app
    if action in ("drop", "restore"):
        status = "dropped" if action == "drop" else "approved"
        meeting_id = await bot.db(shared.change, app, ws_id, ref, status=status, user=user)
        await redraw(bot, interaction, ws_id, meeting_id, picked=ref)
    elif action == "edit" and not submitted:
        item = await bot.db(shared.item, app, ws_id, ref)
        await interaction.response.send_modal(Form(edit_modal(item)))
    elif action == "edit":
        edits, errors = check_edits(**{k: v for k, v in fields(data.get("components")).items()
                                       if k in ("text", "owner", "due")})
        if errors:
            raise shared.Refused("Nothing was changed: " + " ".join(errors.values()) + " Press Edit to try again.")
        meeting_id = await bot.db(shared.change, app, ws_id, ref, edits=edits, user=user)
        if interaction.message is None:
            await private(interaction, "Saved.")
            return
        await redraw(bot, interaction, ws_id, meeting_id, picked=ref)
    elif action == "pick":
        await redraw(bot, interaction, ws_id, ref, picked=int((data.get("values") or [""])[0]))
    elif action == "approve":
        await approve(bot, interaction, ws_id, ref)
    else:
        raise shared.Refused("That button belongs to a newer version of Onno; try again in a minute.")


async def redraw(bot, interaction: discord.Interaction, ws_id: int, meeting_id: int, *, picked: int | None) -> None:
    """The panel again, as the review stands now, in place of the one clicked."""
    state = await bot.db(shared.state, bot.app, ws_id, meeting_id)
    content, rows = review_panel(state, picked=picked if len(state["rows"]) > BUTTON_ITEMS else None)
    await interaction.response.edit_message(content=content, view=Components(rows), allowed_mentions=NO_MENTIONS)


async def approve(bot, interaction: discord.Interaction, ws_id: int, meeting_id: int) -> None:
    """Approve & send, for the meeting's starter or anyone who may manage messages here; then the panel says so."""
    state = await bot.db(shared.state, bot.app, ws_id, meeting_id)
    user = str(interaction.user.id)
    if state["status"] == "approved":
        raise shared.Refused("Already approved: nothing more to send.")
    if not interaction.permissions.manage_messages and user != await bot.db(starter, bot.app, meeting_id):
        raise shared.Refused(CANT_APPROVE)
    await interaction.response.defer()  # sending may outlast Discord's 3 seconds: the panel is edited after
    _held, released = await bot.in_jobs_pool(shared.approve, bot.app, ws_id, meeting_id, user=user)
    content, rows = review_panel(await bot.db(shared.state, bot.app, ws_id, meeting_id))
    await interaction.edit_original_response(content=content, view=Components(rows), allowed_mentions=NO_MENTIONS)
    if not released:
        await private(interaction, "Already approved: nothing more to send.")
