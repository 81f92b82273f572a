"""A local HTTP server playing Discord's REST API (v10), and the gateway payloads a test feeds discord.py.

The server checks what real Discord checks for the calls Onno makes (the bot token, known channels, 2000-character
messages, allowed_mentions, thread names, nicknames, interaction callback types, message components and modals) and
answers with objects of the real shape, so discord.py builds its models from them. Every call is recorded;
`rate_limit_next` makes the next matching call answer 429 the way Discord does, and edits per message are timed so a
test can check the pace. `click` and `submit_modal` make the INTERACTION_CREATE payloads Discord sends when someone
presses a component on a message the fake holds, or submits a modal a callback opened.
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
TEAM_ID = 1300000000000000040  # #team: a second text channel (where a server may want its digest and notices)
MAYA, DANIEL, LENA = 1300000000000000101, 1300000000000000102, 1300000000000000103
NAMES = {MAYA: "Maya", DANIEL: "Daniel", LENA: "Lena", BOT_ID: "Onno"}
EPHEMERAL = 64
MEMBER_PERMISSIONS = "2248473465835073"  # an ordinary member: no Manage Messages, Channels or Server
MANAGE_CHANNELS, MANAGE_GUILD, MANAGE_MESSAGES = 1 << 4, 1 << 5, 1 << 13
# Interaction callback types each interaction type takes (Discord's "Interaction Callback Type" table).
CALLBACKS = {2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}
# Application command option types: 1 subcommand, 2 subcommand group, 3 string ... 11 attachment.
OPTION_TYPES = set(range(1, 12))
BUTTON_STYLES = {1, 2, 3, 4, 5, 6}
SELECTS = {3, 5, 6, 7, 8}


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
                                          VOICE_ID: {"id": VOICE_ID, "type": 2, "name": "Daily"},
                                          TEAM_ID: {"id": TEAM_ID, "type": 0, "name": "team"}}
        self.nick: str | None = None
        self.commands: list[dict] = []
        self.files: dict[str, tuple[bytes, str]] = {}
        self.script: list[tuple] = []  # (predicate(verb, path), status, body, headers)
        self.lose_answers = 0  # the next N message creates happen, but their answers never arrive
        self.nonces: dict[tuple[str, str], tuple[float, dict]] = {}  # (channel, nonce) -> (when, message)
        self.interactions: dict[str, dict] = {}  # interaction id -> what it was, what it got back
        self.modals: dict[str, dict] = {}  # id of the interaction a modal answered -> the modal
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

    def message(self, message_id: int | str) -> dict:
        with self.lock:
            return self.messages[int(message_id)]

    def responses(self, iid: str) -> list[dict]:
        """The callbacks an interaction got (type and data), in order."""
        with self.lock:
            return list(self.interactions[str(iid)]["responses"])

    # -- interactions as Discord sends them -------------------------------------------------------------------

    def autocomplete(self, sub: str, options: list[dict], *, uid: int = MAYA) -> dict:
        """INTERACTION_CREATE (type 4) for `uid` typing into the option marked `"focused": True` of `/onno SUB`;
        only an option the registered command offers autocomplete on sends these."""
        focused = [o for o in options if o.get("focused")]
        if len(focused) != 1:
            raise CallError("an autocomplete interaction has exactly one focused option")
        command = next((o for c in self.commands for o in c.get("options") or [] if o["name"] == sub), None)
        declared = {o["name"]: o for o in (command or {}).get("options") or []}
        if not declared.get(focused[0]["name"], {}).get("autocomplete"):
            raise CallError(f"/onno {sub} {focused[0]['name']} has no autocomplete: Discord would not send this")
        payload = interaction(sub, options, uid=uid)
        payload["type"] = 4
        with self.lock:
            self.interactions[payload["id"]] = {"type": 4, "message_id": None, "responses": [],
                                                "response_message_id": None}
        return payload

    def click(self, message_id: int | str, custom_id: str, *, uid: int = MAYA, values: list[str] | None = None,
              permissions: str = MEMBER_PERMISSIONS, guild: bool = True) -> dict:
        """INTERACTION_CREATE (type 3) for `uid` pressing the component `custom_id` of a message: only a component
        the message shows, enabled, and for a select only values among its options, as Discord's client allows."""
        with self.lock:
            msg = self.messages.get(int(message_id))
            if msg is None:
                raise CallError(f"no message {message_id}")
            found = next((c for row in msg.get("components") or [] for c in row.get("components", [])
                          if c.get("custom_id") == custom_id), None)
            snapshot = {k: v for k, v in msg.items() if k not in ("edits", "interaction")}
        if found is None:
            raise CallError(f"message {message_id} has no component {custom_id!r}")
        if found.get("disabled"):
            raise CallError(f"{custom_id!r} is disabled: Discord's client can't press it")
        data = {"custom_id": custom_id, "component_type": found["type"], "id": found.get("id", 1)}
        if found["type"] in SELECTS:
            options = {o["value"] for o in found.get("options", [])}
            values = list(values or [])
            if not found.get("min_values", 1) <= len(values) <= found.get("max_values", 1) \
                    or not set(values) <= options:
                raise CallError(f"values {values} are not a choice the select {custom_id!r} offers")
            data["values"] = values
        elif values:
            raise CallError("only a select sends values")
        return self._interaction(3, data, uid=uid, permissions=permissions, message=snapshot,
                                 channel_id=int(msg["channel_id"]), guild=guild)

    def submit_modal(self, opened_by: str, values: dict[str, str], *, uid: int = MAYA,
                     permissions: str = MEMBER_PERMISSIONS) -> dict:
        """INTERACTION_CREATE (type 5) for `uid` submitting the modal that interaction `opened_by` was answered
        with; `values` by text input custom_id (others keep their prefilled value). The client enforces required,
        min_length and max_length before it sends, so values outside them are a test's mistake."""
        with self.lock:
            modal = self.modals.get(str(opened_by))
            opener = self.interactions.get(str(opened_by))
        if modal is None:
            raise CallError(f"interaction {opened_by} was not answered with a modal")
        unknown = set(values) - {field["custom_id"] for _kind, field in modal_fields(modal)}
        if unknown:
            raise CallError(f"the modal has no inputs {sorted(unknown)}")
        rows = []
        for n, (kind, field) in enumerate(modal_fields(modal), 1):
            value = values.get(field["custom_id"], field.get("value") or "")
            if field.get("required", True) and not value:
                raise CallError(f"{field['custom_id']} is required: the client won't submit")
            if value and not field.get("min_length", 0) <= len(value) <= field.get("max_length", 4000):
                raise CallError(f"{field['custom_id']}: {len(value)} characters is outside the input's limits")
            inner = {"type": 4, "id": 2 * n, "custom_id": field["custom_id"], "value": value}
            rows.append({"type": 18, "id": 2 * n - 1, "component": inner} if kind == 18
                        else {"type": 1, "id": 2 * n - 1, "components": [inner]})
        message = None
        if opener and opener.get("message_id"):
            with self.lock:
                msg = self.messages.get(int(opener["message_id"]))
                message = {k: v for k, v in msg.items() if k not in ("edits", "interaction")} if msg else None
        return self._interaction(5, {"custom_id": modal["custom_id"], "components": rows}, uid=uid,
                                 permissions=permissions, message=message,
                                 channel_id=int(message["channel_id"]) if message else TEXT_ID)

    def _interaction(self, itype: int, data: dict, *, uid: int, permissions: str, message: dict | None,
                     channel_id: int, guild: bool = True) -> dict:
        iid = str(next(_interaction_ids))
        known = self.channels.get(channel_id, {})
        channel = {"id": str(channel_id), "type": known.get("type", 0), "name": known.get("name", "thread"),
                   "guild_id": str(GUILD_ID), "permissions": APP_PERMISSIONS, "position": 0,
                   "parent_id": known.get("parent_id"), "nsfw": False, "rate_limit_per_user": 0, "topic": None,
                   "last_message_id": None, "permission_overwrites": []}
        if channel["type"] == 11:  # a thread: Discord sends its parent and thread fields, not a channel's
            for k in ("position", "topic", "permission_overwrites"):
                channel.pop(k)
            channel.update(owner_id=str(BOT_ID), message_count=0, member_count=1, flags=0,
                           thread_metadata={"archived": False, "auto_archive_duration": 1440, "locked": False,
                                            "archive_timestamp": now_iso(), "create_timestamp": now_iso()})
        payload = {"id": iid, "application_id": str(APP_ID), "type": itype, "token": f"tok-{iid}", "version": 1,
                   "channel_id": str(channel_id), "channel": channel,
                   "app_permissions": APP_PERMISSIONS, "locale": "en-US", "data": data, "entitlements": [],
                   "context": 0 if guild else 1, "attachment_size_limit": 26214400}
        if guild:
            payload.update(guild_id=str(GUILD_ID), guild={"id": str(GUILD_ID), "locale": "en-US", "features": []},
                           member={**member(uid), "permissions": permissions}, guild_locale="en-US",
                           authorizing_integration_owners={"0": str(GUILD_ID)})
        else:
            payload.update(user=user(uid), authorizing_integration_owners={"1": str(uid)})
        if message is not None:
            payload["message"] = message
        with self.lock:
            self.interactions[iid] = {"type": itype, "message_id": message and message["id"], "responses": [],
                                      "response_message_id": None}
        return payload

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
        if verb == "POST" and re.fullmatch(r"/api/v10/channels/\d+/messages", url.path) and self.lose_answers:
            with self.lock:
                self.lose_answers -= 1
            h.close_connection = True  # the message exists; the caller never hears of it (a crash, a cut line)
            return None
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
        nonce = body.get("nonce")
        if nonce is not None:
            if not isinstance(nonce, str | int) or len(str(nonce)) > 25:
                raise CallError(f"nonce: must be an integer or a string of at most 25 characters ({nonce!r})")
            if body.get("enforce_nonce"):  # Discord: the same author's same nonce within minutes = that message
                with self.lock:
                    seen = self.nonces.get((str(channel_id), str(nonce)))
                if seen and time.monotonic() - seen[0] < 300:
                    return seen[1]
        elif "enforce_nonce" in body:
            raise CallError("enforce_nonce without a nonce")
        content = body.get("content") or ""
        components = check_components(body.get("components"))
        if not content and not body.get("embeds") and not components:
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
               "pinned": False, "type": 0, "flags": int(body.get("flags") or 0), "components": components or [],
               "allowed_mentions": am}
        with self.lock:
            self.messages[mid] = {**msg, "edits": [], "interaction": interaction}
            if nonce is not None:
                self.nonces[(str(channel_id), str(nonce))] = (time.monotonic(), msg)
        return msg

    def _edit(self, message_id: int, body: dict) -> tuple[int, dict]:
        with self.lock:
            msg = self.messages.get(message_id)
        if msg is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        content = body.get("content", msg["content"])
        if len(content or "") > 2000:
            raise CallError(f"content: Must be 2000 or fewer in length ({len(content)})")
        components = check_components(body["components"]) if "components" in body else msg["components"]
        with self.lock:
            msg["content"] = content
            msg["components"] = components or []
            msg["edited_timestamp"] = now_iso()
            msg["edits"].append(time.monotonic())
        return 200, {k: v for k, v in msg.items() if k not in ("edits", "interaction")}

    def _callback(self, iid: str, body: dict) -> tuple[int, dict]:
        """POST /interactions/ID/TOKEN/callback: once per interaction, a type the interaction takes."""
        rtype = body.get("type")
        data = body.get("data") or {}
        with self.lock:
            known = self.interactions.setdefault(iid, {"type": 2, "message_id": None, "responses": [],
                                                       "response_message_id": None})
            if known["responses"]:
                return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        if rtype not in CALLBACKS[known["type"]]:
            raise CallError(f"interaction response type {rtype} is not one a type {known['type']} interaction "
                            "takes")
        if rtype in (6, 7) and not known["message_id"]:
            raise CallError("only an interaction from a message's component can update that message")
        msg = None
        if rtype == 4:
            msg = self._message(TEXT_ID, data or {"content": "…"}, interaction=True)
        elif rtype == 7:
            _status, msg = self._edit(int(known["message_id"]), data)
        elif rtype == 8:
            check_choices(data.get("choices"))
        elif rtype == 9:
            check_modal(data)
            with self.lock:
                self.modals[iid] = data
        with self.lock:
            known["responses"].append({"type": rtype, "data": data})
            if rtype in (4, 5):
                known["response_message_id"] = msg and msg["id"]
        flags = int(data.get("flags") or 0)
        return 200, {"interaction": {"id": iid, "type": known["type"], "response_message_id": msg and msg["id"],
                                     "response_message_loading": rtype == 5,
                                     "response_message_ephemeral": bool(flags & EPHEMERAL)},
                     "resource": {"type": rtype, **({"message": msg} if msg else {})}}

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
                check_options(c.get("options") or [], c["name"])
            self.commands = body
            return 200, [{**c, "id": str(next(self._ids)), "application_id": str(APP_ID), "version": "1"}
                         for c in body]
        if verb == "POST" and (m := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", path)):
            return self._callback(m[1], body)
        if (m := re.fullmatch(r"/webhooks/(\d+)/tok-(\d+)/messages/@original", path)) and verb == "PATCH":
            if int(m[1]) != APP_ID:
                raise CallError("followups go to the application's webhook")
            with self.lock:
                known = self.interactions.get(m[2])
            target = known and (known["response_message_id"] or (known["message_id"] if any(
                r["type"] in (6, 7) for r in known["responses"]) else None))
            if target is None:
                return 404, {"message": "Unknown Message", "code": 10008}
            return self._edit(int(target), body)
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
            return self._edit(int(m[2]), body)
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


# -- commands, components and modals, as Discord's API validates them ---------------------------------------------


def check_options(options: list[dict], where: str) -> None:
    """A command's options: up to 25, lower-case names, 1-100 character descriptions, required ones first, at
    most 25 choices (not with autocomplete), subcommands holding options of their own."""
    if len(options) > 25:
        raise CallError(f"{where}: options: Must be 25 or fewer in length")
    names, optional = set(), False
    for o in options:
        name = o.get("name", "")
        if not re.fullmatch(r"[-_\w]{1,32}", name) or name != name.lower():
            raise CallError(f"{where}: option name {name!r} is not valid")
        if name in names:
            raise CallError(f"{where}: option names must be unique ({name})")
        names.add(name)
        _length(f"{where} {name}: description", o.get("description"), 1, 100)
        if o.get("type") not in OPTION_TYPES:
            raise CallError(f"{where} {name}: option type {o.get('type')!r}")
        if o["type"] in (1, 2):
            check_options(o.get("options") or [], f"{where} {name}")
            continue
        if o.get("required"):
            if optional:
                raise CallError(f"{where}: required options must be placed before non-required options")
        else:
            optional = True
        choices = o.get("choices") or []
        if choices and o.get("autocomplete"):
            raise CallError(f"{where} {name}: autocomplete can't be used with choices")
        check_choices(choices)


def check_choices(choices) -> None:
    """Option choices (or an autocomplete answer's): up to 25, names 1-100 characters, string values up to 100."""
    if not isinstance(choices, list) or len(choices) > 25:
        raise CallError("choices: Must be 25 or fewer in length")
    for ch in choices:
        _length("choice.name", ch.get("name"), 1, 100)
        if isinstance(ch.get("value"), str):
            _length("choice.value", ch["value"], 1, 100)


def _length(what: str, value, low: int, high: int) -> None:
    if not isinstance(value, str) or not low <= len(value) <= high:
        raise CallError(f"{what}: Must be between {low} and {high} in length ({value!r})")


def check_components(rows) -> list | None:
    """A message's components: at most 5 action rows, each 1-5 buttons or one select, custom ids unique."""
    if rows is None:
        return None
    if not isinstance(rows, list) or len(rows) > 5:
        raise CallError("components: Must be 5 or fewer in length")
    seen: set[str] = set()
    for row in rows:
        if row.get("type") != 1:
            raise CallError(f"components: a message's top level holds action rows (type 1), not {row.get('type')}")
        items = row.get("components") or []
        if not 1 <= len(items) <= 5:
            raise CallError("an action row holds 1 to 5 components")
        if any(c.get("type") in SELECTS for c in items) and len(items) > 1:
            raise CallError("a select menu takes a whole action row")
        for c in items:
            if c.get("type") == 2:
                if c.get("style") not in BUTTON_STYLES:
                    raise CallError(f"button style {c.get('style')!r}")
                if "label" in c:
                    _length("button.label", c["label"], 1, 80)
                elif "emoji" not in c:
                    raise CallError("a button needs a label or an emoji")
                if c["style"] == 5:
                    if "custom_id" in c or not c.get("url"):
                        raise CallError("a link button has a url and no custom_id")
                    continue
            elif c.get("type") == 3:
                options = c.get("options") or []
                if not 1 <= len(options) <= 25:
                    raise CallError("a string select has 1 to 25 options")
                for o in options:
                    _length("option.label", o.get("label"), 1, 100)
                    _length("option.value", o.get("value"), 1, 100)
                    if o.get("description") is not None:
                        _length("option.description", o["description"], 0, 100)
                if c.get("placeholder") is not None:
                    _length("select.placeholder", c["placeholder"], 0, 150)
                low, high = c.get("min_values", 1), c.get("max_values", 1)
                if not 0 <= low <= high <= min(25, len(options)):
                    raise CallError("min_values/max_values out of range")
                if len({o["value"] for o in options}) != len(options):
                    raise CallError("option values must be unique")
                if sum(bool(o.get("default")) for o in options) > high:
                    raise CallError("more default options than max_values")
            else:
                raise CallError(f"component type {c.get('type')!r} does not go in a message's action row")
            _length("custom_id", c.get("custom_id"), 1, 100)
            if c["custom_id"] in seen:
                raise CallError(f"custom_id {c['custom_id']!r} is used twice in one message")
            seen.add(c["custom_id"])
    return rows


def modal_fields(modal: dict) -> list[tuple[int, dict]]:
    """(the wrapper's type, the text input) per field of a modal: in an action row (1) or a label (18)."""
    out = []
    for row in modal.get("components") or []:
        if row.get("type") == 18:
            out.append((18, row.get("component") or {}))
        else:
            out += [(1, c) for c in row.get("components") or []]
    return out


def check_modal(data: dict) -> None:
    """A modal callback's data: title up to 45, 1-5 fields, each one text input in a label or an action row."""
    _length("title", data.get("title"), 1, 45)
    _length("custom_id", data.get("custom_id"), 1, 100)
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        raise CallError("a modal holds 1 to 5 components")
    ids = set()
    for row in rows:
        if row.get("type") == 18:
            _length("label.label", row.get("label"), 1, 45)
            if row.get("description") is not None:
                _length("label.description", row["description"], 0, 100)
            inputs = [row.get("component") or {}]
        elif row.get("type") == 1:
            inputs = row.get("components") or []
            if len(inputs) != 1:
                raise CallError("an action row in a modal holds exactly one text input")
            _length("text_input.label", inputs[0].get("label"), 1, 45)
        else:
            raise CallError(f"component type {row.get('type')!r} does not go at a modal's top level")
        for t in inputs:
            if t.get("type") != 4:
                raise CallError(f"a modal field must be a text input (type 4), not {t.get('type')!r}")
            _length("text_input.custom_id", t.get("custom_id"), 1, 100)
            if t.get("style") not in (1, 2):
                raise CallError("text_input.style is 1 (short) or 2 (paragraph)")
            low, high = t.get("min_length", 0), t.get("max_length", 4000)
            if not 0 <= low <= 4000 or not 1 <= high <= 4000 or low > high:
                raise CallError("text_input min_length 0-4000, max_length 1-4000")
            if t.get("value") is not None and len(t["value"]) > high:
                raise CallError("text_input.value is longer than its max_length")
            if t.get("placeholder") is not None:
                _length("text_input.placeholder", t["placeholder"], 0, 100)
            if t["custom_id"] in ids:
                raise CallError("text input custom ids must be unique in a modal")
            ids.add(t["custom_id"])


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
                          "parent_id": None},
                         {"id": str(TEAM_ID), "type": 0, "name": "team", "position": 2,
                          "permission_overwrites": [], "guild_id": str(GUILD_ID), "nsfw": False,
                          "rate_limit_per_user": 0, "topic": None, "last_message_id": None, "parent_id": None}],
            "threads": [], "voice_states": [{k: v for k, v in voice_state(u, VOICE_ID).items() if k != "member"}
                                            for u in in_voice],
            "presences": [], "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "joined_at": "2026-01-05T10:00:00+00:00"}


CHANNEL_NAMES = {TEXT_ID: "standup", TEAM_ID: "team"}
APP_PERMISSIONS = str(1 << 10 | 1 << 11 | 1 << 35 | 1 << 38 | 1 << 15 | 1 << 16)


def interaction(sub: str, options: list[dict] | None = None, *, uid: int = MAYA, resolved: dict | None = None,
                app_permissions: str = APP_PERMISSIONS, iid: int | None = None,
                permissions: str = MEMBER_PERMISSIONS, nick: str | None = None, channel_id: int = TEXT_ID) -> dict:
    """INTERACTION_CREATE for `/onno SUB` typed in #standup (or the text channel `channel_id`) by `uid` (server
    nickname `nick`), whose permissions there are `permissions`."""
    iid = iid or next(_interaction_ids)
    data = {"id": "1300000000000000900", "name": "onno", "type": 1, "guild_id": str(GUILD_ID),
            "options": [{"name": sub, "type": 1, "options": options or []}]}
    if resolved:
        data["resolved"] = resolved
    return {"id": str(iid), "application_id": str(APP_ID), "type": 2, "token": f"tok-{iid}", "version": 1,
            "guild_id": str(GUILD_ID), "guild": {"id": str(GUILD_ID), "locale": "en-US", "features": []},
            "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 0, "name": CHANNEL_NAMES[channel_id], "guild_id": str(GUILD_ID),
                        "permissions": app_permissions, "position": 0, "parent_id": None, "nsfw": False,
                        "rate_limit_per_user": 0, "topic": None, "last_message_id": None,
                        "permission_overwrites": []},
            "member": {**member(uid, nick=nick), "permissions": permissions},
            "app_permissions": app_permissions, "locale": "en-US", "guild_locale": "en-US", "data": data,
            "entitlements": [], "authorizing_integration_owners": {"0": str(GUILD_ID)}, "context": 0,
            "attachment_size_limit": 26214400}


_interaction_ids = itertools.count(1500000000000000000)
