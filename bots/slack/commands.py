"""`/onno` and its subcommands; every answer is private to whoever asked, and scoped to their workspace."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from bots.chat import board as chat_board
from bots.search import search
from bots.slack.notion import notion_command, notion_note, notion_setting
from bots.slack.people import email_command
from core.clock import clock
from core.links import meeting_url
from integrations import deliver as outbound
from integrations.slack.blocks import esc
from onno.notices import slack_place_text
from pipeline.types import MEETING_TYPES
from storage import jobs as jobs_repo
from storage import notices as notices_repo
from storage import repository as repo
from storage import review as review_repo
from storage import slack as slack_repo

log = logging.getLogger(__name__)

USAGE = """*Onno* turns a meeting recording shared in this channel into action items, questions and decisions, in its thread.
• `/onno process`: process the latest recording shared in this channel
• `/onno status`: this channel's recordings; what is processing, the last meeting, the plan and integrations
• `/onno rename-speaker OLD NEW`: name a voice of this channel's latest meeting, e.g.
  `/onno rename-speaker "Speaker 2" Daniel` (a meeting's number first for another one)
• `/onno meetings`: recent meetings, with links
• `/onno tickets`: the board, and what meetings moved
• `/onno board import`: the workspace's board from the latest .json file shared in this channel, or from the
  JSON pasted after it, e.g. `/onno board import [{"key": "ENG-12", "title": "API docs", "status": "TODO"}]`
• `/onno ask QUESTION`: search past meetings, e.g. `/onno ask when do we launch the pricing page`
• `/onno settings`: meeting type for this channel (`/onno settings type standup`), integrations on or off,
  review first (`/onno settings review on|off [workspace]`: Notion and e-mail wait for "Approve & send"),
  team notices (`/onno settings notices here|off|auto`: where a broken Notion board or a failed payment is told),
  weekly digest (`/onno settings digest here|off`: last week's digest posted in this channel every week)
• `/onno notion`: the Notion boards and a Connect Notion button; `/onno notion connect TOKEN [DATABASE_LINK]`
  connects with an internal integration's secret (only you see it)
• `/onno email`: e-mailed summaries of your meetings: `/onno email me` (your Slack address, or
  `/onno email ADDRESS`; add `as "Maya"` for the name meetings know you by), `/onno email off`
• `/onno plan`: your plan
• `/onno help`: this message"""

def plan_text(app, team_id: str) -> str:
    """`/onno plan`: the plan, minutes used and left, and the links to upgrade or manage it."""
    from billing.report import plan_lines, plan_summary

    with app.session() as s:
        ws_id = slack_repo.team_workspace(s, team_id).id
    return "\n".join(plan_lines(plan_summary(app, ws_id)))


def status_line(job, row, settings, ws_id: int) -> str:
    name = f"*{esc(row.name)}*"
    if job is None:
        return f"• {name}: {row.status}" + (f" ({esc(row.error)})" if row.error and row.status != "finished" else "")
    if job.status == "done" and job.meeting_id:
        return f"• {name}: done, <{meeting_url(settings, ws_id, job.meeting_id)}|meeting {job.meeting_id}>"
    if job.status == "failed":
        return f"• {name}: failed: {esc(job.error)}"
    if job.status == "running" and job.step == "transcribe":
        return f"• {name}: transcribing… {int(job.progress * 100)}%"
    if job.status == "running":
        return f"• {name}: finding action items…"
    return f"• {name}: queued"


def channel_status(app, team_id: str, channel_id: str) -> str:
    """`/onno status`: the channel's recordings, then the workspace's processing, last meeting, plan, integrations."""
    from bots.chat import status

    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        ws_id = ws.id
        rows = slack_repo.files_in_channel(s, ws, channel_id, limit=10)
        if not rows:
            head = "No recordings from this channel yet. Share one (audio or video) and I'll take it from there."
        else:
            head = "*Recordings in this channel*, newest first:\n" + "\n".join(
                status_line(jobs_repo.get_job(s, r.job_id, ws) if r.job_id else None, r, app.settings, ws.id)
                for r in rows)
    st = status.workspace_status(app, ws_id, platform="Slack", bold="*", link=lambda url: url)
    lines = status.render(st, bold="*", bullet="•", escape=esc, meeting_link=lambda label, url: f"<{url}|{label}>")
    return head + "\n\n" + "\n".join(lines)


RENAME_USAGE = ('Usage: `/onno rename-speaker OLD NEW`, e.g. `/onno rename-speaker "Speaker 2" Daniel` (this '
                "channel's latest meeting), or `/onno rename-speaker MEETING OLD NEW` for another meeting.")


def channel_meeting(app, ws_id: int, channel_id: str) -> int | None:
    """The latest meeting from a recording shared in this channel, else the workspace's latest."""
    from bots.chat.speakers import latest_meeting

    with app.session() as s:
        rows = slack_repo.files_in_channel(s, repo.workspace_by_id(s, ws_id), channel_id, limit=50)
        job_ids = [r.job_id for r in rows if r.job_id]
    return latest_meeting(app, ws_id, job_ids)


async def rename_command(bot, command: dict, rest: str) -> str:
    """`/onno rename-speaker [MEETING] OLD NEW`: the result in the thread, the meeting page and Notion follow."""
    import html

    from bots.chat.speakers import rename, split_words
    from core.errors import InputError

    try:
        words = split_words(html.unescape(rest))
    except InputError as exc:
        return f"{exc.problem} {exc.hint}"
    meeting_id = int(words.pop(0)) if len(words) == 3 and words[0].isdigit() else None
    if len(words) != 2:
        return RENAME_USAGE
    ws_id = await bot.db(bot.workspace_id, command["team_id"])
    if meeting_id is None:
        meeting_id = await bot.db(channel_meeting, bot.app, ws_id, command["channel_id"])
    # In the jobs pool: the result message's update goes out through the outbox, here and now without a broker.
    return esc(await bot.in_jobs_pool(rename, bot.app, ws_id, meeting_id, words[0], words[1]))


def tickets(app, team_id: str) -> str:
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        empty = ("No board yet. A workspace admin imports one with `/onno board import` (the latest .json file "
                 f"shared in the channel, or the JSON pasted after it), or {chat_board.CLI_IMPORT.format(ws_id=ws.id)}"
                 "; meetings then move its cards.")
        return chat_board.board_text(repo.list_tickets(s, ws), bold="*", italic="_", bullet="•", escape=esc,
                                     empty=empty)


BOARD_USAGE = ("Usage: `/onno board import` (the latest .json file shared in this channel) or "
               "`/onno board import JSON` (the board pasted), the JSON a list like "
               '`[{"key": "ENG-12", "title": "API docs", "status": "TODO"}]`.')


async def board_command(bot, command: dict, rest: str) -> str:
    """`/onno board import [JSON]`: this workspace's board, from pasted JSON or the channel's latest .json file."""
    from bots.slack.files import Rejected, download, extension, slack_host

    sub, _, body = rest.strip().partition(" ")
    if sub.lower() != "import":
        return BOARD_USAGE
    team_id, channel_id = command["team_id"], command["channel_id"]
    ws_id = await bot.db(bot.workspace_id, team_id)
    if body.strip():
        return await bot.db(chat_board.import_board, bot.app, ws_id, chat_board.pasted(body), "the pasted board")
    token = await bot.token(team_id)
    if not token:
        return "I'm not installed in this workspace any more; install me again."
    listed = await bot.client(token).files_list(channel=channel_id, count=50)
    boards = [f for f in listed.get("files", []) if extension(f) == "json"]
    if not boards:
        return f"I see no .json file shared in this channel. Share the board's JSON file here first. {BOARD_USAGE}"
    latest = max(boards, key=lambda f: f.get("created") or 0)
    name = esc(latest.get("name") or latest["id"])
    url = latest.get("url_private_download") or latest.get("url_private")
    if not url or not slack_host(url, bot.settings):
        return f"Slack gave me no download link for *{name}* that points to Slack; share it again as a file upload."
    if int(latest.get("size") or 0) > chat_board.MAX_BOARD_BYTES:
        return "Nothing was imported: " + " ".join(chat_board.too_large(f"*{name}*", int(latest["size"])))
    with tempfile.TemporaryDirectory(prefix="onno-board-") as tmp:
        path = Path(tmp) / "board.json"
        try:
            await download(url, token, path, name=name, limit=chat_board.MAX_BOARD_BYTES)
        except Rejected as exc:
            return str(exc)
        raw = path.read_bytes()
    return await bot.db(chat_board.import_board, bot.app, ws_id, raw, name)


def meetings(app, team_id: str) -> str:
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        rows = repo.list_meetings(s, ws, limit=10)
        if not rows:
            return "No meetings yet. Share a recording in a channel I'm in."
        lines = []
        for m in rows:
            n_items = sum(1 for f in m.findings if f.kind == "action_item")
            lines.append(f"• <{meeting_url(app.settings, ws.id, m.id)}|{esc(m.title)}>: {m.date}, {m.type}, "
                         f"{clock(m.duration)}, {n_items} action items")
    return "*Recent meetings*\n" + "\n".join(lines)


def ask(app, team_id: str, question: str) -> str:
    if not question.strip():
        return "Ask me something, e.g. `/onno ask who owns the pricing page`."
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        hits = search(s, ws, question)
        if not hits:
            return f"Nothing in this workspace's meetings matches “{esc(question)}”."
        lines = []
        for h in hits:
            m = h["meeting"]
            link = meeting_url(app.settings, ws.id, m.id, at=h["start"])
            who = esc(h["speaker"]) or "someone"
            kind = "" if h["kind"] == "said" else f" _({h['kind'].replace('_', ' ')})_"
            lines.append(f"• *{esc(m.title)}* ({m.date}), {who} at <{link}|{clock(h['start'])}>{kind}: “{esc(h['text'])}”")
    return f"*{esc(question)}*\n" + "\n".join(lines)


def settings_cmd(app, team_id: str, channel_id: str, args: str) -> str:
    words = args.split()
    with app.session() as s:
        ws = slack_repo.team_workspace(s, team_id)
        row = slack_repo.channel_settings(s, ws, channel_id, create=bool(words))
        opts = dict(row.options or {})
        if words and words[0] == "type":
            if len(words) != 2 or words[1] not in MEETING_TYPES:
                return f"Usage: `/onno settings type TYPE`, where TYPE is one of: {', '.join(MEETING_TYPES)}."
            row.meeting_type = words[1]
        elif words and words[0] == "notion":
            if problem := notion_setting(s, ws, opts, words[1:]):
                return problem
            row.options = opts
        elif words and words[0] == "email":
            if words[1:] not in (["on"], ["off"]):
                return "Usage: `/onno settings email on|off`"
            opts["email"] = words[1] == "on"
            row.options = opts
        elif words and words[0] == "review":
            if len(words) not in (2, 3) or words[1] not in ("on", "off") or words[2:] not in ([], ["workspace"]):
                return ("Usage: `/onno settings review on|off` (this channel) or "
                        "`/onno settings review on|off workspace` (every channel without its own setting).")
            if words[2:]:
                review_repo.set_review_first(s, ws, words[1] == "on")
            else:
                opts["review_first"] = words[1] == "on"
                row.options = opts
        elif words and words[0] == "notices":
            if words[1:] not in (["here"], ["off"], ["auto"]):
                return ("Usage: `/onno settings notices here` (team notices go to this channel), `off` (not posted "
                        "in Slack) or `auto` (the channel with the latest recording).")
            notices_repo.set_slack_place(s, ws.id, channel_id=channel_id if words[1] == "here" else None,
                                         off=words[1] == "off")
        elif words and words[0] == "digest":
            from integrations.digest.setup import slack_command

            return slack_command(s, app.settings, ws, channel_id, words[1:])
        elif words:
            return ("Usage: `/onno settings` (show), `/onno settings type TYPE`, `/onno settings email on|off`, "
                    "`/onno settings notion on|off|TARGET`, `/onno settings review on|off [workspace]`, "
                    "`/onno settings notices here|off|auto`, `/onno settings digest here|off`.")
        lines = [f"*Settings for <#{channel_id}>*",
                 f"• meeting type: `{row.meeting_type}` (change: `/onno settings type standup`; one of "
                 f"{', '.join(MEETING_TYPES)})",
                 f"• e-mail summaries: {integration_state('email', opts, app)}{people_note(s, ws, opts)}"
                 f"{left_out_note(s, app, ws, 'email', opts)}",
                 f"• Notion: {integration_state('notion', opts, app)}{notion_note(s, ws, opts)}"
                 f"{left_out_note(s, app, ws, 'notion', opts)}",
                 f"• review first: {review_state(s, ws, opts)}",
                 f"• team notices: {slack_place_text(s, ws.id, channel_id)}",
                 f"• weekly digest: {digest_state(s, app.settings, ws)}",
                 f"• board: {len(repo.list_tickets(s, ws))} tickets (the workspace's board; "
                 "`/onno board import` updates it)"]
    return "\n".join(lines)


def digest_state(s, settings, ws) -> str:
    from integrations.digest.setup import state

    return state(s, settings, ws)


def review_state(s, ws, opts: dict) -> str:
    """Whether Notion and e-mail wait for approval here: the channel's own setting, else the workspace's."""
    workspace = "on" if review_repo.review_first(s, ws) else "off"
    if opts.get("review_first") is None:
        return f"{workspace} (the workspace's; change: `/onno settings review on|off`)"
    return f"{'on' if opts['review_first'] else 'off'} (this channel; the workspace's is {workspace})"


def left_out_note(s, app, ws, kind: str, opts: dict) -> str:
    """What keeps an integration that is on from going out at intake: the plan, or e-mail this Onno can't send."""
    from bots.chat.settings import plan_refusal

    if not opts.get(kind):
        return ""
    note = ""
    if kind == "email" and not app.settings.smtp_url:
        note += " ⚠️ e-mail isn't set up on this Onno yet (ONNO_SMTP_URL), so nothing is mailed"
    if (refusal := plan_refusal(s, app.settings, ws, kind)) is not None:
        note += f" ⚠️ left out: {refusal.problem} {refusal.hint}"
    return note


def people_note(s, ws, opts: dict) -> str:
    """E-mail on with nobody to mail: say how people add themselves."""
    from storage import mail

    if not opts.get("email") or any(not p.opted_out for p in mail.list_people(s, ws)):
        return ""
    return " ⚠️ nobody is on file yet: each person says `/onno email me`"


def integration_state(kind: str, opts: dict, app) -> str:
    if kind not in outbound.ADAPTERS:
        return "not available yet"
    state = "on" if opts.get(kind) else "off"
    if kind == "notion" and opts.get("notion_target"):
        state += f" (`{opts['notion_target']}`)"
    return state


async def handle(bot, ack, command: dict, respond) -> None:
    """Acknowledge within Slack's 3 s at once; answer through the response URL when it needs the database."""
    text = (command.get("text") or "").strip()
    sub, _, rest = text.partition(" ")
    sub = sub.lower()
    team_id, channel_id = command.get("team_id"), command.get("channel_id")
    if sub in ("", "help"):
        await ack(text=USAGE, response_type="ephemeral")
        return
    handlers = {"status": lambda: bot.db(channel_status, bot.app, team_id, channel_id),
                "tickets": lambda: bot.db(tickets, bot.app, team_id),
                "board": lambda: board_command(bot, command, rest),
                "rename-speaker": lambda: rename_command(bot, command, rest),
                "meetings": lambda: bot.db(meetings, bot.app, team_id),
                "ask": lambda: bot.db(ask, bot.app, team_id, rest),
                "settings": lambda: bot.db(settings_cmd, bot.app, team_id, channel_id, rest),
                "process": lambda: process_latest(bot, command),
                "plan": lambda: bot.db(plan_text, bot.app, team_id),
                "notion": lambda: notion_for(bot, command, rest),
                "email": lambda: email_command(bot, command, rest)}
    if sub not in handlers:
        await ack(text=f"I don't know `{sub}`.\n\n{USAGE}", response_type="ephemeral")
        return
    await ack()

    async def answer() -> None:
        try:
            refused = await admins_only(bot, command) if workspace_wide(sub, rest) else None
            text = refused or await handlers[sub]()
        except Exception:
            log.exception("/onno %s failed", sub)
            text = "Something went wrong on my side; try again in a minute."
        reply = text if isinstance(text, dict) else {"text": text}  # a dict: text and blocks
        await respond(**reply, response_type="ephemeral", replace_original=False)

    bot.spawn(answer())


def workspace_wide(sub: str, rest: str) -> bool:
    """What changes the whole workspace (its boards, its defaults, where notices and digests go): admins only.
    A channel's own settings are any member's."""
    words = rest.lower().split()
    if sub == "board":
        return True
    if sub == "notion":
        return bool(words) and words[0] in ("connect", "disconnect")
    if sub == "settings" and words:
        return words[0] in ("notices", "digest") or (words[0] == "review" and words[-1] == "workspace")
    return False


async def admins_only(bot, command: dict) -> str | None:
    """None when the member is a workspace admin or owner, else why not and who to ask."""
    from bots.slack.people import profile

    me = await profile(bot, command["team_id"], command["user_id"])
    if me.problem:
        return me.problem
    if not me.admin:
        return ("Only workspace admins and owners can change that: it applies to the whole workspace (Notion boards, the "
                "ticket board, workspace-wide review, where notices and digests go). Ask one of them; this channel's own settings "
                "(`/onno settings type|email|notion|review on|off`) are yours to change.")
    return None


async def notion_for(bot, command: dict, rest: str):
    """`/onno notion`: the boards for everyone; the Connect Notion button and connect/disconnect for admins."""
    from bots.slack.people import profile

    admin = True
    if not rest.strip():
        admin = (await profile(bot, command["team_id"], command["user_id"])).admin
    return await bot.db(notion_command, bot.app, command["team_id"], rest, admin)


async def process_latest(bot, command: dict) -> str:
    """The newest recording shared in this channel, taken like a fresh upload."""
    from bots.slack.files import intake, is_recording

    team_id, channel_id = command["team_id"], command["channel_id"]
    token = await bot.token(team_id)
    if not token:
        return "I'm not installed in this workspace any more; install me again."
    listed = await bot.client(token).files_list(channel=channel_id, count=50)
    files = [f for f in listed.get("files", []) if is_recording(f, asked=True)]
    if not files:
        return "I see no recording in this channel. Share an audio or video file here and I'll process it."
    latest = max(files, key=lambda f: f.get("created") or 0)
    return await intake(bot, team_id=team_id, file_id=latest["id"], channel_id=channel_id,
                        user_id=command.get("user_id"), explicit=True)
