"""Whisper's JSON output: openai-whisper and WhisperX (`segments`, optional `speaker`), whisper.cpp (`transcription`)."""

from __future__ import annotations

import json

from core.errors import InputError
from pipeline.transcripts import speakers
from pipeline.transcripts.hints import FORMATS
from pipeline.transcripts.markup import clean, seconds
from pipeline.types import Segment


def parses(text: str) -> bool:
    """Whether the text is JSON at all (a text transcript may open with '[Name]')."""
    try:
        json.loads(text)
    except json.JSONDecodeError:
        return False
    return True


def read(text: str, name: str) -> list[Segment]:
    """Segments of a Whisper JSON file; InputError for other JSON."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name} looks like JSON but cannot be parsed ({exc.msg}, line {exc.lineno}).",
                         FORMATS) from exc
    items = data.get("segments") if isinstance(data, dict) else data if isinstance(data, list) else None
    if isinstance(data, dict) and items is None:
        items = data.get("transcription")
    if not isinstance(items, list) or not all(isinstance(i, dict) and "text" in i for i in items):
        raise InputError(f"{name} is JSON but not a Whisper transcript (no 'segments' with 'start', 'end' and "
                         "'text').", FORMATS)
    out = []
    for item in items:
        start, end = times(item)
        words = clean(str(item["text"]))
        label = item.get("speaker")
        if words:
            out.append(Segment(start=start, end=max(start, end), text=words,
                               speaker=speakers.person(str(label)) if label else None))
    return out


def times(item: dict) -> tuple[float, float]:
    """(start, end) in seconds from openai-whisper's numbers or whisper.cpp's offsets (ms) / timestamps."""
    if "start" in item:
        return float(item["start"]), float(item.get("end", item["start"]))
    if "offsets" in item:
        return item["offsets"]["from"] / 1000, item["offsets"]["to"] / 1000
    if "timestamps" in item:
        return seconds(item["timestamps"]["from"]), seconds(item["timestamps"]["to"])
    return 0.0, 0.0
