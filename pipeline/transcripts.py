"""Read exported transcripts (WebVTT, SRT, plain `Name: line` text) into speaker-tagged segments."""

from __future__ import annotations

import html
import re
from pathlib import Path

from pipeline.errors import InputError
from pipeline.types import Segment

TRANSCRIPT_SUFFIXES = (".vtt", ".srt", ".txt")
TIMING = re.compile(r"^\s*(?P<a>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s*-->\s*(?P<b>(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
VOICE = re.compile(r"<v(?:\.[^ >]*)?\s+([^>]+)>")
TAG = re.compile(r"</?[^>]+>")
NAME_PREFIX = re.compile(r"^\s*(?:\[[^\]]*\]\s*)?(?P<name>[A-Z][\w .'\-]{0,40}?)\s*:\s+(?P<text>\S.*)$")
CLOCK = re.compile(r"^\s*\[?(?P<t>(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d+)?)\]?\s*")
# Plain text carries no times; spread turns at a typical speaking rate so findings still point somewhere.
WORDS_PER_SECOND = 2.5
FIX_HINT = "Export the transcript again from your meeting tool, or pass the recording itself."


def seconds(stamp: str) -> float:
    """'01:02:03.500', '02:03,5' or '2:03' as seconds."""
    parts = stamp.replace(",", ".").split(":")
    total = 0.0
    for p in parts:
        total = total * 60 + float(p)
    return total


def read_transcript(path: Path) -> list[Segment]:
    """Parse a transcript file by its suffix; raise InputError for anything unusable."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}).", "Check the path and permissions.") from exc
    if not raw.strip():
        raise InputError(f"{path.name} is empty.", FIX_HINT)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path.name} is not UTF-8 text.", "Save the transcript as UTF-8 and try again.") from exc
    suffix = path.suffix.lower()
    if suffix == ".vtt":
        segments = parse_vtt(text, path.name)
    elif suffix == ".srt":
        segments = parse_cues(text, path.name, "SRT")
    else:
        segments = parse_text(text, path.name)
    if not any(s.text for s in segments):
        raise InputError(f"{path.name} holds no spoken lines.", FIX_HINT)
    return segments


def parse_vtt(text: str, name: str = "transcript.vtt") -> list[Segment]:
    """WebVTT with optional `<v Name>` voice tags or `Name:` prefixes."""
    if not text.lstrip().startswith("WEBVTT"):
        raise InputError(f"{name} is not a WebVTT file: it must start with the line 'WEBVTT'.", FIX_HINT)
    return parse_cues(text, name, "WebVTT")


def parse_cues(text: str, name: str, kind: str) -> list[Segment]:
    """Cue blocks separated by blank lines: optional id, a timing line, then the cue text."""
    segments: list[Segment] = []
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n"))
    for block in blocks:
        lines = [ln for ln in block.split("\n") if ln.strip()]
        if not lines or lines[0].startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        timing_at = next((i for i, ln in enumerate(lines[:2]) if "-->" in ln), None)
        if timing_at is None:
            if kind == "SRT" and len(lines) == 1 and lines[0].strip().isdigit():
                continue
            raise InputError(f"{name}: a cue has no timing line ('00:00:01.000 --> 00:00:04.000') near "
                             f"{lines[0][:60]!r}.", FIX_HINT)
        m = TIMING.match(lines[timing_at])
        if not m:
            raise InputError(f"{name}: cannot read the cue timing {lines[timing_at].strip()[:60]!r}.", FIX_HINT)
        start, end = seconds(m["a"]), seconds(m["b"])
        if end < start:
            raise InputError(f"{name}: a cue ends before it starts ({lines[timing_at].strip()}).", FIX_HINT)
        body = " ".join(ln.strip() for ln in lines[timing_at + 1:])
        speaker = None
        voice = VOICE.search(body)
        if voice:
            speaker = voice.group(1).strip()
        body = html.unescape(TAG.sub("", body)).strip()
        if speaker is None:
            prefixed = NAME_PREFIX.match(body)
            if prefixed:
                speaker, body = prefixed["name"].strip(), prefixed["text"].strip()
        if body:
            segments.append(Segment(start=start, end=end, text=body, speaker=speaker))
    if not segments:
        raise InputError(f"{name}: no cues with text were found in this {kind} file.", FIX_HINT)
    segments.sort(key=lambda s: s.start)
    return segments


def parse_text(text: str, name: str = "transcript.txt") -> list[Segment]:
    """`Name: words` turns, optionally after a `[00:01:02]` clock; other lines continue the turn."""
    turns: list[list] = []  # [start or None, speaker, text]
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line.strip():
            continue
        clock = CLOCK.match(line)
        start = None
        if clock and ":" in clock["t"]:
            start, line = seconds(clock["t"]), line[clock.end():]
        m = NAME_PREFIX.match(line)
        if m:
            turns.append([start, m["name"].strip(), m["text"].strip()])
        elif turns:
            turns[-1][2] += " " + line.strip()
        else:
            turns.append([start, None, line.strip()])
    segments: list[Segment] = []
    t = 0.0
    for start, speaker, words in turns:
        t = start if start is not None else t
        length = max(1.0, len(words.split()) / WORDS_PER_SECOND)
        segments.append(Segment(start=round(t, 2), end=round(t + length, 2), text=words, speaker=speaker))
        t += length + 0.5
    return segments
