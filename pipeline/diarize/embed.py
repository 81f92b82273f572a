"""Speaker embeddings of short stretches of speech: Resemblyzer's encoder, exported to ONNX, on onnxruntime."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

from pipeline.decode import SAMPLE_RATE

MODEL = Path(__file__).with_name("voice_encoder.onnx")  # rebuilt by scripts/export_voice_encoder.py
N_FFT, HOP = 400, 160  # 25 ms frames every 10 ms, as the encoder was trained
FRAMES_PER_S = SAMPLE_RATE // HOP
TARGET_DBFS = -30.0  # the loudness the encoder's training audio was brought to
WINDOW = np.hanning(N_FFT + 1)[:-1].astype(np.float32)  # periodic Hann, as librosa's STFT uses
BATCH = 64


@cache
def session():
    """The encoder, loaded once per process, on one thread: diarization runs beside recognition."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(MODEL), options, providers=["CPUExecutionProvider"])


def loudness_gain(audio: np.ndarray, chunk: int = 1 << 20) -> np.float32:
    """The factor that raises (never lowers) the audio to the encoder's loudness, as Resemblyzer's preprocessing."""
    # Summed in pieces: squaring a 2-hour recording at once would copy it.
    energy = sum(float(np.dot(audio[i:i + chunk], audio[i:i + chunk])) for i in range(0, len(audio), chunk))
    if not len(audio) or energy <= 0:
        return np.float32(1.0)
    gain_db = TARGET_DBFS - 10 * np.log10(energy / len(audio))
    return np.float32(10 ** (max(gain_db, 0.0) / 20))


def power_spectrum(audio: np.ndarray) -> np.ndarray:
    """Centred STFT power frames (n_frames, 201), zero-padded at both ends like librosa's default."""
    padded = np.pad(audio.astype(np.float32), (N_FFT // 2, N_FFT // 2))
    n = 1 + (len(padded) - N_FFT) // HOP
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP][:n]
    return (np.abs(np.fft.rfft(frames * WINDOW, axis=1)) ** 2).astype(np.float32)


def embed(spectrum: np.ndarray, spans: list[tuple[int, int]]) -> np.ndarray:
    """One L2-normalised 256-d embedding per (first frame, end frame) span of `spectrum`."""
    out = np.zeros((len(spans), 256), dtype=np.float32)
    by_length: dict[int, list[int]] = {}
    for i, (a, b) in enumerate(spans):
        by_length.setdefault(b - a, []).append(i)
    # Spans of one length go through the LSTM together; most are full windows, so batches stay large.
    for length, idx in by_length.items():
        for k in range(0, len(idx), BATCH):
            chunk = idx[k:k + BATCH]
            batch = np.stack([spectrum[spans[i][0]:spans[i][0] + length] for i in chunk])
            out[chunk] = session().run(None, {"power": batch})[0]
    return out
