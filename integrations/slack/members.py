"""Owners by name to Slack members: a mention only when exactly one member answers to that name."""

from __future__ import annotations

import re
import threading
import time


def _norm(name: str | None) -> str:
    return re.sub(r"\s+", " ", (name or "").strip().lower())


class MemberIndex:
    """Names a workspace's people go by (full, display, handle, first name) to their user ids."""

    def __init__(self, members: list[dict]):
        self.full: dict[str, set[str]] = {}
        self.first: dict[str, set[str]] = {}
        self.names: dict[str, dict] = {}
        for m in members:
            if m.get("deleted") or m.get("is_bot") or m.get("id") == "USLACKBOT":
                continue
            profile = m.get("profile") or {}
            uid = m["id"]
            self.names[uid] = {"real_name": profile.get("real_name") or m.get("real_name") or "",
                               "display_name": profile.get("display_name") or "", "name": m.get("name") or ""}
            for n in (profile.get("real_name"), m.get("real_name"), profile.get("display_name"), m.get("name")):
                if _norm(n):
                    self.full.setdefault(_norm(n), set()).add(uid)
                    self.first.setdefault(_norm(n).split(" ")[0], set()).add(uid)

    def user_id(self, name: str | None) -> str | None:
        """The one member called `name` (full name first, then first name), or None when unknown or ambiguous."""
        key = _norm(name)
        if not key:
            return None
        for table, k in ((self.full, key), (self.first, key), (self.first, key.split(" ")[0])):
            ids = table.get(k)
            if ids:
                return next(iter(ids)) if len(ids) == 1 else None
        return None

    def mention(self, name: str | None) -> str | None:
        uid = self.user_id(name)
        return f"<@{uid}>" if uid else None

    def names_of(self, user_id: str) -> list[str]:
        """The names a member goes by, to find the action items that are theirs."""
        n = self.names.get(user_id) or {}
        return [v for v in (n.get("real_name"), n.get("display_name"), n.get("name")) if v]


def owns(owner: str | None, names: list[str]) -> bool:
    """Whether an action item's owner names this person (full name, or first name)."""
    o = _norm(owner)
    if not o:
        return False
    return any(n and (o == n or o == n.split(" ")[0] or o.split(" ")[0] == n) for n in map(_norm, names))


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
