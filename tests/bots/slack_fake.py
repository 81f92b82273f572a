"""A local HTTP server playing Slack's Web API: checks method, token and arguments of every call, serves files."""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"


class CallError(AssertionError):
    """A call Slack's real API would have refused as malformed: the test fails on it."""


class FakeSlack:
    """Teams with bot tokens and channels; files with contents; everything each call sent is recorded."""

    def __init__(self, *, client_id: str = "111.222", client_secret: str = "client-secret"):
        from integrations.slack.members import MEMBERS

        MEMBERS.clear()  # a new Slack with the same team ids: what an earlier test's Slack had is not this one's
        self.client_id, self.client_secret = client_id, client_secret
        self.tokens: dict[str, str] = {}  # bot token -> team id
        self.channels: dict[str, str] = {}  # channel id -> team id
        self.members: dict[str, list[dict]] = {}  # team id -> users.list members
        self.files: dict[str, dict] = {}  # file id -> {"team", "info", "content", "content_type"}
        self.oauth_codes: dict[str, dict] = {}  # code -> oauth.v2.access answer
        self.calls: list[dict] = []
        self.responses: list[dict] = []  # what came to response_url
        self.messages: dict[tuple[str, str], dict] = {}  # (channel, ts) -> message
        self.script: dict[str, list[tuple]] = {}  # method -> queued (status, headers, body, when)
        self.lost: dict[str, list[tuple]] = {}  # method -> queued (how, when): done, but the answer never arrives
        self.problems: list[str] = []  # malformed calls seen (also raised as HTTP 400 to the caller)
        self.views: dict[str, dict] = {}  # view id -> the modal views.open opened
        self.triggers: dict[str, float] = {}  # trigger id -> when it was issued (issue_trigger)
        self.used_triggers: set[str] = set()
        self.lock = threading.Lock()
        self._ts = itertools.count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                fake._handle(self, "GET")

            def do_POST(self):
                fake._handle(self, "POST")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.api_url = self.base + "/api/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    # -- set-up ---------------------------------------------------------------------------------------------------

    def add_team(self, team_id: str, token: str, channels: list[str], members: list[dict] | None = None) -> None:
        self.tokens[token] = team_id
        for c in channels:
            self.channels[c] = team_id
        self.members[team_id] = members or []

    def add_file(self, team_id: str, file_id: str, name: str, content: bytes, *, channel: str, share_ts: str,
                 mimetype: str = "audio/ogg", filetype: str = "ogg", size: int | None = None,
                 content_type: str | None = None) -> dict:
        info = {"id": file_id, "name": name, "title": name, "mimetype": mimetype, "filetype": filetype,
                "pretty_type": filetype.upper(), "size": len(content) if size is None else size,
                "created": int(time.time()), "user": "U_MAYA", "channels": [channel],
                "url_private": f"{self.base}/files-pri/{team_id}-{file_id}/{name}",
                "url_private_download": f"{self.base}/files-pri/{team_id}-{file_id}/download/{name}",
                "shares": {"public": {channel: [{"ts": share_ts, "channel_name": "general"}]}}}
        self.files[file_id] = {"team": team_id, "info": info, "content": content,
                               "content_type": content_type or mimetype}
        return info

    def fail_next(self, method: str, status: int, body: dict, headers: dict | None = None, *,
                  when=None) -> None:
        """Answer the next call of `method` (for which `when(args)` holds, if given) like this instead."""
        self.script.setdefault(method, []).append((status, headers or {}, body, when))

    def lose_next_answer(self, method: str = "chat.postMessage", *, how: str = "close", when=None) -> None:
        """Carry out the next call of `method` (for which `when(args)` holds, if given), then lose its answer: the
        connection closed without a response (`close`) or an HTTP 500 (`500`), as when a post reached Slack but the
        sender never learnt its ts."""
        if how not in ("close", "500"):
            raise ValueError("how is 'close' or '500'")
        with self.lock:
            self.lost.setdefault(method, []).append((how, when))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- queries for tests --------------------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[dict]:
        with self.lock:
            return [c for c in self.calls if c["method"] == method]

    # -- the server -------------------------------------------------------------------------------------------------

    def _handle(self, h: BaseHTTPRequestHandler, verb: str) -> None:
        url = urlsplit(h.path)
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        if url.path.startswith("/files-pri/"):
            return self._download(h, url.path)
        if url.path.startswith("/respond/"):
            with self.lock:
                self.responses.append({"path": url.path, "body": json.loads(body or b"{}")})
            return self._send(h, 200, {"ok": True})
        if not url.path.startswith("/api/"):
            return self._send(h, 404, {"ok": False, "error": "unknown_url"})
        method = url.path.removeprefix("/api/")
        args: dict = {k: v[-1] for k, v in parse_qs(url.query).items()}
        ctype = h.headers.get("Content-Type", "")
        if body and "json" in ctype:
            args.update(json.loads(body))
        elif body:
            args.update({k: v[-1] for k, v in parse_qs(body.decode()).items()})
        auth = h.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else args.pop("token", None)
        call = {"method": method, "verb": verb, "token": token, "args": args, "auth": auth, "at": time.monotonic()}
        with self.lock:
            self.calls.append(call)
            scripted = self.script.get(method) or []
            answer = next((a for a in scripted if a[3] is None or a[3](args)), None)
            if answer is not None:
                scripted.remove(answer)
        if answer is not None:
            status, headers, data, _ = answer
            return self._send(h, status, data, headers)
        try:
            data = self._api(method, token, args, auth)
        except CallError as exc:
            with self.lock:
                self.problems.append(f"{method}: {exc}")
            return self._send(h, 400, {"ok": False, "error": "invalid_arguments", "detail": str(exc)})
        with self.lock:
            queued = self.lost.get(method) or []
            lost = next((entry for entry in queued if entry[1] is None or entry[1](args)), None)
            if lost is not None:
                queued.remove(lost)
        if lost is not None:
            call["lost"] = lost[0]
            if lost[0] == "500":
                return self._send(h, 500, {"ok": False, "error": "internal_error"})
            h.close_connection = True  # no status line, no body: the client sees the connection drop
            return None
        return self._send(h, 200, data)

    def _send(self, h, status: int, data: dict, headers: dict | None = None) -> None:
        raw = json.dumps(data).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(raw)

    def _download(self, h, path: str) -> None:
        key = path.split("/")[2]
        team, _, file_id = key.partition("-")
        f = self.files.get(file_id)
        auth = h.headers.get("Authorization", "")
        ok = f is not None and auth.startswith("Bearer ") and self.tokens.get(auth[7:]) == f["team"] == team
        with self.lock:
            self.calls.append({"method": "download", "verb": "GET", "token": auth[7:], "args": {"file": file_id},
                               "auth": auth, "at": time.monotonic()})
        # Slack answers a request without a valid token with its sign-in page, status 200, as HTML.
        content, ctype = (f["content"], f["content_type"]) if ok else (LOGIN_PAGE, "text/html; charset=utf-8")
        h.send_response(200)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(content)))
        h.end_headers()
        h.wfile.write(content)

    def _team(self, token: str | None) -> str:
        team = self.tokens.get(token or "")
        if team is None:
            raise _Answer({"ok": False, "error": "invalid_auth"})
        return team

    def _channel(self, team: str, args: dict, key: str = "channel") -> str:
        channel = args.get(key)
        if not channel:
            raise CallError(f"{key} is required")
        if self.channels.get(channel) != team:
            raise _Answer({"ok": False, "error": "channel_not_found"})
        return channel

    def _api(self, method: str, token: str | None, args: dict, auth: str) -> dict:
        try:
            return self._dispatch(method, token, args, auth)
        except _Answer as a:
            return a.data

    def _dispatch(self, method: str, token: str | None, args: dict, auth: str) -> dict:
        if method == "oauth.v2.access":
            basic = base64.b64decode(auth.removeprefix("Basic ")).decode() if auth.startswith("Basic ") else ""
            cid, _, secret = basic.partition(":")
            cid, secret = cid or args.get("client_id"), secret or args.get("client_secret")
            if (cid, secret) != (self.client_id, self.client_secret):
                return {"ok": False, "error": "invalid_client_id"}
            answer = self.oauth_codes.pop(args.get("code", ""), None)
            return answer or {"ok": False, "error": "invalid_code"}
        team = self._team(token)
        if method == "auth.test":
            return {"ok": True, "url": f"https://{team.lower()}.slack.com/", "team": f"Team {team}",
                    "user": "onno", "team_id": team, "user_id": f"UBOT{team}", "bot_id": f"BBOT{team}",
                    "is_enterprise_install": False}
        if method == "chat.postMessage":
            channel = self._channel(team, args)
            blocks = self._blocks(args)
            if not (args.get("text") or blocks):
                raise CallError("text or blocks is required")
            metadata = self._metadata(args)
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            msg = {"ts": ts, "channel": channel, "text": args.get("text"), "blocks": blocks,
                   "thread_ts": args.get("thread_ts"), "team": team}
            if metadata is not None:
                msg["metadata"] = metadata
            with self.lock:
                self.messages[(channel, ts)] = msg
            return {"ok": True, "channel": channel, "ts": ts, "message": msg}
        if method == "chat.update":
            channel = self._channel(team, args)
            ts = args.get("ts")
            with self.lock:
                msg = self.messages.get((channel, ts))
                if msg is None:
                    return {"ok": False, "error": "message_not_found"}
                msg.update(text=args.get("text"), blocks=self._blocks(args) or msg.get("blocks"))
            return {"ok": True, "channel": channel, "ts": ts}
        if method in ("conversations.history", "conversations.replies"):
            return self._history(method, team, args)
        if method == "files.info":
            f = self.files.get(args.get("file") or "")
            if not args.get("file"):
                raise CallError("file is required")
            if f is None or f["team"] != team:
                return {"ok": False, "error": "file_not_found"}
            return {"ok": True, "file": f["info"]}
        if method == "files.list":
            channel = self._channel(team, args)
            files = [f["info"] for f in self.files.values() if f["team"] == team and channel in f["info"]["channels"]]
            files.sort(key=lambda f: -f["created"])
            return {"ok": True, "files": files, "paging": {"count": len(files), "total": len(files), "page": 1,
                                                           "pages": 1}}
        if method == "users.list":
            return {"ok": True, "members": self.members.get(team, []), "response_metadata": {"next_cursor": ""}}
        if method == "users.info":
            user = next((m for m in self.members.get(team, []) if m["id"] == args.get("user")), None)
            return {"ok": True, "user": user} if user else {"ok": False, "error": "user_not_found"}
        if method == "views.open":
            trigger = args.get("trigger_id")
            if not trigger:
                raise CallError("trigger_id is required")
            view = self._modal(args.get("view"))
            with self.lock:
                issued = self.triggers.get(trigger)
                if trigger in self.used_triggers:
                    return {"ok": False, "error": "trigger_exchanged"}
                if issued is not None and time.monotonic() - issued > 3.0:
                    return {"ok": False, "error": "expired_trigger_id"}
                self.used_triggers.add(trigger)
                view_id = f"V{next(self._ts):08d}"
                opened = {"id": view_id, "team_id": team, "type": "modal", "hash": f"h{view_id}",
                          "state": {"values": {}}, "previous_view_id": None, "root_view_id": view_id,
                          "app_id": "A0ONNO", "bot_id": f"BBOT{team}", **view}
                self.views[view_id] = opened
            return {"ok": True, "view": opened}
        if method == "views.publish":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if not args.get("user_id") or not isinstance(view, dict) or view.get("type") != "home":
                raise CallError("user_id and a home view are required")
            if len(view.get("blocks", [])) > 100:
                raise CallError("a view holds at most 100 blocks")
            return {"ok": True, "view": {"id": "V1", **view}}
        raise CallError(f"the fake does not know {method}")

    def _modal(self, view) -> dict:
        """A modal view as views.open takes it: Slack's limits on its title, buttons, metadata and blocks."""
        view = json.loads(view) if isinstance(view, str) else view
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise CallError("view must be an object of type modal")
        for key, limit, required in (("title", 24, True), ("submit", 24, False), ("close", 24, False)):
            text = view.get(key)
            if text is None and not required:
                continue
            if not isinstance(text, dict) or text.get("type") != "plain_text" or not 0 < len(text.get("text", "")) \
                    <= limit:
                raise CallError(f"view.{key} must be plain_text of 1 to {limit} characters")
        if not view.get("callback_id") or len(view["callback_id"]) > 255:
            raise CallError("view.callback_id is required (at most 255 characters) to tell submissions apart")
        if len(view.get("private_metadata") or "") > 3000:
            raise CallError("view.private_metadata is at most 3000 characters")
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or not 0 < len(blocks) <= 100:
            raise CallError("view.blocks must be a list of 1 to 100 blocks")
        self._blocks({"blocks": blocks})
        inputs = [b for b in blocks if b.get("type") == "input"]
        if inputs and "submit" not in view:
            raise CallError("a modal with input blocks needs a submit button")
        ids = [b.get("block_id") for b in blocks if b.get("block_id")]
        if len(ids) != len(set(ids)):
            raise CallError("block_id must be unique within a view")
        for b in inputs:
            label, element = b.get("label") or {}, b.get("element") or {}
            if label.get("type") != "plain_text" or not 0 < len(label.get("text", "")) <= 2000:
                raise CallError("an input block needs a plain_text label of at most 2000 characters")
            if not element.get("action_id") or len(element["action_id"]) > 255:
                raise CallError("an input's element needs an action_id")
            kind = element.get("type")
            if kind == "plain_text_input":
                most = element.get("max_length", 3000)
                if not 0 < most <= 3000 or len(element.get("initial_value") or "") > most:
                    raise CallError("plain_text_input: max_length 1..3000, initial_value within it")
            elif kind == "datepicker":
                initial = element.get("initial_date")
                if initial is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", initial):
                    raise CallError(f"datepicker.initial_date must be YYYY-MM-DD, not {initial!r}")
            elif kind not in ("static_select", "users_select", "checkboxes", "radio_buttons", "number_input",
                              "email_text_input", "url_text_input", "timepicker", "datetimepicker"):
                raise CallError(f"an input block cannot hold {kind!r}")
        return view

    def issue_trigger(self) -> str:
        """A trigger_id as Slack gives one with an interaction: usable once, for 3 seconds."""
        trigger = f"{next(self._ts)}.{int(time.time())}.trig"
        with self.lock:
            self.triggers[trigger] = time.monotonic()
        return trigger

    def submission(self, view_id: str, values: dict[str, str | None], *, user: str, team: str) -> dict:
        """The view_submission payload Slack sends when `user` presses Save on an open modal, with `values`
        (block id -> the text typed, or the date picked) in the state of that view's own inputs."""
        with self.lock:
            view = self.views.get(view_id)
        if view is None:
            raise CallError(f"no view {view_id} was opened")
        state: dict = {}
        for b in view["blocks"]:
            if b.get("type") != "input":
                continue
            element = b["element"]
            given = values.get(b["block_id"], element.get("initial_value") or element.get("initial_date"))
            if element["type"] == "datepicker":
                entry = {"type": "datepicker", "selected_date": given or None}
            else:
                entry = {"type": element["type"], "value": given or None}
            state[b["block_id"]] = {element["action_id"]: entry}
        unknown = set(values) - set(state)
        if unknown:
            raise CallError(f"the view has no inputs {sorted(unknown)}")
        return {"type": "view_submission", "team": {"id": team, "domain": "acme"},
                "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
                "api_app_id": "A0ONNO", "token": "legacy", "trigger_id": self.issue_trigger(),
                "view": {**view, "state": {"values": state}}, "response_urls": [], "is_enterprise_install": False}

    HISTORY_ARGS = {"channel", "cursor", "inclusive", "include_all_metadata", "latest", "limit", "oldest"}

    def _history(self, method: str, team: str, args: dict) -> dict:
        """conversations.history (the channel's top-level messages, newest first) and conversations.replies (a
        thread: its parent, then the replies oldest first); metadata only with include_all_metadata, as Slack does."""
        replies = method == "conversations.replies"
        unknown = set(args) - self.HISTORY_ARGS - ({"ts"} if replies else set())
        if unknown:
            raise CallError(f"unknown arguments {sorted(unknown)}")
        channel = self._channel(team, args)
        try:
            limit = int(args.get("limit", 100))
            oldest, latest = Decimal(str(args.get("oldest", "0"))), Decimal(str(args.get("latest", "9e10")))
        except (ValueError, ArithmeticError) as exc:
            raise CallError(f"limit, oldest and latest are numbers: {exc}") from exc
        if not 1 <= limit <= 1000:
            raise CallError("limit is 1 to 1000")
        inclusive, with_metadata = (str(args.get(k, "")).lower() in ("1", "true") for k in ("inclusive",
                                                                                             "include_all_metadata"))

        def within(m: dict) -> bool:
            ts = Decimal(m["ts"])
            return (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)

        with self.lock:
            here = [m for (c, _), m in self.messages.items() if c == channel]
        if replies:
            thread = args.get("ts")
            if not thread:
                raise CallError("ts is required")
            parent = [m for m in here if m["ts"] == thread]
            found = sorted((m for m in here if m.get("thread_ts") == thread and m["ts"] != thread and within(m)),
                           key=lambda m: Decimal(m["ts"]))
            if not parent and not any(m.get("thread_ts") == thread for m in here):
                return {"ok": False, "error": "thread_not_found"}
            found = parent + found
        else:
            found = sorted((m for m in here if not m.get("thread_ts") and within(m)), key=lambda m: -Decimal(m["ts"]))
        start = 0
        if args.get("cursor"):
            try:
                start = int(base64.b64decode(args["cursor"]).decode().removeprefix("next:"))
            except ValueError as exc:
                raise CallError(f"cursor {args['cursor']!r} is not one this method gave") from exc
        page = found[start:start + limit]
        more = start + limit < len(found)
        out = []
        for m in page:
            shown = {"type": "message", "ts": m["ts"], "text": m.get("text") or "", "user": f"UBOT{m['team']}",
                     "bot_id": f"BBOT{m['team']}", "app_id": "A0ONNO"}
            if m.get("blocks"):
                shown["blocks"] = m["blocks"]
            if m.get("thread_ts"):
                shown["thread_ts"] = m["thread_ts"]
            if with_metadata and m.get("metadata"):
                shown["metadata"] = m["metadata"]
            out.append(shown)
        cursor = base64.b64encode(f"next:{start + limit}".encode()).decode() if more else ""
        return {"ok": True, "messages": out, "has_more": more, "response_metadata": {"next_cursor": cursor}}

    @staticmethod
    def _metadata(args: dict) -> dict | None:
        """chat.postMessage's `metadata`: an event_type and an event_payload object (JSON text in a form post)."""
        metadata = args.get("metadata")
        if metadata is None:
            return None
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError as exc:
                raise CallError(f"metadata is not JSON: {exc}") from exc
        if not isinstance(metadata, dict) or not isinstance(metadata.get("event_type"), str) \
                or not re.fullmatch(r"[A-Za-z0-9_]{1,255}", metadata["event_type"]) \
                or not isinstance(metadata.get("event_payload"), dict):
            raise CallError("metadata needs an event_type (letters, digits, _) and an event_payload object")
        return metadata

    @staticmethod
    def _blocks(args: dict) -> list | None:
        blocks = args.get("blocks")
        if blocks is None:
            return None
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        if not isinstance(blocks, list) or len(blocks) > 50:
            raise CallError("blocks must be a list of at most 50")
        for b in blocks:
            if "type" not in b:
                raise CallError(f"a block without a type: {b}")
            if b["type"] == "section" and len(b["text"]["text"]) > 3000:
                raise CallError("a section's text is at most 3000 characters")
            if b["type"] == "actions" and not (0 < len(b["elements"]) <= 25):
                raise CallError("an actions block holds 1 to 25 elements")
            if b["type"] == "actions":
                action_ids = [e.get("action_id") for e in b["elements"]]
                if len(action_ids) != len(set(action_ids)):
                    raise CallError(f"action_id must be unique within a block: {action_ids}")
                for e in b["elements"]:
                    if e.get("type") == "button" and (not 0 < len(e["text"]["text"]) <= 75
                                                      or len(e.get("value") or "") > 2000):
                        raise CallError("a button's text is 1 to 75 characters, its value at most 2000")
        return blocks


class _Answer(Exception):
    def __init__(self, data: dict):
        super().__init__(data.get("error"))
        self.data = data


def member(uid: str, real_name: str, *, email: str | None = None, display: str = "", admin: bool = False) -> dict:
    name = real_name.split()[0].lower()
    return {"id": uid, "name": name, "real_name": real_name, "deleted": False, "is_bot": False,
            "is_admin": admin, "is_owner": False, "is_primary_owner": False,
            "profile": {"real_name": real_name, "display_name": display, "email": email or f"{name}@example.com"}}
