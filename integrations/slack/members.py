"""Owners by name to Slack members: a mention only when exactly one member answers to that name."""

from __future__ import annotations

import threading
import time

from core.names import called


class MemberIndex:
    """Names a workspace's people go by (full, display, handle, first name) to their user ids."""

    def __init__(self, members: list[dict]):
        self.named: list[tuple[str, str]] = []  # (a name the member goes by, their id)
        self.names: dict[str, dict] = {}
        for m in members:
            if m.get("deleted") or m.get("is_bot") or m.get("id") == "USLACKBOT":
                continue
            profile = m.get("profile") or {}
            uid = m["id"]
            self.names[uid] = {"real_name": profile.get("real_name") or m.get("real_name") or "",
                               "display_name": profile.get("display_name") or "", "name": m.get("name") or ""}
            self.named += [(n, uid) for n in (profile.get("real_name"), m.get("real_name"),
                                             profile.get("display_name"), m.get("name")) if n]

    def user_id(self, name: str | None) -> str | None:
        """The one member called `name` (full name first, then first name), or None when unknown or ambiguous."""
        ids = set(called(name, self.named, first_word=True))
        return ids.pop() if len(ids) == 1 else None

    def mention(self, name: str | None) -> str | None:
        uid = self.user_id(name)
        return f"<@{uid}>" if uid else None

    def names_of(self, user_id: str) -> list[str]:
        """The names a member goes by, to find the action items that are theirs."""
        n = self.names.get(user_id) or {}
        return [v for v in (n.get("real_name"), n.get("display_name"), n.get("name")) if v]


class MemberCache:
    """users.list per team, kept a few minutes (it is a Tier 2 method)."""

    def __init__(self, ttl: float = 300.0):
        self.ttl = ttl
        self._data: dict[str, tuple[float, MemberIndex]] = {}
        self._lock = threading.Lock()

    def get(self, team_id: str) -> MemberIndex | None:
        with self._lock:
            hit = self._data.get(team_id)
        if hit and time.monotonic() - hit[0] < self.ttl:
            return hit[1]
        return None

    def put(self, team_id: str, index: MemberIndex) -> MemberIndex:
        with self._lock:
            self._data[team_id] = (time.monotonic(), index)
        return index

    def clear(self) -> None:
        """Forget every team (a reinstall, or a test's new Slack with the same team ids)."""
        with self._lock:
            self._data.clear()


MEMBERS = MemberCache()
