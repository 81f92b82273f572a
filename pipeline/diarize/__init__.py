"""Speaker diarization of single mixed recordings: who spoke when, which words are whose, and their names."""

from __future__ import annotations

import numpy as np

from pipeline.diarize.assign import speaker_segments
from pipeline.diarize.naming import name_speakers
from pipeline.diarize.turns import diarize
from pipeline.findings.people import discover_names
from pipeline.transcribe import Progress, Transcriber
from pipeline.types import Segment

# Share of the progress bar the recogniser gets; diarization (about a tenth of its time) has the rest.
RECOGNITION_SHARE = 0.9


def transcribe_speakers(audio: np.ndarray, transcriber: Transcriber, *, participants: list[str], language: str,
                        prompt: str | None = None, progress: Progress | None = None,
                        uploader: str | None = None) -> list[Segment]:
    """Segments of one mixed recording with their speakers: participants' names where what was said tells,
    'Speaker N' otherwise; never more speakers than participants when there is a list.

    Without a list, the names people are called by ("Lena, can you…", "Thanks, Sam") are the candidates;
    `uploader`, who sent the recording, is one too and a hint for the voice that opens the meeting."""
    def part(share: float) -> None:
        if progress:
            progress(share * RECOGNITION_SHARE)

    pieces = transcriber.pieces(audio, language=language, prompt=prompt, progress=part, word_timing=True, batched=True)
    if not pieces:
        return []
    segments = speaker_segments(pieces, diarize(audio, max_speakers=len(participants) or None))
    if progress:
        progress(1.0)
    return name_speakers(segments, participants or discover_names(s.text for s in segments), uploader=uploader)
