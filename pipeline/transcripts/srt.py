"""SubRip (.srt), with or without cue numbers, through the `srt` library."""

from __future__ import annotations

import srt

from core.errors import InputError
from pipeline.transcripts.cues import Cue, to_segments
from pipeline.transcripts.hints import EXPORT_AGAIN
from pipeline.types import Segment


def read(text: str, name: str) -> list[Segment]:
    """SubRip cues; tags and ASS overrides are dropped by the cue step."""
    try:
        subs = list(srt.parse(text))
    except srt.SRTParseError as exc:
        near = text[exc.expected_start:exc.actual_start].strip().splitlines()
        where = f" near {near[0][:60]!r}" if near else ""
        raise InputError(f"{name}: cannot read it as SubRip: a block has no timing line "
                         f"('00:00:01,000 --> 00:00:04,000'){where}.", EXPORT_AGAIN) from exc
    cues = [Cue(s.start.total_seconds(), s.end.total_seconds(), s.content.split("\n")) for s in subs]
    return to_segments(cues)
