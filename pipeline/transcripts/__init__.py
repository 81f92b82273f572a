"""Read exported transcripts of any common format, encoding and language into speaker-tagged segments.

One reader per format (vtt, srt, sbv, text, docx, whisper_json); the format is told from the content, the
file's suffix only breaking ties, so a Teams .txt of cues or an .srt saved as .vtt still reads right.
"""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import InputError
from pipeline.transcripts import docx, sbv, srt, text, vtt, whisper_json
from pipeline.transcripts.chat import refuse_chat
from pipeline.transcripts.encoding import decode
from pipeline.transcripts.hints import EXPORT_AGAIN, FORMATS
from pipeline.transcripts.language import transcript_language
from pipeline.types import Segment

__all__ = ["CAPTION_SUFFIXES", "TRANSCRIPT_SUFFIXES", "read_text", "read_transcript", "transcript_language"]

# Only a transcript has these: a chat app may take such a file up unasked.
CAPTION_SUFFIXES = (".vtt", ".srt", ".sbv")
TRANSCRIPT_SUFFIXES = (*CAPTION_SUFFIXES, ".txt", ".md", ".docx", ".json")
SRT_TIMING = re.compile(r"^\s*(?:\d+:)?\d{1,2}:\d{1,2},\d{1,3}\s*-->", re.M)
VTT_TIMING = re.compile(r"^\s*(?:\d+:)?\d{1,2}:\d{1,2}[.,]\d{1,3}\s*-->", re.M)
SBV_TIMING = re.compile(r"^\s*\d+:\d{1,2}:\d{1,2}\.\d{3},\d+:\d{1,2}:\d{1,2}\.\d{3}\s*$", re.M)
ZIP = b"PK\x03\x04"


def read_transcript(path: Path) -> list[Segment]:
    """Parse a transcript file, whatever its format and encoding; raise InputError for anything unusable."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror}).", "Check the path and permissions.") from exc
    if not raw.strip():
        raise InputError(f"{path.name} is empty.", EXPORT_AGAIN)
    if raw.startswith(ZIP):
        return read_text(docx.text_of(raw, path.name), path.name)
    return read_text(decode(raw, path.name), path.name)


def read_text(content: str, name: str = "transcript.txt") -> list[Segment]:
    """Parse a transcript's text by its content (the name's suffix breaks ties)."""
    content = content.lstrip("\ufeff")
    if not content.strip():
        raise InputError(f"{name} is empty.", EXPORT_AGAIN)
    head = content.lstrip()
    if head.startswith("WEBVTT"):
        segments = vtt.read(content, name)
    elif head[:1] in "{[" and (name.lower().endswith(".json") or whisper_json.parses(head)):
        segments = whisper_json.read(content, name)
    elif SBV_TIMING.search(content[:5000]):
        segments = sbv.read(content, name)
    elif SRT_TIMING.search(content[:5000]):
        segments = srt.read(content, name)
    elif VTT_TIMING.search(content[:5000]):
        segments = vtt.read(content, name)
    else:
        refuse_chat(content, name)
        segments = text.read(content, name)
    return checked(segments, name)


def checked(segments: list[Segment], name: str) -> list[Segment]:
    """The segments in time order; InputError when no spoken words are left."""
    if not any(s.text for s in segments):
        raise InputError(f"{name} holds no spoken lines: it has timings or markup but no text.",
                         f"{EXPORT_AGAIN} {FORMATS}")
    return sorted(segments, key=lambda s: s.start)
