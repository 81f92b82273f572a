"""The Discord bot: `/onno` commands, live voice meetings, channel settings, review panels, and finishing what a
restart left.

Thin at the edge, like the Slack bot: each command answers (or defers) at once, database work runs off the event
loop, and whole jobs (no broker: submit runs the job here and now) run in a small pool of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import tempfile
from pathlib import Path, PurePosixPath

import discord
from discord import app_commands

from bots.background import Background
from bots.chat import board as chat_board
from bots.chat import intake as chat_intake
from bots.chat import settings as chat_settings
from bots.discord import commands as cmd
from bots.discord import people, review
from bots.discord import settings as channel_settings
from bots.discord.meeting import LiveMeeting, finish_meeting, live_job_id
from bots.discord.recorder import FLUSH_EVERY, meeting_folder
from bots.discord.voice_client import OnnoVoiceClient
from bots.discord.voice_rejoin import clean_refused, rejoin
from bots.names import local_name
from core.errors import InputError
from integrations.discord.adapter import target as discord_target
from integrations.discord.format import escape
from pipeline.types import MEETING_TYPES, MeetingInfo
from storage import discord as discord_repo
from storage import jobs as jobs_repo
from storage import repository as repo

log = logging.getLogger(__name__)

TYPE_CHOICES = [app_commands.Choice(name=t.replace("_", " "), value=t) for t in MEETING_TYPES]
SETTING_TYPES = [*TYPE_CHOICES, app_commands.Choice(name="default (follow the server)", value="default")]
SWITCHES = [app_commands.Choice(name="on", value="on"), app_commands.Choice(name="off", value="off"),
            app_commands.Choice(name="default (follow the server)", value="default")]
DIGEST_PLACES = [app_commands.Choice(name="here (this channel, every week)", value="here"),
                 app_commands.Choice(name="off", value="off")]
NOTICE_PLACES = [app_commands.Choice(name="here (this channel)", value="here"),
                 app_commands.Choice(name="off (not in Discord)", value="off"),
                 app_commands.Choice(name="auto (the latest live meeting's text channel)", value="auto")]
SCOPES = [app_commands.Choice(name="this channel", value=channel_settings.CHANNEL),
          app_commands.Choice(name="the whole server (channels without their own)", value=channel_settings.SERVER)]
NO_MENTIONS = discord.AllowedMentions.none()
JOB_POLL = 5.0  # seconds between looks at a submitted meeting's job (to report a failure in its thread)


class NotConfigured(Exception):
    """DISCORD_TOKEN is missing."""


def set_api_url(url: str) -> None:
    """Send discord.py's REST calls (messages, interactions, webhooks) to `url` (DISCORD_API_URL)."""
    discord.http.Route.BASE = url.rstrip("/")


async def default_connect(channel: discord.VoiceChannel):
    """Join for real: discord.py's voice connection (DAVE handshake guarded) with Onno's receive path."""
    return await channel.connect(cls=OnnoVoiceClient, self_deaf=False, self_mute=True, timeout=30)


def missing_permissions(voice: discord.abc.GuildChannel, me: discord.Member, text_perms: discord.Permissions,
                        text_channel) -> list[str]:
    """What the bot lacks to record `voice` and post in `text_channel`, named as Discord's settings name them."""
    vp = voice.permissions_for(me)
    missing = [f"{label} in {voice.mention}" for label, ok in
               (("View Channel", vp.view_channel), ("Connect", vp.connect), ("Speak", vp.speak)) if not ok]
    threads = isinstance(text_channel, discord.TextChannel)
    in_thread = isinstance(text_channel, discord.Thread)
    wanted = [("Send Messages in Threads", text_perms.send_messages_in_threads)] if in_thread else \
        [("Send Messages", text_perms.send_messages)]
    if threads:
        wanted += [("Create Public Threads", text_perms.create_public_threads),
                   ("Send Messages in Threads", text_perms.send_messages_in_threads)]
    where = getattr(text_channel, "mention", "this channel")
    missing += [f"{label} in {where}" for label, ok in wanted if not ok]
    return missing


class OnnoDiscord(Background, discord.Client):
    """One per process. `connect_voice` and `live_factory` are the seams to the voice network and the engine."""

    def __init__(self, app, *, connect_voice=None, live_factory=None, live_pool=None, sync_commands: bool = True,
                 recover: bool = True, clock_factory=None, flush_every: float = FLUSH_EVERY):
        intents = discord.Intents.none()
        intents.guilds = True
        intents.voice_states = True
        super().__init__(intents=intents)
        self.app = app
        self.settings = app.settings
        self.connect_voice = connect_voice or default_connect
        self.live_factory = live_factory
        self._live_pool = live_pool
        self.sync_commands = sync_commands
        self.clock_factory = clock_factory  # each meeting's clock (seconds since it began); tests give their own
        self.flush_every = flush_every
        self.recover_on_ready = recover
        self.meetings: dict[int, LiveMeeting] = {}  # guild id -> the meeting being recorded there
        self.ending: dict[int, asyncio.Task] = {}  # guild id -> a pending end (the channel emptied)
        self.start_background("discord-jobs")
        self._recovered = False
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(self._group())
        self.tree.on_error = self._on_tree_error

    # -- helpers ---------------------------------------------------------------------------------------------

    async def drain(self, timeout: float = 60.0) -> None:
        """Wait for work started after answers (tests, shutdown)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while self.tasks and asyncio.get_running_loop().time() < deadline:
            await asyncio.wait(list(self.tasks), timeout=max(0.1, deadline - asyncio.get_running_loop().time()))

    def live_pool(self):
        """One transcription pool over the shared model for every meeting this process records."""
        if self._live_pool is None:
            from pipeline.live import TranscriptionPool, live_transcriber

            # One CPU thread per recognition gave the shortest tail with four meetings at once (bench_live).
            self._live_pool = TranscriptionPool(live_transcriber(self.app.settings.whisper))
        return self._live_pool

    async def ws_id(self, guild: discord.Guild) -> int:
        return await self.db(cmd.workspace_id, self.app, guild.id, guild.name)

    # -- lifecycle ---------------------------------------------------------------------------------------------

    async def setup_hook(self) -> None:
        if self.sync_commands:
            try:
                await self.tree.sync()
            except discord.HTTPException as exc:
                log.warning("could not register the slash commands: %s", exc)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s", self.user)
        if self.recover_on_ready and not self._recovered:
            self._recovered = True
            await self.recover()

    async def recover(self) -> None:
        """Finish the meetings a previous process was recording when it stopped, from the audio it flushed."""
        rows = await self.db(self._unfinished)
        await self.db(clean_refused, self.app)
        for row_id, thread_id, guild_id in rows:
            if guild_id in self.meetings and self.meetings[guild_id].row_id == row_id:
                continue
            if await rejoin(self, row_id):  # people are still in the channel: record on
                continue
            log.info("finishing meeting %s left by a previous run", row_id)
            channel = self.get_partial_messageable(int(thread_id)) if thread_id else None
            if channel is not None:
                with contextlib.suppress(discord.HTTPException):
                    await channel.send("⚠️ I was restarted in the middle of this meeting. I've stopped recording "
                                       "and am finishing the notes from the audio saved up to then.",
                                       allowed_mentions=NO_MENTIONS)
            with contextlib.suppress(discord.HTTPException):
                await self.http.edit_my_member(int(guild_id), nick=None)
            self.spawn(self._finish(row_id, channel))
        for row_id, thread_id, job_id in await self.db(self._submitted_unfinished):
            channel = self.get_partial_messageable(int(thread_id)) if thread_id else None
            self.spawn(self._watch(row_id, job_id, channel))

    def _unfinished(self) -> list[tuple[int, str | None, int]]:
        with self.app.session() as s:
            return [(r.id, r.thread_id or r.text_channel_id, int(r.guild_id))
                    for r in discord_repo.unfinished_meetings(s)]

    def _submitted_unfinished(self) -> list[tuple[int, str | None, str]]:
        with self.app.session() as s:
            q = discord_repo.DiscordLiveMeeting
            rows = s.query(q).filter(q.status == "submitted").all()
            out = []
            for r in rows:
                job = jobs_repo.get_job(s, r.job_id) if r.job_id else None
                if job is not None and job.status not in ("done", "failed"):
                    out.append((r.id, r.thread_id or r.text_channel_id, r.job_id))
            return out

    async def close(self) -> None:
        """Stop recording with every track on disk; the next start finishes those meetings (`recover`)."""
        for guild_id in list(self.meetings):
            meeting = self.meetings.pop(guild_id)
            with contextlib.suppress(Exception):
                await meeting.stop()
                await meeting.post_channel.send("⏸️ I'm restarting, so I've stopped recording. The notes of what "
                                                "was recorded will be posted here when I'm back.",
                                                allowed_mentions=NO_MENTIONS)
        await self.drain(timeout=30)
        self.jobs_pool.shutdown(wait=False, cancel_futures=False)
        if self._live_pool is not None:
            self._live_pool.close(wait=False)
        await super().close()

    # -- slash commands ----------------------------------------------------------------------------------------

    def _group(self) -> app_commands.Group:
        bot = self
        group = app_commands.Group(name="onno", description="Meeting notes: live in voice channels, or from a recording",
                                   guild_only=True)

        @group.command(name="join", description="Record your voice channel and post live notes in a thread")
        @app_commands.describe(type="The kind of meeting (picks the questions worth asking)")
        @app_commands.choices(type=TYPE_CHOICES)
        async def join(interaction: discord.Interaction, type: app_commands.Choice[str] | None = None):
            await bot.join(interaction, type.value if type else None)

        @group.command(name="leave", description="End the meeting: stop recording and post the full notes")
        async def leave(interaction: discord.Interaction):
            await bot.leave(interaction)

        @group.command(name="process", description="Notes from a recording: attach audio, video or a transcript")
        @app_commands.describe(recording="The meeting recording (or its .vtt, .srt, .docx or .txt transcript)",
                               type="The kind of meeting")
        @app_commands.choices(type=TYPE_CHOICES)
        async def process(interaction: discord.Interaction, recording: discord.Attachment,
                          type: app_commands.Choice[str] | None = None):
            await bot.process(interaction, recording, type.value if type else None)

        @group.command(name="tickets", description="The board, and what meetings moved")
        async def tickets(interaction: discord.Interaction):
            await bot.answer(interaction, cmd.tickets)

        @group.command(name="board", description="Import this server's ticket board from a JSON file (Manage Server)")
        @app_commands.describe(file='The board as JSON: [{"key": "ENG-12", "title": "API docs", "status": "TODO"}]')
        async def board(interaction: discord.Interaction, file: discord.Attachment):
            await bot.import_board(interaction, file)

        @group.command(name="status", description="What is processing, the last meeting, the plan, integrations")
        async def status(interaction: discord.Interaction):
            await bot.answer(interaction, cmd.status)

        @group.command(name="rename-speaker", description="Name a voice of this channel's latest meeting, "
                                                          "everywhere it went")
        @app_commands.describe(old="The name in the notes now, e.g. Speaker 2", new="The person's name",
                               meeting="A meeting's number (default: this channel's latest)")
        async def rename_speaker(interaction: discord.Interaction, old: str, new: str, meeting: int | None = None):
            await bot.rename_speaker(interaction, old, new, meeting)

        @group.command(name="ask", description="Search this server's past meetings")
        @app_commands.describe(question="e.g. when do we launch the pricing page")
        async def ask(interaction: discord.Interaction, question: str):
            await bot.answer(interaction, cmd.ask, question)

        @group.command(name="plan", description="Your plan, minutes used and left")
        async def plan(interaction: discord.Interaction):
            await bot.answer(interaction, cmd.plan)

        @group.command(name="optout", description="Keep your voice out of recordings in this server")
        async def optout(interaction: discord.Interaction):
            await bot.opt(interaction, out=True)

        @group.command(name="optin", description="Allow your voice in recordings in this server again")
        async def optin(interaction: discord.Interaction):
            await bot.opt(interaction, out=False)

        @group.command(name="settings", description="What this channel's meetings get (type, e-mail, Notion, "
                                                    "review); where digests and notices go")
        @app_commands.describe(type="The kind of meeting this channel's meetings are",
                               email="E-mail the summary to the meeting's participants on file",
                               notion="Cards on a connected Notion board: on, off, or the board's name",
                               review="Hold Notion and e-mail until someone approves the notes",
                               scope="This channel (the default), or the server-wide default",
                               digest="Post the weekly digest in this channel, or stop it (whole server)",
                               notices="Team notices: in this channel, not in Discord, or automatic (whole server)")
        @app_commands.rename(scope="for")
        @app_commands.choices(type=SETTING_TYPES, email=SWITCHES, review=SWITCHES, scope=SCOPES,
                              digest=DIGEST_PLACES, notices=NOTICE_PLACES)
        async def settings(interaction: discord.Interaction, type: app_commands.Choice[str] | None = None,
                           email: app_commands.Choice[str] | None = None, notion: str | None = None,
                           review: app_commands.Choice[str] | None = None,
                           scope: app_commands.Choice[str] | None = None,
                           digest: app_commands.Choice[str] | None = None,
                           notices: app_commands.Choice[str] | None = None):
            want = channel_settings.Change(meeting_type=type and type.value, email=email and email.value,
                                           notion=notion, review=review and review.value,
                                           digest=digest and digest.value, notices=notices and notices.value)
            await bot.settings_cmd(interaction, scope.value if scope else channel_settings.CHANNEL, want)

        @settings.autocomplete("notion")
        async def notion_boards(interaction: discord.Interaction, current: str):
            ws_id = await bot.ws_id(interaction.guild)
            found = await bot.db(channel_settings.board_choices, bot.app, ws_id, current)
            return [app_commands.Choice(name=label, value=value) for label, value in found]

        @group.command(name="email", description="E-mailed summaries of your meetings: are you on file, put "
                                                 "yourself on, or off")
        @app_commands.describe(address="Your e-mail address (Discord doesn't share it with bots)",
                               name="The name meetings know you by (default: your name in this server)",
                               off="True: take yourself off file, so Onno no longer e-mails you")
        async def email(interaction: discord.Interaction, address: str | None = None, name: str | None = None,
                        off: bool = False):
            # Only ever the caller's own row: Discord says who they are, and nobody else's is reachable from here.
            await bot.answer(interaction, people.email, interaction.user.id, interaction.user.display_name,
                             channel_settings.settings_channel(interaction.channel), address, name, off)

        @group.command(name="help", description="What Onno does and how")
        async def help_(interaction: discord.Interaction):
            await interaction.response.send_message(cmd.USAGE, ephemeral=True)

        return group

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Clicks on review panels (buttons, select, edit form), by custom id: they outlive a restart."""
        try:
            await review.handle(self, interaction)
        except Exception:
            log.exception("review interaction failed")
            with contextlib.suppress(discord.HTTPException):
                await review.private(interaction, "Something went wrong on my side; try again in a minute.")

    async def _on_tree_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        log.error("/onno failed", exc_info=error)
        reply = "Something went wrong on my side; try again in a minute."
        with contextlib.suppress(discord.HTTPException):
            if interaction.response.is_done():
                await interaction.followup.send(reply, ephemeral=True)
            else:
                await interaction.response.send_message(reply, ephemeral=True)

    async def settings_cmd(self, interaction: discord.Interaction, scope: str, want) -> None:
        """`/onno settings`: the channel's settings for anyone; changes for those who may manage the channel."""
        channel_id = channel_settings.settings_channel(interaction.channel)
        if not want.empty():
            # Manage Server covers everything, so the server-wide check alone decides a mixed change.
            refusal = channel_settings.may_change(interaction.permissions, scope, server_wide=want.server_wide())
            if refusal is not None:
                await interaction.response.send_message(refusal, ephemeral=True, allowed_mentions=NO_MENTIONS)
                return
        ws_id = await self.ws_id(interaction.guild)
        if want.empty():
            text = await self.db(channel_settings.view, self.app, ws_id, channel_id)
        else:
            text = await self.db(channel_settings.change, self.app, ws_id, channel_id, scope=scope,
                                 user_id=interaction.user.id, want=want)
        await interaction.response.send_message(cmd.clip(text), ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def answer(self, interaction: discord.Interaction, fn, *args) -> None:
        """A private answer computed from the database (fast enough for Discord's 3 s)."""
        ws_id = await self.ws_id(interaction.guild)
        text = await self.db(fn, self.app, ws_id, *args)
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def rename_speaker(self, interaction: discord.Interaction, old: str, new: str,
                             meeting_id: int | None) -> None:
        """`/onno rename-speaker`: the posts of that meeting are edited in place through the outbox."""
        from bots.chat.speakers import rename

        await interaction.response.defer(ephemeral=True, thinking=True)
        ws_id = await self.ws_id(interaction.guild)
        if meeting_id is None:
            meeting_id = await self.db(cmd.channel_meeting, self.app, ws_id,
                                       channel_settings.settings_channel(interaction.channel))
        text = await self.in_jobs_pool(rename, self.app, ws_id, meeting_id, old, new)
        await interaction.followup.send(cmd.clip(escape(text)), ephemeral=True, allowed_mentions=NO_MENTIONS)

    async def import_board(self, interaction: discord.Interaction, attachment: discord.Attachment) -> None:
        """`/onno board file:`: the server's board, upserted by ticket key; it replaces what the server shares."""
        perms = interaction.permissions
        if not (perms.manage_guild or perms.administrator):
            await interaction.response.send_message(
                "Importing the server's ticket board needs **Manage Server**: it is the board every meeting here "
                "moves cards on. Ask a server admin.", ephemeral=True)
            return
        name = escape(attachment.filename or "board.json")
        if attachment.size > chat_board.MAX_BOARD_BYTES:
            await interaction.response.send_message(
                "Nothing was imported: " + " ".join(chat_board.too_large(f"**{name}**", attachment.size)),
                ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            raw = await attachment.read()
        except discord.HTTPException as exc:
            await interaction.followup.send(f"I couldn't download **{name}** ({exc.status}); attach it again.",
                                            ephemeral=True)
            return
        ws_id = await self.ws_id(interaction.guild)
        text = await self.db(chat_board.import_board, self.app, ws_id, raw, f"**{name}**")
        await interaction.followup.send(cmd.clip(text), ephemeral=True, allowed_mentions=NO_MENTIONS)

    # -- /onno join and leave ----------------------------------------------------------------------------------

    async def join(self, interaction: discord.Interaction, meeting_type: str | None) -> None:
        guild = interaction.guild
        member = interaction.user
        voice = getattr(member, "voice", None)
        if voice is None or voice.channel is None:
            await interaction.response.send_message(
                "Join a voice channel first, then run `/onno join` and I'll follow you in.", ephemeral=True)
            return
        channel = voice.channel
        current = self.meetings.get(guild.id)
        if current is not None:
            await interaction.response.send_message(
                f"I'm already recording <#{current.voice_channel_id}> in this server; `/onno leave` ends it.",
                ephemeral=True)
            return
        text_channel = interaction.channel
        missing = missing_permissions(channel, guild.me, interaction.app_permissions, text_channel)
        if missing:
            await interaction.response.send_message(
                "I can't record here yet: I'm missing " + ", ".join(f"**{m}**" for m in missing) + ". A server admin "
                "can grant these under Edit Channel → Permissions (or on my role), then run `/onno join` again.",
                ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        ws_id = await self.ws_id(guild)
        try:
            await self.db(cmd.check_live, self.app, ws_id)
        except InputError as exc:  # billing.gate.PlanLimit: what the plan includes and the upgrade link
            await interaction.followup.send(f"{exc.problem}\n{exc.hint}", ephemeral=True)
            return
        opted = await self.db(cmd.opted_out, self.app, ws_id)
        settings_channel = channel_settings.settings_channel(text_channel)
        meeting_type = meeting_type or await self.db(channel_settings.meeting_type, self.app, ws_id, settings_channel)
        nick_ok = await self._set_nick(guild, cmd.RECORDING_NICK)
        try:
            announce = await text_channel.send(cmd.announcement(channel.mention, nick_ok=nick_ok),
                                               allowed_mentions=NO_MENTIONS)
            post_channel = text_channel
            if isinstance(text_channel, discord.TextChannel):
                post_channel = await announce.create_thread(
                    name=f"Meeting notes: {channel.name} {dt.date.today():%d %b}"[:100], auto_archive_duration=1440)
        except discord.HTTPException as exc:
            await self._set_nick(guild, None)
            await interaction.followup.send(f"I couldn't post in this channel ({exc.text or exc.status}), so I "
                                            "didn't start recording.", ephemeral=True)
            return
        title = f"{channel.name} meeting"
        info = MeetingInfo(title=title, type=meeting_type, date=dt.date.today(),
                           participants=[m.display_name for m in channel.members if not m.bot])
        row_id, board = await self.db(self._create_row, ws_id, guild.id, channel.id, text_channel.id,
                                      post_channel.id, member.id, title, meeting_type, settings_channel)
        meeting = LiveMeeting(self, row_id=row_id, workspace_id=ws_id, guild_id=guild.id, voice_channel_id=channel.id,
                              post_channel=post_channel, info=info, board=board, opted_out=opted,
                              clock=self.clock_factory() if self.clock_factory else None)
        self.meetings[guild.id] = meeting
        try:
            meeting.vc = await self.connect_voice(channel)
            meeting.vc.listen(meeting.sink)
        except Exception as exc:
            log.exception("joining %s failed", channel)
            self.meetings.pop(guild.id, None)
            await meeting.stop()
            await self.db(self._fail_row, row_id, f"could not join voice: {exc!r}")
            await self._set_nick(guild, None)
            with contextlib.suppress(discord.HTTPException):
                await post_channel.send(f"⚠️ I couldn't join {channel.mention}, so nothing was recorded.",
                                        allowed_mentions=NO_MENTIONS)
            await interaction.followup.send(f"I couldn't join {channel.mention} ({type(exc).__name__}). Check that "
                                            "I can see and connect to it, then try again.", ephemeral=True)
            return
        where = post_channel.mention if post_channel is not text_channel else "this channel"
        await interaction.followup.send(f"Recording {channel.mention}. Live notes in {where}; `/onno leave` ends "
                                        "the meeting.", ephemeral=True)

    def _create_row(self, ws_id: int, guild_id: int, voice_id: int, text_id: int, thread_id: int, user_id: int,
                    title: str, meeting_type: str, settings_channel: int) -> tuple[int, list]:
        with self.app.session() as s:
            row = discord_repo.DiscordLiveMeeting(
                workspace_id=ws_id, guild_id=str(guild_id), voice_channel_id=str(voice_id),
                text_channel_id=str(text_id), thread_id=str(thread_id), started_by=str(user_id), title=title,
                type=meeting_type, folder="", speakers={}, status="recording", owner=jobs_repo_owner())
            s.add(row)
            s.flush()
            folder = meeting_folder(self.settings.resolved_blob_dir, row.id)
            row.folder = str(folder.relative_to(self.settings.resolved_blob_dir))
            ws = repo.workspace_by_id(s, ws_id)
            discord_repo.record_intake(s, ws, job_id=live_job_id(row.id), channel_id=settings_channel,
                                       started_by=user_id, kind="live")
            board = repo.board(s, ws)
            return row.id, board

    def _fail_row(self, row_id: int, error: str) -> None:
        with self.app.session() as s:
            row = s.get(discord_repo.DiscordLiveMeeting, row_id)
            row.status, row.error = "failed", error[:2000]

    async def _set_nick(self, guild: discord.Guild, nick: str | None) -> bool:
        try:
            await self.http.edit_my_member(guild.id, nick=nick)
            return True
        except discord.HTTPException as exc:
            log.info("could not set my nickname in %s: %s", guild.id, exc)
            return False

    async def leave(self, interaction: discord.Interaction) -> None:
        meeting = self.meetings.get(interaction.guild.id)
        if meeting is None:
            await interaction.response.send_message("I'm not recording in this server.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        where = getattr(meeting.post_channel, "mention", "the meeting's thread")
        self.spawn(self.end_meeting(interaction.guild.id, f"{interaction.user.display_name} ended it"))
        await interaction.followup.send(f"Meeting ended. The full notes will be posted in {where} when they're "
                                        "ready.", ephemeral=True)

    async def end_meeting(self, guild_id: int, reason: str) -> None:
        """Stop recording, then hand the tracks to the job runner; its delivery posts the notes in the thread."""
        meeting = self.meetings.pop(guild_id, None)
        pending = self.ending.pop(guild_id, None)
        if pending is not None and pending is not asyncio.current_task():
            pending.cancel()
        if meeting is None:
            return
        await meeting.stop()
        await self._set_nick(self.get_guild(guild_id) or discord.Object(guild_id), None)
        with contextlib.suppress(discord.HTTPException):
            await meeting.post_channel.send(f"⏹️ Recording stopped ({reason}). Working on the full notes; they'll "
                                            "be posted here.", allowed_mentions=NO_MENTIONS)
        await self._finish(meeting.row_id, meeting.post_channel)

    async def _finish(self, row_id: int, channel) -> None:
        try:
            status, detail, left_out = await self.in_jobs_pool(finish_meeting, self.app, row_id)
        except Exception as exc:
            log.exception("finishing meeting %s failed", row_id)
            status, detail, left_out = "error", repr(exc), []
        if left_out and channel is not None:
            with contextlib.suppress(discord.HTTPException):
                await channel.send(cmd.clip("ℹ️ " + chat_settings.left_out_text(left_out)),
                                   allowed_mentions=NO_MENTIONS)
        if status == "submitted":
            await self._watch(row_id, detail, channel)
            return
        if channel is None:
            return
        text = {"empty": f"ℹ️ {detail}", "failed": f"⚠️ I couldn't process this meeting: {detail}",
                "error": "⚠️ Something went wrong on my side finishing this meeting; its audio is kept and I'll try "
                         "again when I restart."}.get(status)
        if text:
            with contextlib.suppress(discord.HTTPException):
                await channel.send(text, allowed_mentions=NO_MENTIONS)

    async def _watch(self, row_id: int | None, job_id: str, channel) -> None:
        """Until the job ends: its delivery posts the notes; a failure is said here."""
        while True:
            status, error = await self.db(self._job_state, job_id)
            if status in ("done", "missing"):
                if row_id is not None:
                    await self.db(self._set_status, row_id, "done")
                return
            if status == "failed":
                if row_id is not None:
                    await self.db(self._set_status, row_id, "failed", error)
                if channel is not None:
                    with contextlib.suppress(discord.HTTPException):
                        await channel.send(f"⚠️ Processing failed: {error}", allowed_mentions=NO_MENTIONS)
                return
            await asyncio.sleep(JOB_POLL)

    def _job_state(self, job_id: str) -> tuple[str, str | None]:
        with self.app.session() as s:
            job = jobs_repo.get_job(s, job_id)
            return (job.status, job.error) if job else ("missing", None)

    def _set_status(self, row_id: int, status: str, error: str | None = None) -> None:
        with self.app.session() as s:
            row = s.get(discord_repo.DiscordLiveMeeting, row_id)
            row.status = status
            if error:
                row.error = error[:2000]

    # -- consent -----------------------------------------------------------------------------------------------

    async def opt(self, interaction: discord.Interaction, *, out: bool) -> None:
        guild, user = interaction.guild, interaction.user
        ws_id = await self.ws_id(guild)
        await self.db(cmd.set_opt_out, self.app, ws_id, user.id, out)
        meeting = self.meetings.get(guild.id)
        if out:
            if meeting is not None:
                await meeting.opt_out(user.id)
                meeting.poster.note(f"🔇 {escape(user.display_name)} opted out: their voice "
                                    "is not recorded or transcribed.")
            text = ("You're opted out in this server: I won't record or transcribe your voice, in this meeting or "
                    "later ones" + (", and what I had recorded of you in this one is deleted" if meeting else "")
                    + ". `/onno optin` undoes it.")
        else:
            if meeting is not None:
                meeting.opt_in(user.id)
            text = ("You're opted in again: when I record a meeting in this server, your voice is part of the "
                    "notes. `/onno optout` to stop that.")
        await interaction.response.send_message(text, ephemeral=True)

    # -- voice channel events ------------------------------------------------------------------------------------

    async def on_voice_state_update(self, member: discord.Member, before: discord.VoiceState,
                                    after: discord.VoiceState) -> None:
        meeting = self.meetings.get(member.guild.id)
        if meeting is None:
            return
        vid = meeting.voice_channel_id
        if self.user is not None and member.id == self.user.id:
            if after.channel is None and meeting.watch.reconnecting:
                return  # our own watchdog left to join again
            if after.channel is None:
                self.spawn(self.end_meeting(member.guild.id, "I was disconnected from the voice channel"))
            elif after.channel.id != vid:  # moved by someone: that channel is now the meeting's
                meeting.voice_channel_id = after.channel.id
            return
        if member.bot:
            return
        joined = after.channel is not None and after.channel.id == vid and (before.channel is None
                                                                             or before.channel.id != vid)
        if joined:
            pending = self.ending.pop(member.guild.id, None)
            if pending is not None:
                pending.cancel()
            text = cmd.joiner_notice(member.mention, opted_out=member.id in meeting.excluded)
            with contextlib.suppress(discord.HTTPException):
                await meeting.post_channel.send(text, allowed_mentions=discord.AllowedMentions(users=[member]))
            return
        left = before.channel is not None and before.channel.id == vid and (after.channel is None
                                                                            or after.channel.id != vid)
        if left:
            channel = member.guild.get_channel(vid)
            humans = [m for m in getattr(channel, "members", []) if not m.bot]
            if not humans and member.guild.id not in self.ending:
                self.ending[member.guild.id] = self.spawn(self._end_when_empty(member.guild.id))

    async def _end_when_empty(self, guild_id: int) -> None:
        await asyncio.sleep(self.settings.discord_empty_grace)
        if self.ending.get(guild_id) is asyncio.current_task():
            await self.end_meeting(guild_id, "everyone left")

    # -- /onno process -----------------------------------------------------------------------------------------

    async def process(self, interaction: discord.Interaction, attachment: discord.Attachment,
                      meeting_type: str | None) -> None:
        name = attachment.filename or "recording"
        if not chat_intake.is_recording(name, mimetype=attachment.content_type or "", asked=True):
            await interaction.response.send_message(chat_intake.not_a_recording(escape(name), None, bold="**"),
                                                    ephemeral=True)
            return
        if attachment.size > (limit := chat_intake.max_bytes(self.settings)):
            await interaction.response.send_message(
                chat_intake.too_big(escape(name), attachment.size, limit, bold="**"), ephemeral=True)
            return
        if not interaction.app_permissions.send_messages:
            await interaction.response.send_message(
                "I can't post the notes here: I'm missing **Send Messages** in this channel.", ephemeral=True)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        ws_id = await self.ws_id(interaction.guild)
        status = await interaction.channel.send(
            f"📥 Got **{escape(name)}** from {interaction.user.mention}. Processing…",
            allowed_mentions=NO_MENTIONS)
        reply = await self._process_upload(attachment, name, meeting_type, ws_id, interaction.channel, status,
                                           interaction.user.id, interaction.user.display_name)
        await interaction.followup.send(cmd.clip(reply), ephemeral=True)

    async def _process_upload(self, attachment, name: str, meeting_type: str | None, ws_id: int, channel,
                              status: discord.Message, user_id: int, uploader: str | None = None) -> str:
        job_id = jobs_repo.new_job_id()
        settings_channel = channel_settings.settings_channel(channel)
        meeting_type = meeting_type or await self.db(channel_settings.meeting_type, self.app, ws_id, settings_channel)
        extra = await self.db(channel_settings.delivery, self.app, ws_id, settings_channel)
        # Recorded before the job runs: with no broker the review panel is posted before submit returns.
        await self.db(self._record_upload, ws_id, job_id, settings_channel, user_id)
        try:
            with tempfile.TemporaryDirectory(prefix="onno-discord-") as tmp:
                path = Path(tmp) / local_name(name, f"{attachment.id}{PurePosixPath(name).suffix.lower()[:10]}")
                await attachment.save(path)
                # Who attached it: a hint for naming the voices (most likely the host, who opens the meeting).
                info = MeetingInfo(title=chat_intake.title(name, "Discord recording"), type=meeting_type,
                                   date=dt.date.today(), participants=[], uploader=uploader or None)
                fut = self.in_jobs_pool(self.app.runner.submit, path, info, workspace=ws_id, job_id=job_id,
                                        targets=[discord_target(channel.id, status.id), *extra.targets],
                                        review_first=extra.review_first)
                await fut
        except InputError as exc:
            await self.db(self._forget_upload, job_id)
            reply = f"I can't process **{escape(name)}**: {exc}"
            with contextlib.suppress(discord.HTTPException):
                await status.edit(content=f"⚠️ {reply}", allowed_mentions=NO_MENTIONS)
            return reply
        except discord.HTTPException as exc:
            await self.db(self._forget_upload, job_id)
            reply = f"I couldn't download **{escape(name)}** ({exc.status}); attach it again."
            with contextlib.suppress(discord.HTTPException):
                await status.edit(content=f"⚠️ {reply}", allowed_mentions=NO_MENTIONS)
            return reply
        except Exception:
            await self.db(self._forget_upload, job_id)
            raise
        self.spawn(self._watch_upload(job_id, status))
        reply = f"Processing **{escape(name)}**: the notes will be posted in this channel."
        if extra.left_out:
            reply += "\n" + chat_settings.left_out_text(extra.left_out)
        return reply

    def _record_upload(self, ws_id: int, job_id: str, channel_id: int, user_id: int) -> None:
        with self.app.session() as s:
            discord_repo.record_intake(s, repo.workspace_by_id(s, ws_id), job_id=job_id, channel_id=channel_id,
                                       started_by=user_id, kind="upload")

    def _forget_upload(self, job_id: str) -> None:
        """The upload was refused before its job was made: no one started anything."""
        with self.app.session() as s:
            if jobs_repo.get_job(s, job_id) is None:
                discord_repo.forget_intake(s, job_id)

    async def _watch_upload(self, job_id: str, status: discord.Message) -> None:
        while True:
            state, error = await self.db(self._job_state, job_id)
            if state in ("done", "missing"):
                return
            if state == "failed":
                with contextlib.suppress(discord.HTTPException):
                    await status.edit(content=f"⚠️ Processing failed: {error}", allowed_mentions=NO_MENTIONS)
                return
            await asyncio.sleep(JOB_POLL)


def jobs_repo_owner() -> str:
    from onno.jobs import worker_id

    return worker_id()


__all__ = ["OnnoDiscord", "NotConfigured", "set_api_url", "live_job_id"]
