"""The `slack:CHANNEL/THREAD_TS[/FILE_ID]` delivery target: the result in Block Kit, in the recording's thread."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.links import meeting_url
from integrations.deliver import DeliveryContext
from integrations.errors import PermanentError
from integrations.slack import api
from integrations.slack.blocks import esc, result_blocks
from integrations.slack.members import MEMBERS, MemberIndex
from integrations.slack.tokens import bot_token
from storage import outbox
from storage import repository as repo
from storage import review as review_repo
from storage import slack as slack_repo
from storage.models import Delivery

TARGET = re.compile(r"^(?P<channel>[CGD][A-Z0-9]{2,})/(?P<ts>\d+\.\d+)(?:/(?P<file>F[A-Z0-9]{2,}))?$")


def target(channel: str, thread_ts: str, file_id: str | None = None) -> str:
    return f"slack:{channel}/{thread_ts}" + (f"/{file_id}" if file_id else "")


def check(arg: str) -> str | None:
    if not TARGET.match(arg):
        return f"{arg!r} is not CHANNEL_ID/THREAD_TS[/FILE_ID], e.g. C0123ABCD/1700000000.000100"
    return None


def done_text(title: str) -> str:
    return f"✅ Done: *{esc(title)}*. The findings are in this thread."


def members(web, team_id: str) -> MemberIndex:
    """Who is who in the team, for mentions; without users:read the owners stay plain names."""
    index = MEMBERS.get(team_id)
    if index is None:
        try:
            index = MEMBERS.put(team_id, MemberIndex(api.all_members(web)))
        except PermanentError:
            index = MemberIndex([])
    return index


def keep_receipt(app, key: str, channel: str, row_id: int | None, result_ts: str) -> None:
    """The result's ts as the delivery's receipt (and on the recording's row): from then on a retry, or a redelivery
    of the changed meeting, updates that message."""
    with app.session() as s:
        outbox.record(s, key, f"slack:{channel}", ref=result_ts)
        if row_id is not None:
            s.get(slack_repo.SlackFile, row_id).result_ts = result_ts


def send(arg: str, ctx: DeliveryContext) -> int:
    m = TARGET.match(arg)
    if not m:
        raise PermanentError(f"bad Slack target {arg!r}")
    channel, thread_ts, file_id = m["channel"], m["ts"], m["file"]
    app = ctx.app
    with app.session() as s:
        ws = repo.workspace_by_id(s, ctx.workspace_id)
        if ws is None or ws.platform != "slack":
            raise PermanentError("a Slack delivery for a workspace that is not a Slack team")
        team_id = ws.external_id
        row = slack_repo.get_file(s, ws, file_id) if file_id else None
        row_id = row.id if row else None
        status_ts, result_ts = (row.status_ts, row.result_ts) if row else (None, None)
        item_ids = slack_repo.action_item_ids(s, ctx.meeting_id)
        marks = slack_repo.marks(s, ws)
        held = review_repo.waiting_kinds(s, ctx.meeting_id)
        possibles = review_repo.possible_rows(s, ctx.meeting_id) if held else []
        d = s.scalar(select(Delivery).where(Delivery.key == ctx.key))
        retried_since = d.created_at if d is not None and d.attempts > 1 else None
        receipt = outbox.receipts(s, ctx.key).get(f"slack:{channel}")
        result_ts = result_ts or (receipt.ref if receipt is not None else None)
    token = bot_token(app, team_id)
    if not token:
        raise PermanentError(f"no Slack token for team {team_id}: install the app again")
    web = api.client(app.settings, token)
    index = members(web, team_id)
    link = meeting_url(app.settings, ctx.workspace_id, ctx.meeting_id)
    text, blocks = result_blocks(ctx.result, link=link, item_ids=item_ids, meeting_id=ctx.meeting_id,
                                 mention=index.mention, marks=marks, held=held, possibles=possibles)
    if result_ts is None:
        # A receipt on our own row: a delivery retried after this point updates instead of posting twice.
        result_ts, posted = api.post_once(web, channel, event_type="onno_result", key_field="delivery",
                                          payload={"delivery": ctx.key, "meeting_id": ctx.meeting_id},
                                          retried_since=retried_since, thread_ts=thread_ts, text=text, blocks=blocks)
        keep_receipt(app, ctx.key, channel, row_id, result_ts)
        if not posted:  # found the post of an attempt whose answer was lost: bring it up to date
            api.call(web, "chat.update", channel=channel, ts=result_ts, text=text, blocks=blocks)
    else:
        api.call(web, "chat.update", channel=channel, ts=result_ts, text=text, blocks=blocks)
    if row_id is not None:
        final = done_text(ctx.result["meeting"].get("title") or "the meeting")
        with app.session() as s:
            f = s.get(slack_repo.SlackFile, row_id)
            f.status, f.status_text = "finished", final  # the progress poller stops touching the message
        if status_ts:
            api.call(web, "chat.update", channel=channel, ts=status_ts, text=final)
    return 200
