"""A local HTTP server playing Discord's REST API (v10), and the gateway payloads a test feeds discord.py.

The server checks what real Discord checks for the calls Onno makes (the bot token, known channels, 2000-character
messages, allowed_mentions, thread names, nicknames, interaction callback types) and answers with objects of the
real shape, so discord.py builds its models from them. Every call is recorded; `rate_limit_next` makes the next
matching call answer 429 the way Discord does, and edits per message are timed so a test can check the pace.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "bot-token-for-tests"
APP_ID = 1300000000000000001
BOT_ID = 1300000000000000002
GUILD_ID = 1300000000000000010
TEXT_ID = 1300000000000000020
VOICE_ID = 1300000000000000030
MAYA, DANIEL, LENA = 1300000000000000101, 1300000000000000102, 1300000000000000103
NAMES = {MAYA: "Maya", DANIEL: "Daniel", LENA: "Lena", BOT_ID: "Onno"}
EPHEMERAL = 64


class CallError(AssertionError):
    """A call Discord would refuse as malformed (HTTP 400): recorded, and the test fails on it."""


def user(uid: int, *, bot: bool = False) -> dict:
    name = NAMES.get(uid, f"user{uid % 1000}")
    return {"id": str(uid), "username": name.lower(), "global_name": name, "discriminator": "0", "avatar": None,
            "bot": bot, "public_flags": 0}


def member(uid: int, *, nick: str | None = None, bot: bool = False) -> dict:
    return {"user": user(uid, bot=bot), "nick": nick, "roles": [], "joined_at": "2026-01-05T10:00:00+00:00",
            "deaf": False, "mute": False, "flags": 0, "pending": False, "avatar": None,
            "communication_disabled_until": None}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class FakeDiscord:
    """Channels, messages and threads of one server; what each call sent is kept in `calls`."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls: list[dict] = []
        self.problems: list[str] = []
        self.messages: dict[int, dict] = {}  # message id -> message (with "edits": [monotonic times])
        self.channels: dict[int, dict] = {TEXT_ID: {"id": TEXT_ID, "type": 0, "name": "standup"},
                                          VOICE_ID: {"id": VOICE_ID, "type": 2, "name": "Daily"}}
        self.nick: str | None = None
        self.commands: list[dict] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.script: list[tuple] = []  # (predicate(verb, path), status, body, headers)
        self._ids = itertools.count(1400000000000000000)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def do_PATCH(self):
                fake._handle(self, "PATCH")

            def do_PUT(self):
                fake._handle(self, "PUT")

            def do_DELETE(self):
                fake._handle(self, "DELETE")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.api_url = self.base + "/api/v10"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- set-up and queries -------------------------------------------------------------------------------------

    def add_file(self, name: str, content: bytes, content_type: str) -> str:
        self.files[name] = (content, content_type)
        return f"{self.base}/attachments/{TEXT_ID}/1/{name}"

    def rate_limit_next(self, verb: str, pattern: str, retry_after: float = 0.3) -> None:
        """The next call matching answers 429 with Discord's body and headers; discord.py must wait and retry."""
        rx = re.compile(pattern)
        self.script.append((lambda v, p: v == verb and rx.search(p), 429,
                            {"message": "You are being rate limited.", "retry_after": retry_after, "global": False,
                             "code": 0},
                            {"Retry-After": str(retry_after), "X-RateLimit-Scope": "user",
                             "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                             "X-RateLimit-Reset-After": str(retry_after), "X-RateLimit-Bucket": "fakebucket"}))

    def fail_next(self, verb: str, pattern: str, status: int, body: dict) -> None:
        """The next call matching answers this error (e.g. 403 Missing Permissions, code 50013)."""
        rx = re.compile(pattern)
        self.script.append((lambda v, p: v == verb and rx.search(p), status, body, {}))

    def calls_to(self, verb: str, pattern: str) -> list[dict]:
        rx = re.compile(pattern)
        with self.lock:
            return [c for c in self.calls if c["verb"] == verb and rx.search(c["path"])]

    def in_channel(self, channel_id: int) -> list[dict]:
        with self.lock:
            return [m for m in self.messages.values() if m["channel_id"] == str(channel_id)]

    def threads(self) -> list[dict]:
        with self.lock:
            return [c for c in self.channels.values() if c["type"] == 11]

    def followups(self) -> list[dict]:
        return [c["json"] for c in self.calls_to("POST", r"^/api/v10/webhooks/")]

    # -- the server -------------------------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, verb: str) -> None:
        url = urlsplit(h.path)
        raw = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        if url.path.startswith("/attachments/"):
            name = url.path.rsplit("/", 1)[1]
            content, ctype = self.files.get(name, (b"", "text/plain"))
            return self._send(h, 200 if name in self.files else 404, content, ctype=ctype)
        body = None
        if raw and "json" in h.headers.get("Content-Type", ""):
            body = json.loads(raw)
        call = {"verb": verb, "path": url.path, "query": parse_qs(url.query), "json": body,
                "auth": h.headers.get("Authorization", ""), "at": time.monotonic()}
        with self.lock:
            self.calls.append(call)
            answer = next((a for a in self.script if a[0](verb, url.path)), None)
            if answer is not None:
                self.script.remove(answer)
        if answer is not None:
            return self._send(h, answer[1], answer[2], headers=answer[3])
        webhook = url.path.startswith(("/api/v10/webhooks/", "/api/v10/interactions/"))
        if not webhook and call["auth"] != f"Bot {TOKEN}":
            return self._send(h, 401, {"message": "401: Unauthorized", "code": 0})
        try:
            status, data = self._route(verb, url.path.removeprefix("/api/v10"), body or {})
        except CallError as exc:
            with self.lock:
                self.problems.append(f"{verb} {url.path}: {exc}")
            return self._send(h, 400, {"message": f"Invalid Form Body: {exc}", "code": 50035})
        return self._send(h, status, data)

    def _send(self, h, status: int, data, *, ctype: str = "application/json", headers: dict | None = None) -> None:
        payload = data if isinstance(data, bytes) else json.dumps(data).encode()
        if status == 204:
            payload = b""
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)

    def _message(self, channel_id: int, body: dict, *, author: int = BOT_ID, interaction: bool = False) -> dict:
        content = body.get("content") or ""
        if not content and not body.get("embeds"):
            raise CallError("Cannot send an empty message")
        if len(content) > 2000:
            raise CallError(f"content: Must be 2000 or fewer in length ({len(content)})")
        am = body.get("allowed_mentions")
        if am is not None:
            if not isinstance(am, dict) or not set(am) <= {"parse", "users", "roles", "replied_user"}:
                raise CallError(f"allowed_mentions: bad shape {am!r}")
            if "users" in am and "users" in am.get("parse", []):
                raise CallError("allowed_mentions: parse users and users are mutually exclusive")
        mid = next(self._ids)
        msg = {"id": str(mid), "channel_id": str(channel_id), "guild_id": str(GUILD_ID), "author": user(author,
                                                                                                         bot=True),
               "content": content, "timestamp": now_iso(), "edited_timestamp": None, "tts": False,
               "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
               "pinned": False, "type": 0, "flags": int(body.get("flags") or 0), "components": [],
               "allowed_mentions": am}
        with self.lock:
            self.messages[mid] = {**msg, "edits": [], "interaction": interaction}
        return msg

    def _route(self, verb: str, path: str, body: dict) -> tuple[int, object]:
        if verb == "GET" and path == "/users/@me":
            return 200, {**user(BOT_ID, bot=True), "verified": True, "mfa_enabled": False, "flags": 0}
        if verb == "GET" and path == "/oauth2/applications/@me":
            return 200, {"id": str(APP_ID), "name": "Onno", "icon": None, "description": "", "rpc_origins": [],
                         "bot_public": True, "bot_require_code_grant": False, "owner": user(MAYA), "team": None,
                         "verify_key": "00", "flags": 0, "summary": ""}
        if verb == "PUT" and (m := re.fullmatch(r"/applications/(\d+)/commands", path)):
            if int(m[1]) != APP_ID:
                raise CallError("unknown application")
            for c in body:
                if not re.fullmatch(r"[-_\w]{1,32}", c.get("name", "")) or len(c.get("description", "")) > 100:
                    raise CallError(f"bad command {c.get('name')}")
            self.commands = body
            return 200, [{**c, "id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1"}
                         for c in body]
        if verb == "POST" and (m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)):
            rtype = body.get("type")
            if rtype not in (4, 5):
                raise CallError(f"interaction response type {rtype} is not one a slash command takes")
            msg = self._message(TEXT_ID, body.get("data") or {"content": "…"}, interaction=True) if rtype == 4 \
                else None
            flags = int((body.get("data") or {}).get("flags") or 0)
            return 200, {"interaction": {"id": m[1], "type": 2, "response_message_id": msg and msg["id"],
                                         "response_message_loading": rtype == 5,
                                         "response_message_ephemeral": bool(flags & EPHEMERAL)},
                         "resource": {"type": rtype, **({"message": msg} if msg else {})}}
        if (m := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(/messages/@original)?", path)):
            if int(m[1]) != APP_ID:
                raise CallError("followups go to the application's webhook")
            return 200, self._message(TEXT_ID, body, interaction=True)
        if verb == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages", path)):
            if int(m[1]) not in self.channels:
                return 404, {"message": "Unknown Channel", "code": 10003}
            return 200, self._message(int(m[1]), body)
        if verb == "PATCH" and (m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)", path)):
            with self.lock:
                msg = self.messages.get(int(m[2]))
            if msg is None or msg["channel_id"] != m[1]:
                return 404, {"message": "Unknown Message", "code": 10008}
            content = body.get("content", msg["content"])
            if len(content or "") > 2000:
                raise CallError(f"content: Must be 2000 or fewer in length ({len(content)})")
            with self.lock:
                msg["content"] = content
                msg["edited_timestamp"] = now_iso()
                msg["edits"].append(time.monotonic())
            return 200, {k: v for k, v in msg.items() if k not in ("edits", "interaction")}
        if verb == "POST" and (m := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", path)):
            name = body.get("name") or ""
            if not 1 <= len(name) <= 100:
                raise CallError("name: Must be between 1 and 100 in length")
            if body.get("auto_archive_duration") not in (None, 60, 1440, 4320, 10080):
                raise CallError("auto_archive_duration must be 60, 1440, 4320 or 10080")
            if int(m[2]) not in self.messages:
                return 404, {"message": "Unknown Message", "code": 10008}
            tid = int(m[2])  # a thread started from a message has the message's id
            thread = {"id": tid, "type": 11, "name": name, "parent_id": m[1]}
            with self.lock:
                self.channels[tid] = thread
            return 201, {"id": str(tid), "type": 11, "guild_id": str(GUILD_ID), "parent_id": m[1], "name": name,
                         "owner_id": str(BOT_ID), "last_message_id": None, "rate_limit_per_user": 0,
                         "message_count": 0, "member_count": 1, "flags": 0, "total_message_sent": 0,
                         "thread_metadata": {"archived": False, "auto_archive_duration": 1440, "locked": False,
                                             "archive_timestamp": now_iso(), "create_timestamp": now_iso()},
                         "member": {"id": str(tid), "user_id": str(BOT_ID), "join_timestamp": now_iso(),
                                    "flags": 0}}
        if verb == "PATCH" and (m := re.fullmatch(r"/guilds/(\d+)/members/@me", path)):
            nick = body.get("nick")
            if nick is not None and not 1 <= len(nick) <= 32:
                raise CallError("nick: Must be between 1 and 32 in length")
            self.nick = nick
            return 200, member(BOT_ID, nick=nick, bot=True)
        raise CallError(f"the fake does not know {verb} {path}")


# -- gateway payloads (what discord.py's gateway would hand its parsers) -------------------------------------------


def voice_state(uid: int, channel_id: int | None, *, session: str | None = None) -> dict:
    return {"guild_id": str(GUILD_ID), "channel_id": str(channel_id) if channel_id else None, "user_id": str(uid),
            "member": member(uid, bot=uid == BOT_ID), "session_id": session or f"s{uid}", "deaf": False,
            "mute": False, "self_deaf": False, "self_mute": False, "self_video": False, "suppress": False,
            "request_to_speak_timestamp": None}


def guild_create(in_voice: list[int], *, bot_permissions: int | None = None) -> dict:
    """GUILD_CREATE for the test server: #standup, 🔊Daily, the members in voice; @everyone's permissions."""
    everyone = bot_permissions if bot_permissions is not None else (1 << 10 | 1 << 11 | 1 << 20 | 1 << 21 | 1 << 35
                                                                    | 1 << 38 | 1 << 26)
    members = [member(BOT_ID, bot=True)] + [member(u) for u in in_voice]
    return {"id": str(GUILD_ID), "name": "Checkout team", "icon": None, "owner_id": str(MAYA), "unavailable": False,
            "large": False, "member_count": len(members), "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "features": [], "mfa_level": 0,
            "system_channel_flags": 0, "premium_tier": 0, "nsfw_level": 0, "preferred_locale": "en-US",
            "roles": [{"id": str(GUILD_ID), "name": "@everyone", "permissions": str(everyone), "position": 0,
                       "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}],
            "emojis": [], "stickers": [], "members": members,
            "channels": [{"id": str(TEXT_ID), "type": 0, "name": "standup", "position": 0,
                          "permission_overwrites": [], "guild_id": str(GUILD_ID), "nsfw": False,
                          "rate_limit_per_user": 0, "topic": None, "last_message_id": None, "parent_id": None},
                         {"id": str(VOICE_ID), "type": 2, "name": "Daily", "position": 1,
                          "permission_overwrites": [], "guild_id": str(GUILD_ID), "bitrate": 64000,
                          "user_limit": 0, "rtc_region": None, "nsfw": False, "rate_limit_per_user": 0,
                          "parent_id": None}],
            "threads": [], "voice_states": [{k: v for k, v in voice_state(u, VOICE_ID).items() if k != "member"}
                                            for u in in_voice],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "joined_at": "2026-01-05T10:00:00+00:00"}


APP_PERMISSIONS = str(1 << 10 | 1 << 11 | 1 << 35 | 1 << 38 | 1 << 15 | 1 << 16)


def interaction(sub: str, options: list[dict] | None = None, *, uid: int = MAYA, resolved: dict | None = None,
                app_permissions: str = APP_PERMISSIONS, iid: int | None = None) -> dict:
    """INTERACTION_CREATE for `/onno SUB` typed in #standup by `uid`."""
    iid = iid or next(_interaction_ids)
    data = {"id": "1300000000000000900", "name": "onno", "type": 1, "guild_id": str(GUILD_ID),
            "options": [{"name": sub, "type": 1, "options": options or []}]}
    if resolved:
        data["resolved"] = resolved
    return {"id": str(iid), "application_id": str(APP_ID), "type": 2, "token": f"tok-{iid}", "version": 1,
            "guild_id": str(GUILD_ID), "guild": {"id": str(GUILD_ID), "locale": "en-US", "features": []},
            "channel_id": str(TEXT_ID),
            "channel": {"id": str(TEXT_ID), "type": 0, "name": "standup", "guild_id": str(GUILD_ID),
                        "permissions": app_permissions, "position": 0, "parent_id": None, "nsfw": False,
                        "rate_limit_per_user": 0, "topic": None, "last_message_id": None,
                        "permission_overwrites": []},
            "member": {**member(uid), "permissions": "2248473465835073"},
            "app_permissions": app_permissions, "locale": "en-US", "guild_locale": "en-US", "data": data,
            "entitlements": [], "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0,
            "attachment_size_limit": 26214400}


_interaction_ids = itertools.count(1500000000000000000)
