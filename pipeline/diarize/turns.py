"""Who spoke when in one mixed recording: voice activity, windowed speaker embeddings, clustering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.decode import SAMPLE_RATE
from pipeline.diarize.cluster import cluster, unit
from pipeline.diarize.embed import FRAMES_PER_S, embed, loudness_gain, power_spectrum

WINDOW = 160  # frames (1.6 s): the encoder's training length
STEP = 40  # frames (0.4 s) between windows: each window speaks for the 0.4 s around its centre
MIN_FRAMES = 40  # a stretch of speech shorter than 0.4 s is too short to tell a voice; it takes its neighbour's
# Voice activity: pauses of 0.3 s already end a stretch, so that a turn change between two people is a cut.
VAD = {"min_silence_duration_ms": 300, "speech_pad_ms": 60, "min_speech_duration_ms": 150}
VAD_CHUNK_S = 60  # voice activity runs on 1-minute pieces: on 10-minute ones Silero held 270 MB more


@dataclass(frozen=True)
class Turn:
    """A stretch of one speaker's speech, seconds from the recording's start; speakers are 0, 1, …"""

    start: float
    end: float
    speaker: int


def speech_regions(audio: np.ndarray) -> list[tuple[int, int]]:
    """(first sample, end sample) of each stretch of speech, by Silero VAD as shipped with faster-whisper."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    chunk = VAD_CHUNK_S * SAMPLE_RATE
    return [(at + r["start"], at + r["end"]) for at in range(0, len(audio), chunk)
            for r in get_speech_timestamps(audio[at:at + chunk], VadOptions(**VAD))]


def window_spans(n_frames: int) -> list[tuple[int, int]]:
    """Windows over one stretch of speech: full windows every STEP frames, the last one flush with its end."""
    if n_frames <= WINDOW:
        return [(0, n_frames)] if n_frames >= MIN_FRAMES else []
    starts = list(range(0, n_frames - WINDOW + 1, STEP))
    if starts[-1] + WINDOW < n_frames:
        starts.append(n_frames - WINDOW)
    return [(s, s + WINDOW) for s in starts]


def windows(audio: np.ndarray) -> tuple[list[tuple[float, float]], np.ndarray, np.ndarray]:
    """The stretch of time each embedding window speaks for, the windows' embeddings and their region's index."""
    gain = loudness_gain(audio)
    owners: list[tuple[float, float]] = []
    vectors = [np.zeros((0, 256), dtype=np.float32)]
    region: list[int] = []
    for a, b in speech_regions(audio):
        # One region's spectrum at a time keeps memory flat however long the recording.
        spectrum = power_spectrum(audio[a:b] * gain)
        spans = window_spans(len(spectrum))
        if not spans:
            continue
        vectors.append(embed(spectrum, spans))
        t0 = a / SAMPLE_RATE
        centres = [(s + e) / 2 / FRAMES_PER_S for s, e in spans]
        # Each window owns the time nearest its centre; the first and last reach the stretch's ends.
        bounds = [0.0] + [(x + y) / 2 for x, y in zip(centres, centres[1:], strict=False)] + [(b - a) / SAMPLE_RATE]
        owners += [(t0 + bounds[i], t0 + bounds[i + 1]) for i in range(len(spans))]
        region += [region[-1] + 1 if region else 0] * len(spans)
    return owners, np.concatenate(vectors), np.array(region, dtype=int)


def merged(owners: list[tuple[float, float]], labels: np.ndarray) -> list[Turn]:
    """Turns from labelled windows: neighbouring windows of one speaker become one turn."""
    turns: list[Turn] = []
    for (start, end), label in zip(owners, labels, strict=True):
        if turns and turns[-1].speaker == label and start - turns[-1].end < 0.05:
            turns[-1] = Turn(turns[-1].start, round(end, 3), int(label))
        else:
            turns.append(Turn(round(start, 3), round(end, 3), int(label)))
    return turns


def diarize(audio: np.ndarray, *, max_speakers: int | None = None) -> list[Turn]:
    """Speaker turns of 16 kHz mono `audio`, at most `max_speakers` speakers when that is given."""
    return windows_to_turns(*windows(audio), max_speakers=max_speakers)


def windows_to_turns(owners: list[tuple[float, float]], vectors: np.ndarray, region: np.ndarray, *,
                     max_speakers: int | None = None) -> list[Turn]:
    """Speaker turns from `windows`' output, of one recording or of its parts joined (times and regions shifted)."""
    if not owners:
        return []
    # A stretch between two pauses is one speaker's: its windows' mean voice is far steadier than any one
    # window's, which is what tells two similar voices apart (DER 0.14 by window, 0.09 by stretch on the corpus).
    n = region.max() + 1
    means = unit(np.stack([vectors[region == i].mean(axis=0) for i in range(n)]))
    weights = np.bincount(region, minlength=n) * (STEP / FRAMES_PER_S)  # seconds each window speaks for
    return merged(owners, cluster(means, weights, max_speakers=max_speakers)[region])
