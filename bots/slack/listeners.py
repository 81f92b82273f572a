"""Bolt listeners: thin, each acknowledges at once and does its work after (Slack retries after 3 s)."""

from __future__ import annotations

import logging

from bots.slack import commands
from bots.slack.files import intake
from bots.slack.home import home_view
from integrations import deliver as outbound
from pipeline.errors import InputError
from storage import jobs as jobs_repo
from storage import slack as slack_repo
from storage.models import Job

log = logging.getLogger(__name__)


def team_of(body: dict, context=None) -> str | None:
    return (getattr(context, "team_id", None) if context is not None else None) or body.get("team_id") \
        or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")


def register(bot) -> None:
    bolt = bot.bolt

    @bolt.event("file_shared")
    async def file_shared(body, event, context):
        bot.spawn(intake(bot, team_id=team_of(body, context), file_id=event["file_id"],
                         channel_id=event.get("channel_id"), user_id=event.get("user_id"),
                         event_id=body.get("event_id")))

    @bolt.event("message")
    async def message(body, event, context):
        if event.get("subtype") != "file_share" or not event.get("files"):
            return
        team = team_of(body, context)
        for n, f in enumerate(event["files"]):
            # Slack sends file_shared for the same upload: the file's claim, not the event id, stops a second job.
            bot.spawn(intake(bot, team_id=team, file_id=f["id"], channel_id=event.get("channel"),
                             user_id=event.get("user"), event_id=f"{body.get('event_id')}:{n}"))

    @bolt.event("app_home_opened")
    async def app_home_opened(body, event, context, client):
        if event.get("tab", "home") != "home":
            return
        bot.spawn(publish_home(bot, client, team_of(body, context), event["user"]))

    @bolt.command("/onno")
    async def onno_command(ack, command, respond):
        await commands.handle(bot, ack, command, respond)

    @bolt.action("onno_item_done")
    async def item_done(ack, body, action, client, respond, context):
        await ack()
        bot.spawn(mark_item(bot, body, action, client, respond, "done", team_of(body, context)))

    @bolt.action("onno_item_not_action")
    async def item_not_action(ack, body, action, client, respond, context):
        await ack()
        bot.spawn(mark_item(bot, body, action, client, respond, "not_action", team_of(body, context)))

    @bolt.action("onno_email_me")
    async def email_me(ack, body, action, client, respond, context):
        await ack()
        bot.spawn(send_on(bot, body, action, client, respond, "email", team_of(body, context)))

    @bolt.action("onno_send_notion")
    async def send_notion(ack, body, action, client, respond, context):
        await ack()
        bot.spawn(send_on(bot, body, action, client, respond, "notion", team_of(body, context)))

    @bolt.action("onno_review_approve")
    async def review_approve(ack, body, action, client, respond, context):
        await ack()
        bot.spawn(approve_meeting(bot, body, action, client, respond, team_of(body, context)))

    @bolt.action("onno_open_meeting")
    async def open_meeting(ack):
        await ack()  # a link button: the browser opens the page, Slack still tells us


# -- App Home ------------------------------------------------------------------------------------------------------


async def publish_home(bot, client, team_id: str, user_id: str) -> None:
    names: list[str] = []
    try:
        user = (await client.users_info(user=user_id))["user"]
        profile = user.get("profile") or {}
        names = [n for n in (profile.get("real_name"), profile.get("display_name"), user.get("name")) if n]
    except Exception as exc:  # no users:read: the home still lists recent meetings
        log.warning("users.info %s failed: %s", user_id, exc)
    view = await bot.db(home_view, bot.app, team_id, names)
    await client.views_publish(user_id=user_id, view=view)


# -- buttons -------------------------------------------------------------------------------------------------------


def _mark(app, team_id: str, finding_id: int, status: str, user_id: str) -> str | None:
    """Store the mark; the item's text, or None when it is not this workspace's."""
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        finding = slack_repo.workspace_finding(s, ws, finding_id)
        if finding is None or finding.kind != "action_item":
            return None
        slack_repo.mark_action_item(s, ws, finding, status, user_id)
        return finding.text


def marked_blocks(blocks: list[dict], finding_id: int, status: str, user_id: str) -> list[dict]:
    """The message's blocks with that item struck through and its buttons gone."""
    out: list[dict] = []
    for block in blocks:
        if block.get("block_id") == f"item-{finding_id}":
            if out and out[-1].get("type") == "section":
                line = out[-1]["text"]["text"].removeprefix("☐ ")
                label = "✅ done" if status == "done" else "_not an action item_"
                out[-1] = {"type": "section", "text": {"type": "mrkdwn",
                                                       "text": f"~{line}~ {label} (<@{user_id}>)"}}
            continue
        out.append(block)
    return out


async def mark_item(bot, body: dict, action: dict, client, respond, status: str, team_id: str) -> None:
    user_id = body["user"]["id"]
    try:
        finding_id = int(action["value"])
    except (KeyError, ValueError):
        return
    text = await bot.db(_mark, bot.app, team_id, finding_id, status, user_id)
    if text is None:
        await respond(text="That action item isn't in this workspace any more.", response_type="ephemeral",
                      replace_original=False)
        return
    container = body.get("container") or {}
    if container.get("type") == "view" or body.get("view"):
        await publish_home(bot, client, team_id, user_id)
        return
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    if message.get("blocks") and channel:
        await client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or text,
                                 blocks=marked_blocks(message["blocks"], finding_id, status, user_id))


def _held_for_review(app, team_id: str, meeting_id: int) -> dict | None:
    """The workspace id and the held delivery kinds of this workspace's meeting; None when it isn't one."""
    from integrations.slack.adapter import waiting_for_review
    from storage import repository as repo

    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        if repo.get_meeting(s, ws, meeting_id) is None:
            return None
        return {"workspace_id": ws.id, "held": waiting_for_review(s, meeting_id)}


async def approve_meeting(bot, body: dict, action: dict, client, respond, team_id: str) -> None:
    """Approve & send: the meeting's held Notion and e-mail deliveries go out with what was not marked away."""
    from integrations.slack.blocks import approved_blocks

    user_id = body["user"]["id"]
    try:
        meeting_id = int(action["value"])
    except (KeyError, ValueError):
        return
    found = await bot.db(_held_for_review, bot.app, team_id, meeting_id)
    if found is None:
        await respond(text="That meeting isn't in this workspace any more.", response_type="ephemeral",
                      replace_original=False)
        return
    released = await bot.in_jobs_pool(bot.app.runner.approve, meeting_id, found["workspace_id"], user=user_id)
    if not released:
        await respond(text="Already approved: nothing more to send.", response_type="ephemeral",
                      replace_original=False)
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    if released and message.get("blocks") and channel:
        await client.chat_update(channel=channel, ts=message["ts"], text=message.get("text") or "Approved",
                                 blocks=approved_blocks(message["blocks"], meeting_id, user_id, found["held"]))


def _job_of_meeting(app, team_id: str, meeting_id: int, channel_id: str | None, kind: str) -> dict:
    from sqlalchemy import select

    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        job = s.scalar(select(Job).where(Job.workspace_id == ws.id, Job.meeting_id == meeting_id))
        opts = slack_repo.channel_settings(s, ws, channel_id).options if channel_id else {}
        return {"job_id": job.id if job else None, "options": dict(opts or {})}


def _add_delivery(app, team_id: str, job_id: str, target: str) -> tuple[int | None, bool]:
    """(the new row's id or None when there is one already, whether it waits for the meeting's review)."""
    from storage import review as review_repo

    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        job = jobs_repo.get_job(s, job_id, ws)
        review = review_repo.meeting_review(s, job.meeting_id) if job.meeting_id else None
        hold = review_repo.HELD_KINDS if review is not None and review.status != "approved" else frozenset()
        rows = jobs_repo.create_deliveries(s, job, [target], hold=hold)
        return (rows[0].id, rows[0].status == "held") if rows else (None, False)


async def send_on(bot, body: dict, action: dict, client, respond, kind: str, team_id: str) -> None:
    """E-mail me / send to Notion: a new outbox row for the meeting's job, when that integration exists."""
    async def say(text: str) -> None:
        await respond(text=text, response_type="ephemeral", replace_original=False)

    names = {"email": "E-mail", "notion": "Notion"}
    if kind not in outbound.ADAPTERS or (kind == "email" and not getattr(bot.settings, "smtp_url", "")):
        await say(f"{names[kind]} isn't configured yet for this Onno. Ask whoever runs it to set it up.")
        return
    channel = (body.get("channel") or {}).get("id")
    try:
        meeting_id = int(action["value"])
    except (KeyError, ValueError):
        return
    found = await bot.db(_job_of_meeting, bot.app, team_id, meeting_id, channel, kind)
    if found["job_id"] is None:
        await say("I can't find that meeting in this workspace.")
        return
    if kind == "email":
        user = (await client.users_info(user=body["user"]["id"]))["user"]
        address = (user.get("profile") or {}).get("email")
        if not address:
            await say("Slack didn't tell me your e-mail address (the app needs `users:read.email`).")
            return
        target = f"email:{address}"
    else:
        notion = found["options"].get("notion_target")
        if not notion:
            await say("Tell me where in Notion first: `/onno settings notion TARGET`.")
            return
        target = f"notion:{notion}"
    try:
        target = outbound.normalise_target(target)
    except InputError as exc:
        await say(f"{names[kind]} isn't set up right yet: {exc.problem}")
        return
    delivery_id, held = await bot.db(_add_delivery, bot.app, team_id, found["job_id"], target)
    if delivery_id is None:
        await say("Already sent there.")
        return
    if held:
        await say("It goes out when someone presses *Approve & send* in the thread (this channel reviews first).")
        return
    await bot.in_jobs_pool(bot.app.runner.send, "deliver", delivery_id)
    await say("On its way." if kind == "notion" else f"On its way to {address}.")
