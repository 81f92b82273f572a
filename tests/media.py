"""Make test media with PyAV: the sample in other formats, damaged files, silence, video without sound."""

from __future__ import annotations

import random
import wave
from pathlib import Path

import av
import numpy as np

from pipeline.decode import SAMPLE_RATE, decode_audio

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "standup.ogg"
SAMPLE_TRACKS = ROOT / "samples" / "standup.tracks"
SAMPLE_BOARD = ROOT / "samples" / "standup.board.json"
CORPUS = ROOT.parent / "shared" / "corpus" / "dev"

# container suffix -> audio codec
FORMATS = {".wav": "pcm_s16le", ".flac": "flac", ".mp3": "libmp3lame", ".m4a": "aac", ".webm": "libopus",
           ".ogg": "libopus"}


def write_audio(samples: np.ndarray, dest: Path, *, codec: str | None = None, with_video: bool = False) -> Path:
    """Encode float mono 16 kHz samples into `dest`, optionally beside a small video stream."""
    codec = codec or FORMATS.get(dest.suffix, "aac")
    rate = 48000 if codec == "libopus" else SAMPLE_RATE
    pcm = np.clip(samples * 32767, -32768, 32767).astype(np.int16)
    if rate != SAMPLE_RATE:
        pcm = np.repeat(pcm, rate // SAMPLE_RATE)
    with av.open(str(dest), "w") as out:
        video = None
        if with_video:
            video = out.add_stream("mpeg4", rate=5)
            video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        stream = out.add_stream(codec, rate=rate, layout="mono")
        frame_size = 960 if codec == "libopus" else 1024
        for i in range(0, len(pcm), frame_size):
            chunk = pcm[i:i + frame_size]
            if len(chunk) < frame_size and codec in ("libopus", "aac", "libmp3lame"):
                chunk = np.pad(chunk, (0, frame_size - len(chunk)))
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        if video is not None:
            seconds = len(pcm) / rate
            for _ in range(int(seconds * 5)):
                image = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), dtype=np.uint8), format="rgb24")
                for packet in video.encode(image):
                    out.mux(packet)
            for packet in video.encode():
                out.mux(packet)
    return dest


def sample_clip(seconds: float = 12.0) -> np.ndarray:
    """The start of the shipped sample meeting."""
    return decode_audio(SAMPLE)[: int(seconds * SAMPLE_RATE)]


def silent_wav(dest: Path, seconds: float = 4.0) -> Path:
    with wave.open(str(dest), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(b"\0\0" * int(seconds * SAMPLE_RATE))
    return dest


def video_without_audio(dest: Path) -> Path:
    with av.open(str(dest), "w") as out:
        video = out.add_stream("mpeg4", rate=5)
        video.width, video.height, video.pix_fmt = 64, 64, "yuv420p"
        for _ in range(10):
            image = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), dtype=np.uint8), format="rgb24")
            for packet in video.encode(image):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
    return dest


def written(dest: Path, data: bytes) -> Path:
    dest.write_bytes(data)
    return dest


def truncated(src: Path, dest: Path, share: float = 0.4) -> Path:
    data = src.read_bytes()
    dest.write_bytes(data[: int(len(data) * share)])
    return dest


def corrupted(src: Path, dest: Path) -> Path:
    """Overwrite a stretch in the middle with noise, as a bad disk or transfer would."""
    data = bytearray(src.read_bytes())
    rng = random.Random(7)
    mid = len(data) // 2
    for i in range(mid, min(len(data), mid + 4000)):
        data[i] = rng.randrange(256)
    dest.write_bytes(bytes(data))
    return dest
