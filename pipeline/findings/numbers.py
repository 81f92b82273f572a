"""Spoken and written numbers ("one point two million", "$85,000", "fifty k", "half a million") with their units."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.findings.text import word_list

TOKEN = re.compile(r"[$£€]|\d+(?:,\d{3})*(?:\.\d+)?|[a-z]+|%", re.I)  # "85,000," keeps its comma out
UNITS = {w: i for i, w in enumerate(word_list(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen"))}
UNITS["oh"] = 0  # only used after "point": "one point oh five"
UNITS["nought"] = UNITS["naught"] = 0
TENS = {w: 10 * (i + 2) for i, w in enumerate(word_list("twenty thirty forty fifty sixty seventy eighty ninety"))}
BIG_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
# Short scales people say or write after a number: "fifty k", "2.4m", "50 grand".
SHORT_SCALES = {"k": 1e3, "grand": 1e3, "m": 1e6, "mm": 1e6, "mil": 1e6, "bn": 1e9, "b": 1e9}
MONEY_WORDS = {"dollars", "dollar", "bucks", "usd"}
PERCENT_WORDS = {"percent", "%", "pc"}


@dataclass
class Number:
    """A number found in a text: its value, character span and the unit said with it."""

    value: float
    start: int
    end: int
    unit: str | None  # "USD", "percent", "months", "years" or None


def _is_number_word(w: str) -> bool:
    return w in UNITS and w != "oh" or w in TENS


def _words_value(toks: list[str], i: int) -> tuple[float, int] | None:
    """Value of the number words starting at toks[i] and the index after them."""
    total, current, seen, j = 0.0, 0.0, False, i
    last = None  # "unit", "ten", "hundred", "scale"
    scale = 1.0  # the last scale word said: "a million and a half" adds half of it
    if toks[i] == "half" and i + 2 < len(toks) and toks[i + 1] == "a" and toks[i + 2] in ("percent", "point"):
        return 0.5, i + 2  # "half a percent"
    while j < len(toks):
        w = toks[j]
        if w == "a" and j + 1 < len(toks) and toks[j + 1] == "quarter" and not seen:  # "a quarter of a million"
            k = j + 2
            if k + 1 < len(toks) and toks[k] == "of" and toks[k + 1] in ("a", "an"):
                k += 2
            if k < len(toks) and toks[k] in BIG_SCALES:
                total += 0.25 * BIG_SCALES[toks[k]]
                scale, last, seen, j = BIG_SCALES[toks[k]], "scale", True, k + 1
                continue
            break
        if w in UNITS and w != "oh":
            if last in ("unit",) or (last == "ten" and UNITS[w] >= 10):
                break
            current += UNITS[w]
            last, seen = "unit", True
        elif w in TENS:
            if last in ("unit", "ten"):
                break
            current += TENS[w]
            last, seen = "ten", True
        elif w == "hundred" and (seen or last == "a"):
            current = max(current, 1) * 100
            last, seen = "hundred", True
        elif w in BIG_SCALES and (seen or last in ("a", "half")):
            base = 0.5 if last == "half" else max(current, 1)
            total += base * BIG_SCALES[w]
            current, last, seen, scale = 0.0, "scale", True, BIG_SCALES[w]
        elif w in ("a", "an") and j + 1 < len(toks) and (toks[j + 1] in BIG_SCALES or toks[j + 1] == "hundred"):
            if seen and last != "half":
                break
            last = "half" if last == "half" else "a"
        elif w == "half" and not seen and j + 2 < len(toks) and toks[j + 1] == "a" and toks[j + 2] in BIG_SCALES:
            last = "half"
        elif w == "and" and seen and j + 1 < len(toks):
            if toks[j + 1] == "a" and j + 2 < len(toks) and toks[j + 2] == "half":
                if last == "scale":
                    total += 0.5 * scale  # "a million and a half"
                else:
                    current += 0.5
                j += 3
                last = "unit"
                continue
            if not _is_number_word(toks[j + 1]) or last not in ("hundred", "scale"):
                break
        elif w == "point" and seen and j + 1 < len(toks) and toks[j + 1] in UNITS:
            k, digits = j + 1, ""
            while k < len(toks) and toks[k] in UNITS and UNITS[toks[k]] < 10:
                digits += str(UNITS[toks[k]])
                k += 1
            current += float("0." + digits) if digits else 0.0
            j = k
            last = "point"
            continue
        elif w in SHORT_SCALES and seen and w not in ("b", "m"):
            total += max(current, 1) * SHORT_SCALES[w]
            current, last = 0.0, "scale"
            j += 1
            break
        else:
            break
        j += 1
    if not seen:
        return None
    return total + current, j


def _digits_value(toks: list[str], i: int) -> tuple[float, int] | None:
    """Value of a written number at toks[i] with any scale word after it."""
    raw = toks[i].replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    j = i + 1
    if j < len(toks) and toks[j] == "point" and j + 1 < len(toks) and toks[j + 1].isdigit():
        value = float(f"{int(value)}.{toks[j + 1]}")
        j += 2
    if j + 2 < len(toks) and toks[j] == "and" and toks[j + 1] == "a" and toks[j + 2] == "half":
        value += 0.5
        j += 3
    if j < len(toks) and (toks[j] in BIG_SCALES or toks[j] in SHORT_SCALES):
        value *= BIG_SCALES.get(toks[j]) or SHORT_SCALES[toks[j]]
        j += 1
    return value, j


def find_numbers(text: str) -> list[Number]:
    """Every number in a text, left to right, with its unit when one is said next to it."""
    matches = list(TOKEN.finditer(text))
    toks = [m.group(0).lower() for m in matches]
    found: list[Number] = []
    i = 0
    while i < len(toks):
        currency = toks[i] in ("$", "£", "€")
        k = i + 1 if currency else i
        if k >= len(toks):
            break
        parsed = _digits_value(toks, k) if toks[k][0].isdigit() else _words_value(toks, k)
        if parsed is None:
            i += 1
            continue
        value, j = parsed
        unit = "USD" if currency else None
        if j < len(toks):
            nxt = toks[j]
            if nxt in MONEY_WORDS:
                unit, j = "USD", j + 1
            elif nxt in PERCENT_WORDS:
                unit, j = "percent", j + 1
            elif nxt == "per" and j + 1 < len(toks) and toks[j + 1] == "cent":
                unit, j = "percent", j + 2
            elif nxt in ("months", "month") and unit is None:
                unit = "months"
            elif nxt in ("years", "year") and unit is None:
                unit = "years"
        found.append(Number(value=value, start=matches[i].start(), end=matches[j - 1].end(), unit=unit))
        i = j
    return found


def parse_number(text: str) -> float | None:
    """The value of the first number in a text, or None."""
    found = find_numbers(text)
    return found[0].value if found else None
