"""One progress message per recording, updated while its job runs ("Transcribing… 40%"), never re-posted."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.errors import SlackApiError

from integrations.slack.blocks import esc
from storage import slack as slack_repo
from storage.models import Delivery, Job, Workspace

log = logging.getLogger(__name__)


def progress_text(name: str, job: Job | None, deliveries: list[Delivery]) -> tuple[str | None, bool]:
    """(text, final): what the message should say now; final when the poller is done with it."""
    name = esc(name)
    if job is None or job.status == "queued" and job.step == "transcribe":
        return f"⏳ *{name}* is queued.", False
    if job.status == "failed":
        return f"❌ I couldn't process *{name}*: {esc(job.error)}", True
    if job.step == "transcribe":
        pct = int(job.progress * 100) // 5 * 5  # 5% steps: few edits, still visibly moving
        return f"🎙️ Transcribing *{name}*… {pct}%", False
    if job.status != "done":
        return f"🧠 Finding action items, questions and decisions in *{name}*…", False
    failed = [d for d in deliveries if d.target.startswith("slack:") and d.status == "failed"]
    if failed:
        return f"⚠️ *{name}* is processed, but I couldn't post the results here: {esc(failed[0].last_error)}", True
    return f"📤 Posting the results for *{name}*…", False


def pending_updates(app) -> list[dict]:
    """The files in flight whose message is out of date, with what it should say."""
    out = []
    with app.session() as s:
        for row in slack_repo.unfinished_files(s):
            job = s.get(Job, row.job_id) if row.job_id else None
            text, final = progress_text(row.name, job, list(job.deliveries) if job else [])
            if text is None or text == row.status_text:
                continue
            team = s.get(Workspace, row.workspace_id)
            out.append({"id": row.id, "team_id": team.external_id, "channel": row.channel_id, "ts": row.status_ts,
                        "old": row.status_text, "text": text, "final": final})
    return out


def claim(app, update: dict) -> bool:
    with app.session() as s:
        if not slack_repo.set_status_text(s, update["id"], update["old"], update["text"]):
            return False
        if update["final"]:
            s.get(slack_repo.SlackFile, update["id"]).status = "finished"
        return True


async def tick(bot) -> int:
    """Bring every progress message up to date once; return how many were edited."""
    edited = 0
    for update in await bot.db(pending_updates, bot.app):
        if not await bot.db(claim, bot.app, update):
            continue  # another process (or the delivery) moved it on first
        token = await bot.token(update["team_id"])
        if not token:
            continue
        try:
            await bot.client(token).chat_update(channel=update["channel"], ts=update["ts"], text=update["text"])
            edited += 1
        except SlackApiError as exc:
            log.warning("progress update in %s failed: %s", update["channel"], exc.response.get("error"))
    return edited


async def run(bot) -> None:
    """Forever, every `slack_progress_interval` seconds."""
    while True:
        try:
            await tick(bot)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("slack progress tick failed")
        await asyncio.sleep(bot.settings.slack_progress_interval)
