"""Discord's REST API for the delivery side (a worker without the bot's gateway): errors translated, 429s honoured."""

from __future__ import annotations

import hashlib
import time

import httpx

from core.http import retry_after
from integrations.errors import PermanentError, TransientError

USER_AGENT = "DiscordBot (https://github.com/onno, 0.1)"
MAX_INLINE_WAIT = 5.0  # a rate limit shorter than this is waited out here; longer goes back to the outbox


class DiscordAPI:
    """A few REST calls with the bot token; `base` is DISCORD_API_URL (https://discord.com/api/v10)."""

    def __init__(self, token: str, *, base: str, timeout: float = 20.0, client: httpx.Client | None = None):
        if not token:
            raise PermanentError("DISCORD_TOKEN is not set where the delivery runs")
        self.base = base.rstrip("/")
        self.http = client or httpx.Client(timeout=timeout, headers={"Authorization": f"Bot {token}",
                                                                     "User-Agent": USER_AGENT})

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, *, json: dict | None = None, attempts: int = 3) -> dict | None:
        for attempt in range(attempts):
            try:
                r = self.http.request(method, self.base + path, json=json)
            except httpx.TimeoutException as exc:
                raise TransientError(f"Discord {method} {path}: timed out") from exc
            except httpx.TransportError as exc:
                raise TransientError(f"Discord {method} {path}: could not connect: {exc}") from exc
            if r.status_code == 429:
                wait = rate_limit_wait(r)
                if wait <= MAX_INLINE_WAIT and attempt + 1 < attempts:
                    time.sleep(wait)
                    continue
                raise TransientError(f"Discord {method} {path}: rate limited", status=429, retry_after=wait)
            if r.status_code >= 500:
                raise TransientError(f"Discord {method} {path}: HTTP {r.status_code}", status=r.status_code)
            if r.status_code >= 400:
                raise PermanentError(f"Discord {method} {path}: HTTP {r.status_code}: {error_text(r)}",
                                     status=r.status_code)
            return r.json() if r.content else None
        raise TransientError(f"Discord {method} {path}: rate limited", status=429)

    def post_message(self, channel_id: str, content: str, components: list[dict] | None = None, *,
                     once: str | None = None) -> dict:
        """Post a message; `once` (e.g. a delivery key) makes a repeat within minutes return the first message
        instead of a second one (Discord's enforce_nonce), so a post whose answer was lost is not made twice."""
        body = {"content": content, "allowed_mentions": {"parse": []}}
        if components:
            body["components"] = components
        if once is not None:
            body["nonce"], body["enforce_nonce"] = hashlib.sha256(once.encode()).hexdigest()[:25], True
        return self.call("POST", f"/channels/{channel_id}/messages", json=body)

    def edit_message(self, channel_id: str, message_id: str, content: str,
                     components: list[dict] | None = None) -> dict:
        """Edit a message's text; `components` replaces its buttons too ([] removes them, None leaves them)."""
        body = {"content": content, "allowed_mentions": {"parse": []}}
        if components is not None:
            body["components"] = components
        return self.call("PATCH", f"/channels/{channel_id}/messages/{message_id}", json=body)


def rate_limit_wait(r: httpx.Response) -> float:
    """Discord's wait: the body's retry_after (finer than the header), else Retry-After, else a second."""
    try:
        return max(0.0, float(r.json().get("retry_after")))
    except (ValueError, TypeError, AttributeError):
        return retry_after(r.headers, default=1.0)


def error_text(r: httpx.Response) -> str:
    try:
        body = r.json()
        return f"{body.get('message', '')} (code {body.get('code')})"
    except ValueError:
        return " ".join(r.text.split())[:200]
