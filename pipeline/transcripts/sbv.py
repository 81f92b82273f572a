"""YouTube SubViewer (.sbv: 'h:mm:ss.mmm,h:mm:ss.mmm' timing lines) through webvtt-py."""

from __future__ import annotations

import io

import webvtt
from webvtt.errors import MalformedCaptionError, MalformedFileError

from core.errors import InputError
from pipeline.transcripts.cues import Cue, to_segments
from pipeline.transcripts.hints import EXPORT_AGAIN
from pipeline.transcripts.markup import seconds
from pipeline.types import Segment


def read(text: str, name: str) -> list[Segment]:
    """SubViewer cues."""
    try:
        captions = webvtt.from_buffer(io.StringIO(text), format="sbv").captions
    except (MalformedFileError, MalformedCaptionError) as exc:
        raise InputError(f"{name}: cannot read its SubViewer cues ({exc}).", EXPORT_AGAIN) from exc
    return to_segments([Cue(seconds(c.start), seconds(c.end), c.raw_text.split("\n")) for c in captions])
