"""Cue text to plain words: caption tags, ASS overrides and entities out, literal '<' kept; clock stamps to seconds."""

from __future__ import annotations

import html
import re

# A tag starts with a letter or '/' right after '<' (or is an inline timestamp), so "2 < 3" and "2<3,5>1" stay text.
TAG = re.compile(r"</?[A-Za-z][\w.\-]*(?:\s[^<>]*)?>|</>|<(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}>")
ASS_OVERRIDE = re.compile(r"\{\\[^{}]*\}")
ASS_BREAK = re.compile(r"\\[Nnh]")
SPACES = re.compile(r"\s+")
CLOCK = r"(?:\d+:)?\d{1,2}:\d{1,2}(?:[.,]\d+)?"


def clean(text: str) -> str:
    """Cue text without markup, on one line."""
    text = ASS_OVERRIDE.sub("", TAG.sub("", text))
    text = ASS_BREAK.sub(" ", text)
    return SPACES.sub(" ", html.unescape(text)).strip()


def seconds(stamp: str) -> float:
    """'01:02:03.500', '02:03,5', '0:0:0.57' or '2:03' as seconds."""
    total = 0.0
    for part in stamp.strip().replace(",", ".").split(":"):
        total = total * 60 + float(part)
    return round(total, 3)
