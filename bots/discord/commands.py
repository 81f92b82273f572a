"""The answers of `/onno` that only read or write our own rows: plain functions of the app and a server's id."""

from __future__ import annotations

from billing.gate import check_intake
from billing.report import plan_lines, plan_summary
from bots.chat import board as chat_board
from bots.search import search
from core.clock import clock
from core.links import meeting_url
from integrations.discord.format import escape
from storage import discord as discord_repo
from storage import repository as repo

USAGE = """**Onno** takes notes of your meetings.
- `/onno join [type]`: I join your voice channel, post a live transcript in a thread, and the notes at the end
- `/onno leave`: end the meeting (so does everyone leaving)
- `/onno process`: attach a recording (audio, video, or a .vtt/.srt/.docx/.txt transcript) and get its notes here
- `/onno tickets`: the board, and what meetings moved
- `/onno board file:`: import this server's ticket board from a JSON file (Manage Server)
- `/onno ask QUESTION`: search past meetings
- `/onno status`: what is processing, the last meeting, the plan and minutes left, the integrations connected
- `/onno rename-speaker old: new:`: name a voice of this channel's latest meeting (`meeting:` for another one)
- `/onno settings`: this channel's meeting type, e-mailed summary, Notion board and review first (admins change them; `for:server` sets the server-wide default)
- `/onno email address:you@example.com`: the summaries of the meetings you're in, e-mailed to you (`name:` the name meetings know you by; `/onno email` shows it, `off:True` stops it)
- `/onno plan`: your plan and minutes
- `/onno optout` / `/onno optin`: keep your voice out of recordings in this server, or allow it again"""

RECORDING_NICK = "Onno (recording)"


def announcement(voice_mention: str, *, nick_ok: bool) -> str:
    """What everyone in the text channel reads before anything is recorded."""
    nick = "" if nick_ok else " (I couldn't change my nickname to show it: give me **Change Nickname**.)"
    return (f"🔴 **Recording {voice_mention}** for meeting notes, started with `/onno join`.{nick}\n"
            "I record each speaker, post a live transcript in the thread below, and the full notes when the meeting "
            "ends.\n**Don't want to be recorded?** Type `/onno optout`: your voice is then neither recorded nor "
            "transcribed, in this meeting or later ones (`/onno optin` undoes it). `/onno leave` ends the meeting.")


def joiner_notice(mention: str, *, opted_out: bool) -> str:
    if opted_out:
        return (f"{mention} heads-up: this voice channel is being recorded for meeting notes. You opted out, so "
                "your voice is not recorded or transcribed.")
    return (f"{mention} heads-up: this voice channel is being recorded and transcribed by Onno for meeting "
            "notes. Type `/onno optout` to keep your voice out of it.")


def workspace_id(app, guild_id: int, name: str | None = None) -> int:
    with app.session() as s:
        return discord_repo.guild_workspace(s, guild_id, name).id


def check_live(app, ws_id: int) -> None:
    """Raise PlanLimit (its message is the reply) when the server's plan lacks live voice or minutes."""
    with app.session() as s:
        check_intake(s, app.settings, repo.workspace_by_id(s, ws_id), minutes=1.0, live=True)


def plan(app, ws_id: int) -> str:
    """`/onno plan`: minutes used and left, and the links (in <> so Discord shows no preview)."""
    return "\n".join(plan_lines(plan_summary(app, ws_id), bold="**", link=lambda url: f"<{url}>"))


def tickets(app, ws_id: int) -> str:
    with app.session() as s:
        rows = repo.list_tickets(s, repo.workspace_by_id(s, ws_id))
        empty = ("No board yet. Someone with Manage Server imports one with `/onno board file:` (a JSON file), or "
                 f"{chat_board.CLI_IMPORT.format(ws_id=ws_id)}; meetings then move its cards.")
        return clip(chat_board.board_text(rows, bold="**", italic="*", bullet="-", escape=escape, empty=empty))


def status(app, ws_id: int) -> str:
    """`/onno status`: processing now, the last meeting, the plan, the integrations."""
    from bots.chat import status as chat_status

    st = chat_status.workspace_status(app, ws_id, platform="Discord", bold="**", link=lambda url: f"<{url}>")
    return clip("\n".join(chat_status.render(st, bold="**", bullet="-", escape=escape,
                                              meeting_link=lambda label, url: f"[{label}](<{url}>)")))


def channel_meeting(app, ws_id: int, channel_id: int) -> int | None:
    """The latest meeting handed over from this channel (an upload, or a live meeting started here)."""
    from bots.chat.speakers import latest_meeting

    with app.session() as s:
        rows = s.query(discord_repo.DiscordIntake).filter_by(workspace_id=ws_id, channel_id=str(channel_id)).all()
        job_ids = [r.job_id for r in rows]
    return latest_meeting(app, ws_id, job_ids)


def ask(app, ws_id: int, question: str) -> str:
    if not question.strip():
        return "Ask me something, e.g. `/onno ask who owns the pricing page`."
    with app.session() as s:
        ws = repo.workspace_by_id(s, ws_id)
        hits = search(s, ws, question)
        if not hits:
            return f"Nothing in this server's meetings matches “{escape(question)}”."
        lines = []
        for h in hits:
            m = h["meeting"]
            link = meeting_url(app.settings, ws.id, m.id, at=h["start"])
            kind = "" if h["kind"] == "said" else f" *({h['kind'].replace('_', ' ')})*"
            lines.append(f"- **{escape(m.title)}** ({m.date}), {escape(h['speaker'] or 'someone')} at "
                         f"[{clock(h['start'])}](<{link}>){kind}: “{escape(h['text'])}”")
    return clip(f"**{escape(question)}**\n" + "\n".join(lines))


def set_opt_out(app, ws_id: int, user_id: int, out: bool) -> bool:
    with app.session() as s:
        return discord_repo.set_opt_out(s, repo.workspace_by_id(s, ws_id), user_id, out)


def opted_out(app, ws_id: int) -> set[int]:
    with app.session() as s:
        return {int(u) for u in discord_repo.opted_out(s, repo.workspace_by_id(s, ws_id))}


def clip(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else text[:limit - 2].rsplit("\n", 1)[0] + "\n…"
