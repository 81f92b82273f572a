"""Resolve spoken deadlines ("by Friday", "this afternoon", "next Wednesday", "end of the month") to dates."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from pipeline.findings.text import word_list

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
MONTH_RE = "|".join(MONTHS) + "|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec"
ORDINAL_WORDS = {w: i + 1 for i, w in enumerate(word_list(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth fourteenth "
    "fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"))}
ORDINAL_WORDS |= {f"twenty {w}": 20 + i for w, i in list(ORDINAL_WORDS.items())[:9]}
ORDINAL_WORDS |= {"thirtieth": 30, "thirty first": 31}
ORDINAL_RE = "|".join(sorted((w.replace(" ", r"[\s-]") for w in ORDINAL_WORDS), key=len, reverse=True))
COUNT_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
               "eight": 8, "nine": 9, "ten": 10, "couple": 2, "a couple": 2, "a couple of": 2, "few": 3,
               "a few": 3}


@dataclass
class DateMention:
    """A deadline found in a text: the date and where it was said."""

    date: dt.date
    start: int
    end: int


def _month_number(name: str) -> int:
    name = name.lower()[:3]
    return [m[:3] for m in MONTHS].index(name) + 1


def _ordinal(text: str) -> int:
    text = re.sub(r"[\s-]+", " ", text.lower())
    digits = re.match(r"\d+", text)
    return int(digits.group(0)) if digits else ORDINAL_WORDS[text]


def _weekday(today: dt.date, name: str, modifier: str) -> dt.date:
    """The weekday meant: the next one after today; 'next' skips to next week when the plain one is this week."""
    target = WEEKDAYS.index(name)
    ahead = (target - today.weekday()) % 7 or 7
    day = today + dt.timedelta(days=ahead)
    if modifier == "next":
        days_to_sunday = 6 - today.weekday()
        if ahead <= days_to_sunday:
            day += dt.timedelta(days=7)
    elif modifier == "this" and target == today.weekday():
        day = today
    return day


def _day_of_month(today: dt.date, day: int, month: int | None = None) -> dt.date | None:
    """The date of 'the 24th' (this month, or next if passed) or of 'December 1st'."""
    year = today.year
    if month is None:
        month = today.month
        if day < today.day:
            month += 1
            if month > 12:
                month, year = 1, year + 1
    elif (month, day) < (today.month, today.day):
        year += 1
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _friday(today: dt.date, weeks: int = 0) -> dt.date:
    return today + dt.timedelta(days=(4 - today.weekday()) + 7 * weeks)


def _count(word: str) -> int | None:
    word = re.sub(r"\s+", " ", word.lower().strip())
    if word.isdigit():
        return int(word)
    return COUNT_WORDS.get(word)


def _in_period(today: dt.date, m: re.Match) -> dt.date | None:
    n = _count(m["n"])
    if n is None:
        return None
    unit = m["unit"].lower()
    if unit.startswith("day"):
        return today + dt.timedelta(days=n)
    if unit.startswith("week"):
        return today + dt.timedelta(weeks=n)
    month = today.month - 1 + n
    year = today.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def _named_month_end(today: dt.date, m: re.Match) -> dt.date:
    month = _month_number(m["month"])
    year = today.year + (1 if month < today.month else 0)
    return _month_end(year, month)


def _next_month_end(today: dt.date) -> dt.date:
    month, year = (1, today.year + 1) if today.month == 12 else (today.month + 1, today.year)
    return _month_end(year, month)


def _quarter_end(today: dt.date) -> dt.date:
    month = (today.month - 1) // 3 * 3 + 3
    return _month_end(today.year, month)


Resolver = Callable[[dt.date, re.Match], "dt.date | None"]
COUNT_RE = r"\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|a\s+couple(?:\s+of)?|a\s+few"
WEEKDAY_RE = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
PATTERNS: list[tuple[re.Pattern, Resolver]] = [
    # "two weeks from now", "a week from today": before "today" alone is read as the day itself.
    (re.compile(rf"\b(?P<n>{COUNT_RE})\s+(?P<unit>days?|weeks?|months?)\s+from\s+(?:now|today)\b", re.I),
     _in_period),
    (re.compile(r"\b(?:in|within)\s+a\s+fortnight\b|\ba\s+fortnight\s+from\s+(?:now|today)\b", re.I),
     lambda t, m: t + dt.timedelta(days=14)),
    # "Tuesday the 16th": the date said wins over the weekday.
    (re.compile(rf"\b(?:{WEEKDAY_RE}),?\s+(?:the\s+)?(?P<day>\d{{1,2}}(?:st|nd|rd|th)|{ORDINAL_RE})\b(?!\s+of\b)",
                re.I), lambda t, m: _day_of_month(t, _ordinal(m["day"]))),
    # "Wednesday next week", "Friday of next week".
    (re.compile(rf"\b(?P<day>{WEEKDAY_RE})\s+(?:of\s+)?next\s+week\b", re.I),
     lambda t, m: _weekday(t, m["day"].lower(), "next")),
    (re.compile(rf"\b(?:mid|the\s+middle\s+of)[\s-]+(?P<month>{MONTH_RE})\b", re.I),
     lambda t, m: _day_of_month(t, 15, _month_number(m["month"]))),
    (re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b", re.I), lambda t, m: t + dt.timedelta(days=2)),
    (re.compile(r"\btomorrow\b", re.I), lambda t, m: t + dt.timedelta(days=1)),
    (re.compile(r"\b(?:today|tonight|this\s+(?:morning|afternoon|evening)|(?:the\s+)?end\s+of\s+(?:the\s+)?day|"
                r"eod|cob|(?:after|before|by)\s+lunch(?:time)?|later\s+today|right\s+after\s+th(?:is|e)\s+"
                r"(?:meeting|call)|after\s+th(?:is|e)\s+(?:meeting|call))\b", re.I), lambda t, m: t),
    (re.compile(r"\bend\s+of\s+next\s+week\b", re.I), lambda t, m: _friday(t, 1)),
    (re.compile(r"\b(?:(?:the\s+)?end\s+of\s+(?:(?:the|this)\s+)?week|later\s+this\s+week|this\s+week|eow)\b",
                re.I), lambda t, m: max(_friday(t), t)),
    (re.compile(r"\bend\s+of\s+next\s+month\b", re.I), lambda t, m: _next_month_end(t)),
    (re.compile(r"\b(?:(?:the\s+)?end\s+of\s+(?:(?:the|this)\s+)?month|month[\s-]end|eom)\b", re.I),
     lambda t, m: _month_end(t.year, t.month)),
    (re.compile(r"\b(?:the\s+)?end\s+of\s+(?:the|this)\s+quarter\b", re.I), lambda t, m: _quarter_end(t)),
    (re.compile(r"\b(?:the\s+)?end\s+of\s+(?:the|this)\s+year\b", re.I), lambda t, m: dt.date(t.year, 12, 31)),
    (re.compile(rf"\b(?:the\s+)?end\s+of\s+(?P<month>{MONTH_RE})\b", re.I), _named_month_end),
    (re.compile(rf"\b(?:in|within)\s+(?P<n>{COUNT_RE})\s+(?P<unit>days?|weeks?|months?)\b", re.I), _in_period),
    (re.compile(rf"\b(?P<month>{MONTH_RE})\.?\s+(?:the\s+)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b", re.I),
     lambda t, m: _day_of_month(t, int(m["day"]), _month_number(m["month"]))),
    (re.compile(rf"\b(?:the\s+)?(?P<day>\d{{1,2}}(?:st|nd|rd|th)?|{ORDINAL_RE})\s+of\s+(?P<month>{MONTH_RE})\b",
                re.I), lambda t, m: _day_of_month(t, _ordinal(m["day"]), _month_number(m["month"]))),
    (re.compile(r"\bthe\s+(?P<day>\d{1,2})(?:st|nd|rd|th)\b|\b(?:by|on|before|until)\s+the\s+(?P<bare>\d{1,2})\b(?!\s*%)",
                re.I),
     lambda t, m: _day_of_month(t, int(m["day"] or m["bare"]))),
    (re.compile(rf"\b(?:by|on|before|until|till)\s+the\s+(?P<day>{ORDINAL_RE})\b(?!\s+(?:one|version|time|step))",
                re.I), lambda t, m: _day_of_month(t, _ordinal(m["day"]))),
    (re.compile(r"(?<!\blast\s)(?<!\bsince\s)(?<!\bevery\s)\b(?:(?P<mod>next|this|coming)\s+)?"
                r"(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b(?!s\b|'s\s+(?!(?:fine|ok|okay|good|great|perfect|better|best|works|latest)\b)\w|"
                r"\s+(?:mornings|afternoons|evenings|nights)\b)",
                re.I), lambda t, m: _weekday(t, m["day"].lower(), (m["mod"] or "").lower().replace("coming", "this"))),
]


def find_dates(text: str, today: dt.date) -> list[DateMention]:
    """Every deadline-like date in a text, left to right, without overlaps."""
    found: list[DateMention] = []
    for pattern, resolve in PATTERNS:
        for m in pattern.finditer(text):
            if any(f.start < m.end() and m.start() < f.end for f in found):
                continue
            day = resolve(today, m)
            if day is not None:
                found.append(DateMention(day, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


def first_date(text: str, today: dt.date) -> DateMention | None:
    """The first deadline said in a text."""
    found = find_dates(text, today)
    return found[0] if found else None
