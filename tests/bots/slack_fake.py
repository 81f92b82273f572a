"""A local HTTP server playing Slack's Web API: checks method, token and arguments of every call, serves files."""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOGIN_PAGE = b"<!DOCTYPE html><html><head><title>Slack</title></head><body>Sign in to Slack</body></html>"


class CallError(AssertionError):
    """A call Slack's real API would have refused as malformed: the test fails on it."""


class FakeSlack:
    """Teams with bot tokens and channels; files with contents; everything each call sent is recorded."""

    def __init__(self, *, client_id: str = "111.222", client_secret: str = "client-secret"):
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
        self.problems: list[str] = []  # malformed calls seen (also raised as HTTP 400 to the caller)
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
            ts = f"{int(time.time())}.{next(self._ts):06d}"
            msg = {"ts": ts, "channel": channel, "text": args.get("text"), "blocks": blocks,
                   "thread_ts": args.get("thread_ts")}
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
        if method == "views.publish":
            view = args.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            if not args.get("user_id") or not isinstance(view, dict) or view.get("type") != "home":
                raise CallError("user_id and a home view are required")
            if len(view.get("blocks", [])) > 100:
                raise CallError("a view holds at most 100 blocks")
            return {"ok": True, "view": {"id": "V1", **view}}
        raise CallError(f"the fake does not know {method}")

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
        return blocks


class _Answer(Exception):
    def __init__(self, data: dict):
        super().__init__(data.get("error"))
        self.data = data


def member(uid: str, real_name: str, *, email: str | None = None, display: str = "") -> dict:
    name = real_name.split()[0].lower()
    return {"id": uid, "name": name, "real_name": real_name, "deleted": False, "is_bot": False,
            "profile": {"real_name": real_name, "display_name": display, "email": email or f"{name}@example.com"}}
