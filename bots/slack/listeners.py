"""Bolt listeners: thin, each acknowledges at once and does its work after (Slack retries after 3 s)."""

from __future__ import annotations

import json
import logging
import re

from bots import review as shared_review
from bots.slack import commands
from bots.slack.files import intake
from bots.slack.home import home_view
from core.errors import InputError
from integrations import deliver as outbound
from integrations.notion.store import list_connections
from integrations.slack.blocks import EDIT_CALLBACK
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

    def button(handler, *args):
        """A button's listener: acknowledge within Slack's 3 seconds, then do the work in the background."""
        async def listener(ack, body, action, client, respond, context):
            await ack()
            bot.spawn(handler(bot, body, action, client, respond, *args, team_of(body, context)))
        return listener

    for action_id, handler, *args in [
            ("onno_item_done", mark_item, "done"), ("onno_item_not_action", mark_item, "not_action"),
            ("onno_email_me", send_on, "email"), ("onno_send_notion", send_on, "notion"),
            ("onno_review_approve", approve_meeting), ("onno_item_drop", review_item, "dropped"),
            ("onno_item_restore", review_item, "approved"), ("onno_item_edit", open_edit)]:
        bolt.action(action_id)(button(handler, *args))

    @bolt.view(EDIT_CALLBACK)
    async def item_edited(ack, body, view, client, context):
        await save_edit(bot, ack, body, view, client, team_of(body, context))

    @bolt.action(re.compile(r"^onno_open_(meeting|link)$"))
    async def open_link(ack):
        await ack()  # a link button: the browser opens the page, Slack still tells us


# -- App Home ------------------------------------------------------------------------------------------------------


async def publish_home(bot, client, team_id: str, user_id: str) -> None:
    names: list[str] = []
    admin = False
    try:
        user = (await client.users_info(user=user_id))["user"]
        profile = user.get("profile") or {}
        names = [n for n in (profile.get("real_name"), profile.get("display_name"), user.get("name")) if n]
        admin = any(user.get(k) for k in ("is_admin", "is_owner", "is_primary_owner"))
    except Exception as exc:  # no users:read: the home still lists recent meetings
        log.warning("users.info %s failed: %s", user_id, exc)
    view = await bot.db(home_view, bot.app, team_id, names, admin)
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


# -- review first: edit, drop, restore, approve -------------------------------------------------------------------


OUTSIDER = "Only members of the workspace this meeting belongs to can review it."


def outsider(body: dict, team_id: str | None) -> bool:
    """A person from another organisation (a Slack Connect channel) clicking on our message."""
    home = (body.get("user") or {}).get("team_id")
    return bool(home and team_id and home != team_id)


def where(body: dict) -> tuple[str | None, str | None]:
    """(channel, ts) of the message a button was on."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return channel, (body.get("message") or {}).get("ts") or (body.get("container") or {}).get("message_ts")


def _result_message(app, team_id: str, meeting_id: int) -> dict | None:
    """Everything the thread reply is drawn from, as it stands now (the adapter's first post, plus the review)."""
    from core.links import meeting_url
    from storage import repository as repo
    from storage import review as review_repo

    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        meeting = repo.get_meeting(s, ws, meeting_id)
        if meeting is None:
            return None
        state = review_repo.review_state(s, meeting_id)
        pending = state is not None and state["status"] != "approved"
        return {"result": repo.meeting_result_dict(meeting), "item_ids": slack_repo.action_item_ids(s, meeting_id),
                "marks": slack_repo.marks(s, ws), "held": state["kinds"] if pending else [],
                "reviews": {fid: (st, item) for fid, st, item in state["rows"]} if state else {},
                "possibles": review_repo.possible_rows(s, meeting_id) if pending else [],
                "link": meeting_url(app.settings, ws.id, meeting_id)}


def _mentions(settings, token: str | None, team_id: str):
    from integrations.slack import api
    from integrations.slack.adapter import members
    from integrations.slack.members import MemberIndex

    return members(api.client(settings, token), team_id) if token else MemberIndex([])


async def refresh_result(bot, client, team_id: str, meeting_id: int, channel: str | None, ts: str | None) -> None:
    """Draw the meeting's thread reply again with what reviewers did, in place (chat.update)."""
    from integrations.slack.blocks import result_blocks

    if not channel or not ts:
        return
    data = await bot.db(_result_message, bot.app, team_id, meeting_id)
    if data is None:
        return
    index = await bot.db(_mentions, bot.settings, client.token, team_id)
    text, blocks = result_blocks(data["result"], link=data["link"], item_ids=data["item_ids"], meeting_id=meeting_id,
                                 mention=index.mention, marks=data["marks"], held=data["held"],
                                 reviews=data["reviews"], possibles=data["possibles"])
    await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)


async def review_click(bot, body: dict, action: dict, respond, team_id: str, act) -> None:
    """An action item's review button: only for this workspace's people; `act(ws_id, finding_id)` does the rest
    and may raise Refused, said privately to the person who clicked."""
    async def say(text: str) -> None:
        await respond(text=text, response_type="ephemeral", replace_original=False)

    if outsider(body, team_id):
        await say(OUTSIDER)
        return
    try:
        finding_id = int(action["value"])
    except (KeyError, ValueError):
        return
    ws_id = await bot.db(bot.workspace_id, team_id)
    try:
        await act(ws_id, finding_id)
    except shared_review.Refused as exc:
        await say(str(exc))


async def review_item(bot, body: dict, action: dict, client, respond, status: str, team_id: str) -> None:
    """Drop an action item from what goes out, or restore it (undo)."""
    async def act(ws_id: int, finding_id: int) -> None:
        meeting_id = await bot.db(shared_review.change, bot.app, ws_id, finding_id, status=status,
                                  user=body["user"]["id"])
        await refresh_result(bot, client, team_id, meeting_id, *where(body))

    await review_click(bot, body, action, respond, team_id, act)


async def open_edit(bot, body: dict, action: dict, client, respond, team_id: str) -> None:
    """Edit: a modal with the item's text, owner and due date (views.open within the trigger's 3 seconds)."""
    from integrations.slack.blocks import edit_modal

    async def act(ws_id: int, finding_id: int) -> None:
        item = await bot.db(shared_review.item, bot.app, ws_id, finding_id)
        channel, ts = where(body)
        metadata = json.dumps({"finding": finding_id, "channel": channel, "ts": ts})
        await client.views_open(trigger_id=body["trigger_id"], view=edit_modal(item, metadata=metadata))

    await review_click(bot, body, action, respond, team_id, act)


def submitted(view: dict) -> dict[str, str]:
    """What the edit modal's fields hold: text, owner ("" when emptied) and due ("" when none picked)."""
    values = (view.get("state") or {}).get("values") or {}

    def field(block: str, key: str) -> str:
        return ((values.get(block) or {}).get("value") or {}).get(key) or ""

    return {"text": field("text", "value"), "owner": field("owner", "value"), "due": field("due", "selected_date")}


async def save_edit(bot, ack, body: dict, view: dict, client, team_id: str) -> None:
    """The edit modal's Save: checked fields, or the form stays open with what to fix under each field."""
    from storage.review import check_edits

    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        finding_id = int(meta["finding"])
    except (ValueError, KeyError, TypeError):
        await ack(response_action="errors", errors={"text": "This form is out of date: close it and press Edit "
                                                            "again."})
        return
    if outsider(body, team_id):
        await ack(response_action="errors", errors={"text": OUTSIDER})
        return
    edits, errors = check_edits(**submitted(view))
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    ws_id = await bot.db(bot.workspace_id, team_id)
    try:
        meeting_id = await bot.db(shared_review.change, bot.app, ws_id, finding_id, edits=edits,
                                  user=body["user"]["id"])
    except shared_review.Refused as exc:
        await ack(response_action="errors", errors={"text": str(exc)})
        return
    await ack()
    bot.spawn(refresh_result(bot, client, team_id, meeting_id, meta.get("channel"), meta.get("ts")))


async def approve_meeting(bot, body: dict, action: dict, client, respond, team_id: str) -> None:
    """Approve & send: the meeting's held Notion and e-mail deliveries go out with the reviewed action items."""
    from integrations.slack.blocks import approved_blocks

    async def say(text: str) -> None:
        await respond(text=text, response_type="ephemeral", replace_original=False)

    user_id = body["user"]["id"]
    if outsider(body, team_id):
        await say(OUTSIDER)
        return
    try:
        meeting_id = int(action["value"])
    except (KeyError, ValueError):
        return
    ws_id = await bot.db(bot.workspace_id, team_id)
    try:
        held, released = await bot.in_jobs_pool(shared_review.approve, bot.app, ws_id, meeting_id, user=user_id)
    except shared_review.Refused as exc:
        await say(str(exc))
        return
    if not released:
        await say("Already approved: nothing more to send.")
    message = body.get("message") or {}
    channel, ts = where(body)
    if released and message.get("blocks") and channel:
        await client.chat_update(channel=channel, ts=ts, text=message.get("text") or "Approved",
                                 blocks=approved_blocks(message["blocks"], meeting_id, user_id, held))


def _job_of_meeting(app, team_id: str, meeting_id: int, channel_id: str | None, kind: str) -> dict:
    from sqlalchemy import select

    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        job = s.scalar(select(Job).where(Job.workspace_id == ws.id, Job.meeting_id == meeting_id))
        opts = slack_repo.channel_settings(s, ws, channel_id).options if channel_id else {}
        boards = [c.name for c in list_connections(s, ws.id)]
        # Send to Notion: the channel's board, else the workspace's only one.
        board = (opts or {}).get("notion_target") or (boards[0] if len(boards) == 1 else None)
        return {"job_id": job.id if job else None, "options": dict(opts or {}), "board": board}


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
        notion = found["board"]
        if not notion:
            await say("Connect a Notion board first (`/onno notion`), or pick this channel's: "
                      "`/onno settings notion NAME`.")
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
