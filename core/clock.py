"""Time as people read it and as the databases hand it back."""

from __future__ import annotations

import datetime as dt


def clock(seconds: float | None) -> str:
    """Seconds as m:ss or h:mm:ss, the way players show a position."""
    if seconds is None:
        return "--:--"
    s = int(seconds)
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """A stored moment with its zone: SQLite hands datetimes back naive, and every time Onno stores is UTC."""
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value
