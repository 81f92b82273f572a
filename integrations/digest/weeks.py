"""ISO weeks (UTC) as digests name them, "2026-W47", and which week's digest is due at a given moment."""

from __future__ import annotations

import datetime as dt
import re

from core.errors import InputError

WEEK = re.compile(r"^\s*(?P<year>\d{4})-?[Ww](?P<week>\d{1,2})\s*$")


def label(day: dt.date) -> str:
    """The ISO week a day falls in: '2026-W47'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse(text: str) -> str:
    """'2026-W47' (or '2026w47'), checked and written the one way; InputError with an example otherwise."""
    m = WEEK.match(text or "")
    try:
        if not m:
            raise ValueError
        monday = dt.date.fromisocalendar(int(m["year"]), int(m["week"]), 1)
    except ValueError:
        raise InputError(f"{text!r} is not an ISO week.", "Give it like 2026-W47 (weeks run Monday to Sunday, "
                         "UTC).") from None
    return label(monday)


def bounds(week: str) -> tuple[dt.date, dt.date]:
    """(its Monday, the Monday after): the days of the week are start <= day < end."""
    year, _, number = week.partition("-W")
    monday = dt.date.fromisocalendar(int(year), int(number), 1)
    return monday, monday + dt.timedelta(days=7)


def previous(day: dt.date) -> str:
    """The ISO week before the one `day` is in: the week a digest sent on `day` covers by default."""
    return label(day - dt.timedelta(days=7))


def due(now: dt.datetime, *, weekday: int, hour: int) -> str:
    """The week whose digest is due at `now`: the last one whose send moment (the ISO `weekday`, `hour` UTC of the
    week after it) has come."""
    shifted = now.astimezone(dt.UTC) - dt.timedelta(days=weekday - 1, hours=hour)
    return previous(shifted.date())


def send_moment(week: str, *, weekday: int, hour: int) -> dt.datetime:
    """When the digest of `week` becomes due."""
    _, end = bounds(week)
    day = end + dt.timedelta(days=weekday - 1)
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
