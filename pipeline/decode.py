"""Decode any audio or video file to 16 kHz mono float32 samples, whole or as a stream, with PyAV (FFmpeg's
libraries: no ffmpeg binary)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np

from core.errors import InputError
from pipeline.integrity import looks_truncated

SAMPLE_RATE = 16000
# A decoded stream this much shorter than its container claims was cut off or damaged.
MISSING_TOLERANCE_S = 1.0
MISSING_TOLERANCE_SHARE = 0.02

FIX_HINT = "Export or upload the recording again, then run the command once more."


def decode_audio(path: Path) -> np.ndarray:
    """Return the first audio stream of `path` as 16 kHz mono float32 in [-1, 1]."""
    blocks = list(stream_audio(path))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def stream_audio(path: Path) -> Iterator[np.ndarray]:
    """The first audio stream of `path` as consecutive blocks of 16 kHz mono float32, decoded as they are read,
    so a long recording never has to be in memory whole; damage found part-way raises InputError."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.", "Check the path and try again.")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty (0 bytes).", FIX_HINT)
    if looks_truncated(path):
        raise InputError(f"{path.name} is truncated or damaged: its audio stops part-way.", FIX_HINT)
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.InvalidDataError, EOFError) as exc:
        raise InputError(f"{path.name} could not be read as audio or video: it is damaged, incomplete, or not a "
                         "media file.", "Upload the complete recording in a common format (ogg, opus, webm, m4a, "
                         "mp3, wav, flac, mp4).") from exc
    except av.error.FFmpegError as exc:
        raise InputError(f"{path.name} could not be opened ({exc}).", FIX_HINT) from exc
    got = 0
    with container:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise InputError(f"{path.name} has no audio track.",
                             "Record again with the microphone on, or export the file with its audio.")
        stream = streams[0]
        expected = float(stream.duration * stream.time_base) if stream.duration and stream.time_base else None
        if expected is None and container.duration:
            expected = container.duration / av.time_base
        resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)

        def frames() -> Iterator[av.AudioFrame]:
            for frame in container.decode(stream):
                yield from resampler.resample(frame)
            yield from resampler.resample(None)

        try:
            for out in frames():
                samples = out.to_ndarray().reshape(-1)
                got += len(samples)
                yield samples.astype(np.float32) / 32768.0
        except av.error.FFmpegError as exc:
            raise InputError(f"{path.name} is damaged: decoding failed part-way ({exc}).", FIX_HINT) from exc
    seconds = got / SAMPLE_RATE
    if seconds == 0:
        raise InputError(f"{path.name} holds no audio samples.", FIX_HINT)
    if expected and expected - seconds > max(MISSING_TOLERANCE_S, MISSING_TOLERANCE_SHARE * expected):
        raise InputError(f"{path.name} is damaged or truncated: {seconds:.0f} s of {expected:.0f} s could be "
                         "decoded.", FIX_HINT)


def probe_duration(path: Path) -> float | None:
    """Seconds of audio the container's header claims, without decoding; None when it does not say."""
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            streams = [s for s in container.streams if s.type == "audio"]
            if streams and streams[0].duration and streams[0].time_base:
                return float(streams[0].duration * streams[0].time_base)
            return container.duration / av.time_base if container.duration else None
    except (av.error.FFmpegError, EOFError, OSError):
        return None
