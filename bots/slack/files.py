"""A recording shared in Slack: claim it once, download it with the bot token, store it and start its job."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from slack_sdk.errors import SlackApiError

from bots.chat import intake as chat_intake
from bots.chat import settings as chat_settings
from bots.names import local_name
from core.errors import InputError
from integrations.slack.adapter import target as slack_target
from integrations.slack.blocks import esc
from pipeline.types import MeetingInfo
from storage import jobs as jobs_repo
from storage import slack as slack_repo

log = logging.getLogger(__name__)

STALE_CLAIM = 600.0  # a claim this old whose process died mid-download may be taken again by `/onno process`


class Rejected(Exception):
    """A file we will not process, with the reply that says why and what to do."""


def extension(f: dict) -> str:
    return chat_intake.extension(f.get("name") or "")


def is_recording(f: dict, *, asked: bool = False) -> bool:
    """Audio, video or a caption file; a text or Word transcript too when someone `asked` for this file."""
    return chat_intake.is_recording(f.get("name") or "", mimetype=f.get("mimetype") or "",
                                    filetype=f.get("filetype") or "", asked=asked)


def thread_of(f: dict, channel_id: str) -> str | None:
    """The message the file was shared in (or its thread), in this channel."""
    shares = f.get("shares") or {}
    for kind in ("public", "private"):
        for share in (shares.get(kind) or {}).get(channel_id) or []:
            return share.get("thread_ts") or share.get("ts")
    return None


def title_of(f: dict) -> str:
    return chat_intake.title(f.get("title") or f.get("name") or "", "Slack recording")


def slack_host(url: str, settings) -> bool:
    """Whether `url` is Slack's own (files.slack.com, a workspace's *.slack.com, or the Slack API host this
    server is configured with): the only places the bot token may be sent."""
    parts, api = urlsplit(url), urlsplit(settings.slack_api_url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and (host == "slack.com" or host.endswith(".slack.com")) and parts.port in (None, 443):
        return True
    return (parts.scheme, host, parts.port) == (api.scheme, (api.hostname or "").lower(), api.port)


def looks_like_html(head: bytes) -> bool:
    start = head.lstrip()[:64].lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<!--"))


def login_page(name: str) -> str:
    return (f"I couldn't download *{name}*: Slack sent a sign-in page instead of the file. Reinstall the app "
            "so it has the `files:read` permission and make sure it is a member of this channel, then share the "
            "file again or run `/onno process` in this channel.")


async def download(url: str, token: str, dest: Path, *, name: str, limit: int) -> int:
    """Stream the file to `dest`; Rejected for a sign-in page, an error or more than `limit` bytes."""
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=30, sock_read=120)
    async with aiohttp.ClientSession(timeout=timeout) as session, \
            session.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
        if resp.status != 200:
            raise Rejected(f"I couldn't download *{name}*: Slack answered HTTP {resp.status}. Try sharing it again.")
        if "text/html" in resp.headers.get("Content-Type", ""):
            raise Rejected(login_page(name))
        size, first = 0, True
        with dest.open("wb") as out:
            async for chunk in resp.content.iter_chunked(1 << 16):
                if first and looks_like_html(chunk):
                    raise Rejected(login_page(name))
                first = False
                size += len(chunk)
                if size > limit:
                    raise Rejected(chat_intake.too_big(name, size, limit))
                out.write(chunk)
    return size


async def intake(bot, *, team_id: str, file_id: str, channel_id: str | None, user_id: str | None,
                 event_id: str | None = None, explicit: bool = False, file: dict | None = None) -> str:
    """Take one shared file; return a line for whoever asked (`/onno process`). Never raises for the user's input."""
    if event_id is not None and not await bot.db(_first_sight, bot.app, event_id, team_id):
        return "duplicate event"
    token = await bot.token(team_id)
    if not token:
        return "no token for this team"
    client = bot.client(token)
    if file is None or "url_private_download" not in file:
        try:
            file = (await client.files_info(file=file_id))["file"]
        except SlackApiError as exc:
            log.warning("files.info %s failed: %s", file_id, exc.response.get("error"))
            return f"I can't see that file ({exc.response.get('error')})."
    raw_name = file.get("name") or file_id
    name = esc(raw_name)  # shown in mrkdwn: a name like "<!channel>" must stay text
    channel_id = channel_id or next(iter((file.get("channels") or []) + (file.get("groups") or [])), None)
    if channel_id is None:
        return "not shared in a channel"
    thread_ts = thread_of(file, channel_id)
    if not is_recording(file, asked=explicit or channel_id.startswith("D")):
        if explicit or channel_id.startswith("D"):
            reply = chat_intake.not_a_recording(name, file.get("pretty_type") or file.get("filetype"))
            await client.chat_postMessage(channel=channel_id, thread_ts=thread_ts, text=reply)
            return reply
        return "not a recording"
    ws_id = await bot.db(bot.workspace_id, team_id)
    row_id = await bot.db(_claim, bot.app, ws_id, file_id, channel_id, user_id, raw_name, thread_ts, explicit)
    if row_id is None:
        return await bot.db(_already, bot.app, ws_id, file_id)
    status = await client.chat_postMessage(channel=channel_id, thread_ts=thread_ts,
                                           text=f"📥 Got *{name}*. Downloading…")
    await bot.db(_update_row, bot.app, row_id, status_ts=status["ts"], status_text=None)
    limit = chat_intake.max_bytes(bot.settings)
    try:
        if file.get("size") and int(file["size"]) > limit:
            raise Rejected(chat_intake.too_big(name, int(file["size"]), limit))
        url = file.get("url_private_download") or file.get("url_private")
        if not url:
            raise Rejected(f"Slack gave me no download link for *{name}*; share it again as a file upload.")
        if not slack_host(url, bot.settings):
            log.warning("slack file %s: download link outside Slack refused: %s", file_id, urlsplit(url).hostname)
            raise Rejected(f"The download link for *{name}* does not point to Slack, so I did not fetch it (the "
                           "bot's token only goes to Slack). Share the file again as an upload.")
        with tempfile.TemporaryDirectory(prefix="onno-slack-") as tmp:
            path = Path(tmp) / local_name(raw_name, f"{file_id}.{extension(file) or file.get('filetype') or 'bin'}")
            await download(url, token, path, name=name, limit=limit)
            job_id = jobs_repo.new_job_id()
            info = await bot.db(_meeting_info, bot.app, ws_id, channel_id, file,
                                await sharer_name(bot, team_id, file.get("user") or user_id))
            extra = await bot.db(channel_delivery, bot.app, ws_id, channel_id)
            if extra.left_out:  # said before the job runs: without a broker the result comes before submit returns
                await client.chat_postMessage(channel=channel_id, thread_ts=thread_ts or status["ts"],
                                              text="ℹ️ " + chat_settings.left_out_text(extra.left_out, "•"))
            await bot.db(_update_row, bot.app, row_id, job_id=job_id, status="submitted")
            await bot.in_jobs_pool(bot.app.runner.submit, path, info, workspace=ws_id, job_id=job_id,
                                   targets=[slack_target(channel_id, thread_ts or status["ts"], file_id),
                                            *extra.targets],
                                   review_first=extra.review_first)
        reply = f"Processing *{name}*: follow along in its thread."
        return reply + ("\n" + chat_settings.left_out_text(extra.left_out, "•") if extra.left_out else "")
    except (Rejected, InputError) as exc:
        reply = str(exc) if isinstance(exc, Rejected) else f"I can't process *{name}*: {esc(str(exc))}"
        await bot.db(_update_row, bot.app, row_id, status="rejected", error=reply, status_text=reply)
        await client.chat_update(channel=channel_id, ts=status["ts"], text=f"⚠️ {reply}")
        return reply
    except Exception as exc:
        log.exception("slack file %s: intake failed", file_id)
        reply = f"Something went wrong on my side with *{name}*; `/onno process` tries again."
        await bot.db(_update_row, bot.app, row_id, status="failed", error=repr(exc)[:500], status_text=reply)
        await client.chat_update(channel=channel_id, ts=status["ts"], text=f"⚠️ {reply}")
        return reply


# -- blocking parts, run off the event loop ------------------------------------------------------------------------


def _first_sight(app, event_id: str, team_id: str) -> bool:
    with app.session() as s:
        return slack_repo.first_sight(s, event_id, team_id)


def _claim(app, ws_id: int, file_id: str, channel_id: str, user_id: str | None, name: str,
           thread_ts: str | None, explicit: bool) -> int | None:
    from storage import repository as repo

    with app.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        row = slack_repo.claim_file(s, ws, file_id=file_id, channel_id=channel_id, user_id=user_id, name=name,
                                    stale_after=STALE_CLAIM if explicit else None)
        if row is None:
            return None
        row.thread_ts = thread_ts
        s.flush()
        return row.id


def _already(app, ws_id: int, file_id: str) -> str:
    from storage import repository as repo

    with app.session() as s:
        row = slack_repo.get_file(s, repo.workspace_by_id(s, ws_id), file_id)
        if row is None:
            return "already taken"
        job = jobs_repo.get_job(s, row.job_id) if row.job_id else None
        state = job.status if job else row.status
        return f"*{esc(row.name)}* is already {state}" + (f" (job `{row.job_id}`)" if row.job_id else "") + "."


def _update_row(app, row_id: int, **values) -> None:
    with app.session() as s:
        row = s.get(slack_repo.SlackFile, row_id)
        for k, v in values.items():
            setattr(row, k, v)


WORDING = chat_settings.Wording(place="workspace", pick_board="`/onno settings notion NAME`")


def channel_values(row) -> dict:
    """A Slack channel's own settings as the resolver reads them (its options: notion, email, review_first)."""
    return {"meeting_type": row.meeting_type, **(row.options or {})}


def channel_delivery(app, ws_id: int, channel_id: str) -> chat_settings.Delivery:
    """The channel's integrations that can go now (Notion at its board, e-mail to the participants), its own
    review-first setting (None: the workspace's), and what was left out and why."""
    from storage import repository as repo

    with app.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        eff = chat_settings.resolve(s, ws, channel_values(slack_repo.channel_settings(s, ws, channel_id)))
        return chat_settings.delivery(s, app.settings, ws, eff, WORDING)


async def sharer_name(bot, team_id: str, user_id: str | None) -> str | None:
    """The name of whoever shared the file, a hint for naming its voices; None when Slack does not say."""
    from bots.slack.people import profile

    return ((await profile(bot, team_id, user_id)).name or None) if user_id else None


def _meeting_info(app, ws_id: int, channel_id: str, file: dict, uploader: str | None = None) -> MeetingInfo:
    from storage import repository as repo

    with app.session() as s:
        settings = slack_repo.channel_settings(s, repo.workspace_by_id(s, ws_id), channel_id)
        meeting_type = settings.meeting_type
    created = file.get("created")
    date = dt.datetime.fromtimestamp(int(created), dt.UTC).date() if created else dt.date.today()
    return MeetingInfo(title=title_of(file), type=meeting_type, date=date, participants=[], uploader=uploader)
