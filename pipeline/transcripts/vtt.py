"""WebVTT (Zoom, Teams, Stream, YouTube, Whisper) through webvtt-py; headerless Teams text cues too."""

from __future__ import annotations

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from core.errors import InputError
from pipeline.transcripts.cues import Cue, to_segments
from pipeline.transcripts.hints import EXPORT_AGAIN
from pipeline.transcripts.markup import seconds
from pipeline.types import Segment


def read(text: str, name: str) -> list[Segment]:
    """WebVTT cues; without the 'WEBVTT' line (Teams pasted as text) a cue's first line may be the speaker."""
    headed = text.lstrip().startswith("WEBVTT")
    try:
        captions = webvtt.from_string(text if headed else "WEBVTT\n\n" + text).captions
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise InputError(f"{name}: cannot read its WebVTT cues ({exc}).", EXPORT_AGAIN) from exc
    if not captions:
        raise InputError(f"{name}: no cues with a timing line ('00:00:01.000 --> 00:00:04.000') were found in "
                         "this WebVTT file.", EXPORT_AGAIN)
    cues = [Cue(seconds(c.start), seconds(c.end), c.raw_text.split("\n"), voice=(c.voice or "").strip() or None)
            for c in captions]
    return to_segments(cues, speaker_lines=not headed)
