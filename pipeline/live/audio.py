"""Discord's voice audio (48 kHz stereo signed 16-bit PCM) to the 16 kHz mono float32 the recogniser takes."""

from __future__ import annotations

import numpy as np

DISCORD_RATE = 48000
FACTOR = 3  # 48 kHz -> 16 kHz
TAPS = 63


def _lowpass() -> np.ndarray:
    """A windowed-sinc low-pass at 7.2 kHz (below the 8 kHz Nyquist of 16 kHz), unit gain at DC."""
    n = np.arange(TAPS) - (TAPS - 1) / 2
    cutoff = 7200 / DISCORD_RATE  # cycles per input sample
    h = 2 * cutoff * np.sinc(2 * cutoff * n) * np.blackman(TAPS)
    return (h / h.sum()).astype(np.float32)


LOWPASS = _lowpass()


class Downsampler:
    """Converts one speaker's stream of 48 kHz stereo s16le chunks to 16 kHz mono float32, chunk by chunk.

    It keeps the filter's history and the decimation phase between chunks, so the output of many small chunks
    equals the output of their concatenation (Discord sends 20 ms packets: 3,840 bytes each).
    """

    def __init__(self) -> None:
        self._history = np.zeros(TAPS - 1, dtype=np.float32)
        self._phase = 0  # index, into the next chunk's filtered samples, of the next sample to keep
        self._odd = b""  # a trailing byte or half frame that did not make a whole stereo frame

    def __call__(self, data: bytes) -> np.ndarray:
        data = self._odd + bytes(data)
        whole = len(data) - len(data) % 4
        self._odd = data[whole:]
        if not whole:
            return np.zeros(0, dtype=np.float32)
        stereo = np.frombuffer(data[:whole], dtype="<i2").reshape(-1, 2).astype(np.float32)
        mono = stereo.mean(axis=1) / 32768.0
        padded = np.concatenate([self._history, mono])
        filtered = np.convolve(padded, LOWPASS, mode="valid")  # one output per input sample of `mono`
        self._history = padded[-(TAPS - 1):]
        out = filtered[self._phase::FACTOR]
        self._phase = (self._phase - len(mono)) % FACTOR
        return out.astype(np.float32, copy=False)


def discord_to_16k(data: bytes) -> np.ndarray:
    """One self-contained piece of 48 kHz stereo s16le as 16 kHz mono float32 (streams: use a Downsampler)."""
    return Downsampler()(data)
