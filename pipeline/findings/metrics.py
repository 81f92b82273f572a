"""Business metrics said aloud ("MRR is about fifty thousand dollars", "eighteen months of runway")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.findings.numbers import Number, find_numbers
from pipeline.findings.questions import question_part
from pipeline.findings.sentences import Sentence
from pipeline.types import Metric


@dataclass(frozen=True)
class Kind:
    """A metric: its name, the unit its value is in, and the words that name it."""

    name: str
    unit: str  # "USD", "percent", "months", "count"
    words: re.Pattern
    # How far (in characters) the naming words may sit from the number.
    reach: int = 60


def _w(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.I)


KINDS = (
    Kind("mrr", "USD", _w(r"\bmonthly\s+recurring\s+revenue\b|\bmrr\b|\brevenue\b[^.]{0,40}\b(?:a|per)\s+month\b|"
                          r"\bmonthly\s+revenue\b")),
    Kind("arr", "USD", _w(r"\bannual(?:ized)?\s+recurring\s+revenue\b|\barr\b|\bannual\s+run[\s-]rate\b|\brun[\s-]rate\b")),
    Kind("revenue", "USD", _w(r"\brevenues?\b|\bturnover\b|\bsales\s+of\b|\bbookings\b")),
    Kind("growth_rate", "percent", _w(r"\bgr[eo]w(?:ing|n|th|s)?\b|\bmonth[\s-]over[\s-]month\b|\bmom\b|"
                                      r"\byear[\s-]over[\s-]year\b")),
    Kind("churn_rate", "percent", _w(r"\bchurn(?:ing|ed|s)?\b|\battrition\b|\bcancel(?:lation)?s?\b")),
    # "gross margin" misheard ("gross marking"): a percentage after "gross" is still the margin, retention aside.
    Kind("gross_margin", "percent", _w(r"\bgross\s+(?!retention|revenue|sales|bookings|merchandise|volume)\w+|"
                                       r"\bmargins?\b")),
    Kind("cac", "USD", _w(r"\bacquisition\s+costs?\b|\bcac\b|\bcost\s+(?:to|of)\s+(?:acquir|win|land|get)\w*|"
                          r"\bcosts?\s+(?:us|them|you)?\s*(?:about\s+|around\s+|roughly\s+)?\S*\s*(?:dollars\s+)?to\s+"
                          r"(?:acquire|win|land|get|sign)\b|\bpay\s+to\s+(?:acquire|win|get)\b")),
    Kind("ltv", "USD", _w(r"\blifetime\b|\bltv\b|\bclv\b")),
    Kind("burn_rate", "USD", _w(r"\bburn(?:ing|s)?\b|\bburn\s+rate\b|\bmonthly\s+(?:spend|costs|expenses|outgoings)\b|"
                                r"\bspend(?:ing)?\b[^.,;]{0,40}?\b(?:a|per)\s+month\b")),
    Kind("runway_months", "months", _w(r"\brunway\b")),
    Kind("raise_amount", "USD", _w(r"\brais(?:e|ing)\b|\bround\s+of\b|\blooking\s+for\b|\bseed\s+round\b|\bseries\s+[abc]\b")),
    Kind("valuation", "USD", _w(r"\bvaluation\b|\bvalued\s+at\b|\bpre[\s-]money\b|\bpost[\s-]money\b|\b(?:valuation\s+)?cap\b")),
    Kind("customers", "count", _w(r"\b(?:paying\s+)?(?:\w+\s+)?(?:customers|clients|users|subscribers|accounts|logos|"
                                  r"households|businesses|companies|members)\b|\bpaying\s+\w+|\bserve\b"), reach=25),
    Kind("headcount", "count", _w(r"\b(?:people|employees|staff|ftes?|full[\s-]time\w*|team\s+members|headcount|"
                                  r"person\s+team)\b|\bteam\s+of\b"), reach=25),
)
BY_NAME = {k.name: k for k in KINDS}
# Said about another time or a hope, not the company's figure now.
NOT_NOW = re.compile(r"\b(?:ago|last\s+year|used\s+to|was\s+(?:at|around|about)|goal|target|aim|hope|want\s+to|"
                     r"plan\s+to|projected|forecast|by\s+the\s+end\s+of|next\s+year|if\b)\b", re.I)
# A sentence that only supposes: "If we double the price, churn goes to 5%."
CONDITIONAL = re.compile(r"^\W*(?:(?:so|and|but|okay|well),?\s+)?(?:if|unless|what\s+if|suppose|assuming|imagine)\b",
                         re.I)
# "the two biggest customers", "the top three accounts": some of them, pointed at, not how many there are.
SUBSET = re.compile(r"\b(?:the|those|these)\s+(?:top\s+|first\s+|last\s+|other\s+|biggest\s+|"
                    r"largest\s+)?$", re.I)
# "two of your customers" counts some of them, not all.
PARTITIVE = re.compile(r"\s+of\s+(?:them|us|you|your|our|their|the|those|these)\b", re.I)
# Counts need a subject that owns them: "we're 16 people", "they have 42 customers", "we serve 9,000 households".
COUNT_OWNER = re.compile(r"\b(?:is|are|we|we're|we've|they|they're|they've|our|their|it|that's|there\s+are|company|"
                         r"team\s+of|with|serve|serves|serving|over|about|around|roughly|nearly|almost|just|"
                         r"headcount)\b", re.I)


# Below these a figure is something else said in passing ("a $1 term sheet" is a mishearing, not a valuation).
MINIMUM = {"mrr": 1000, "arr": 1000, "revenue": 1000, "burn_rate": 1000, "raise_amount": 10_000,
           "valuation": 100_000, "cac": 5, "ltv": 5}


def _unit_fits(kind: Kind, number: Number) -> bool:
    if number.value < MINIMUM.get(kind.name, 0):
        return False
    if kind.unit == "USD":
        return number.unit == "USD" or (number.unit is None and number.value >= 1000)
    if kind.unit == "percent":
        return number.unit == "percent"
    if kind.unit == "months":
        return number.unit in ("months", "years")
    return number.unit is None and number.value >= 2 and float(number.value).is_integer()


def _clause_bounds(text: str, at: int, numbers: list[Number] = ()) -> tuple[int, int]:
    """The clause around a character: between commas, semicolons and 'and'/'which'/'so' joins.

    The "and" inside "four hundred and twenty" joins nothing, so cuts inside numbers are ignored.
    """
    cuts = [m for m in re.finditer(r"[,;:]\s+(?:and\s+|which\s+|so\s+|but\s+)?|\s+(?:and|but|which|so)\s+", text)
            if not any(n.start <= m.start() < n.end for n in numbers)]
    begin = max([m.end() for m in cuts if m.end() <= at], default=0)
    end = min([m.start() for m in cuts if m.start() >= at], default=len(text))
    return begin, end


def _distance(text: str, number: Number, kind: Kind, numbers: list[Number] = ()) -> int | None:
    """How far the nearest words naming a kind are from a number in its clause, or None."""
    begin, end = _clause_bounds(text, number.start, numbers)
    best = None
    for m in kind.words.finditer(text):
        # Naming words may come before the number, even a clause earlier ("churn, which is around 2%"),
        # but after it only within its clause: the next clause names the next number.
        if m.end() < begin - 40 or m.start() > end:
            continue
        # Money and rates are named first ("churn is 2%"), counts after ("120 people").
        before_cost, after_cost = (5, 0) if kind.unit == "count" else (0, 5)
        if m.start() <= number.start < m.end():
            gap = 0
        elif m.end() <= number.start:
            # A clause earlier is allowed but costs: words in the number's own clause come first.
            gap = number.start - m.end() + before_cost + (10 if m.end() < begin else 0)
        else:
            gap = m.start() - number.end + after_cost
        gap = max(gap, 0)
        if gap <= kind.reach and (best is None or gap < best):
            best = gap
    return best


def _value(kind: Kind, number: Number) -> float:
    if kind.unit == "months" and number.unit == "years":
        return number.value * 12
    return number.value


def _said_as_now(text: str, n: Number, numbers: list[Number]) -> bool:
    """Whether a number's own clause states the figure as it is now: "MRR is $85k, a year ago it was $30k"
    keeps the first and drops the second; a target, a hope or a past value says nothing about now."""
    begin, end = _clause_bounds(text, n.start, numbers)
    return not NOT_NOW.search(text[begin:end])


def metrics_in(text: str, context: str = "") -> list[tuple[str, Number]]:
    """(metric name, number) pairs said in a sentence; `context` is the question it answers, if any."""
    numbers = [n for n in find_numbers(text) if not _is_part_of_date(text, n)]
    numbers = [n for n in numbers if _said_as_now(text, n, numbers)] + _runway_in_words(text)
    pairs: list[tuple[int, str, Number]] = []
    for n in numbers:
        for kind in KINDS:
            if not _unit_fits(kind, n):
                continue
            gap = _distance(text, n, kind, numbers)
            if gap is None:
                continue
            if kind.unit == "count" and (PARTITIVE.match(text[n.end:]) or SUBSET.search(text[:n.start]) or
                                         n.start > 12 and
                                         not COUNT_OWNER.search(text[max(0, n.start - 30):n.start])):
                continue
            pairs.append((gap, kind.name, n))
    pairs.sort(key=lambda p: (p[0], p[2].start))
    used_numbers: set[int] = set()
    used_kinds: set[str] = set()
    found: list[tuple[str, Number]] = []
    for _, name, n in pairs:
        if n.start in used_numbers or name in used_kinds:
            continue
        used_numbers.add(n.start)
        used_kinds.add(name)
        found.append((name, n))
    # "$140,000 a month, which gives us fourteen months of runway": money said with the runway it buys is the burn.
    if "runway_months" in used_kinds and "burn_rate" not in used_kinds:
        for n in numbers:
            if n.start not in used_numbers and n.unit in ("USD", None) and _unit_fits(BY_NAME["burn_rate"], n):
                used_numbers.add(n.start)
                used_kinds.add("burn_rate")
                found.append(("burn_rate", n))
                break
    # A bare figure answering a question about a metric ("What are they raising?" "12 million dollars").
    if context:
        for n in numbers:
            if n.start in used_numbers:
                continue
            for kind in KINDS:
                if kind.name in used_kinds or kind.unit == "count" or not _unit_fits(kind, n):
                    continue
                if kind.words.search(context):
                    used_numbers.add(n.start)
                    used_kinds.add(kind.name)
                    found.append((kind.name, n))
                    break
    return sorted(found, key=lambda p: p[1].start)


RUNWAY_IN_WORDS = re.compile(r"\b(?:a|one)\s+year(?P<half>\s+and\s+a\s+half)?(?=\s+of\s+(?:runway|cash|money)\b)|"
                             r"\brunway\s+(?:of|is)\s+(?:about\s+|around\s+|roughly\s+|just\s+over\s+)?(?:a|one)\s+"
                             r"year(?P<half2>\s+and\s+a\s+half)?\b", re.I)


def _runway_in_words(text: str) -> list[Number]:
    """"A year and a half of runway": a span of time said without a number word."""
    out = []
    for m in RUNWAY_IN_WORDS.finditer(text):
        half = m["half"] or m["half2"]
        out.append(Number(value=1.5 if half else 1.0, start=m.start(), end=m.end(), unit="years"))
    return out


def _is_part_of_date(text: str, n: Number) -> bool:
    after = text[n.end:n.end + 3].lower()
    return after.startswith(("st", "nd", "rd", "th")) and not after.startswith("tho")


def _statement_part(s: Sentence) -> str:
    """What a sentence states: all of it, or for a question the words before the asking starts."""
    if not s.is_question:
        return s.text
    asking = question_part(s.text)
    at = s.text.find(asking[:15]) if asking else -1
    return s.text[:at] if at > 0 else ""


def find_metrics(sentences: list[Sentence]) -> list[Metric]:
    """Metrics stated in the meeting; the first statement of each name is the one that counts."""
    out: list[Metric] = []
    seen: set[str] = set()
    for i, s in enumerate(sentences):
        text = _statement_part(s)
        if not text or CONDITIONAL.match(text):
            continue
        context = ""
        prev = sentences[i - 1] if i > 0 else None
        if prev is not None and prev.is_question and prev.speaker != s.speaker or \
                prev is not None and prev.speaker is None and prev.is_question:
            context = prev.text
        for name, n in metrics_in(text, context):
            if name in seen:
                continue
            seen.add(name)
            kind = BY_NAME[name]
            out.append(Metric(name=name, value=_value(kind, n), unit=kind.unit, start=s.start, speaker=s.speaker,
                              evidence=text[max(0, n.start - 40):n.end + 40].strip()))
    return out
