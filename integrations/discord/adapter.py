"""The `discord:CHANNEL_ID[/MESSAGE_ID]` delivery target: the result posted in that channel or thread.

With a MESSAGE_ID (the "processing…" message of an upload) that message is edited to say it is done. Posts are
recorded under the delivery key, so a retried delivery edits what it posted instead of posting again. When the
meeting is held for review, the action items go in a last message of their own with the review's buttons (the
bot answers them: bots/discord/review.py).
"""

from __future__ import annotations

import re

from core.links import meeting_url
from integrations.deliver import DeliveryContext
from integrations.discord.api import DiscordAPI
from integrations.discord.format import escape, result_messages, review_panel
from integrations.errors import PermanentError
from storage import discord as discord_repo
from storage import review as review_repo

TARGET = re.compile(r"^(?P<channel>\d{5,25})(?:/(?P<message>\d{5,25}))?$")


def target(channel_id: int | str, message_id: int | str | None = None) -> str:
    return f"discord:{channel_id}" + (f"/{message_id}" if message_id else "")


def check(arg: str) -> str | None:
    if not TARGET.match(arg):
        return f"{arg!r} is not CHANNEL_ID[/MESSAGE_ID], e.g. 1234567890123456789"
    return None


def done_text(title: str) -> str:
    return f"✅ Done: **{escape(title)}**. The result is below."


def send(arg: str, ctx: DeliveryContext) -> int:
    m = TARGET.match(arg)
    if not m:
        raise PermanentError(f"bad Discord target {arg!r}")
    channel, status_message = m["channel"], m["message"]
    settings = ctx.settings
    link = meeting_url(settings, ctx.workspace_id, ctx.meeting_id)
    with ctx.app.session() as s:
        post = discord_repo.get_post(s, ctx.key)
        posted = list(post.message_ids) if post else []
        review = review_repo.review_state(s, ctx.meeting_id)
    messages = result_messages(ctx.result, link=link, review=review is not None)
    components: list[list[dict] | None] = [None] * len(messages)
    if review is not None:
        content, rows = review_panel(review)
        messages.append(content)
        components.append(rows)
    api = DiscordAPI(settings.discord_token, base=settings.discord_api_url)
    try:
        for i, content in enumerate(messages):
            if i < len(posted):
                api.edit_message(channel, posted[i], content, components[i])
                continue
            msg = api.post_message(channel, content, components[i], once=f"{ctx.key}:{i}")
            posted.append(str(msg["id"]))
            with ctx.app.session() as s:  # a receipt per message: a retry never posts this one twice
                discord_repo.save_post(s, ctx.key, channel, posted)
        if status_message:
            api.edit_message(channel, status_message, done_text(ctx.result["meeting"].get("title") or "the meeting"))
    finally:
        api.close()
    return 200
