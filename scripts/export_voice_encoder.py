#!/usr/bin/env python3
"""Rebuild pipeline/diarize/voice_encoder.onnx from Resemblyzer's pretrained speaker encoder.

Resemblyzer 0.1.4 (Apache-2.0) ships its encoder's weights inside its wheel; this turns them into one ONNX file
that onnxruntime runs, so Onno needs no PyTorch at run time. Run it once, in a scratch virtual environment that
is never part of the project's dependencies:

    python3 -m venv /tmp/export && /tmp/export/bin/pip install torch==2.13.0 onnx numpy
    /tmp/export/bin/pip download --no-deps resemblyzer==0.1.4 -d /tmp/export/dl
    /tmp/export/bin/python scripts/export_voice_encoder.py /tmp/export/dl/Resemblyzer-0.1.4-py3-none-any.whl

The model takes power spectra (batch, frames, 201: 25 ms Hann frames every 10 ms at 16 kHz, as
pipeline/diarize/embed.py computes them), applies Resemblyzer's 40-band mel filter bank (librosa's Slaney
filters, rebuilt here in NumPy) and returns L2-normalised 256-dimensional embeddings.
"""

from __future__ import annotations

import argparse
import io
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "pipeline" / "diarize" / "voice_encoder.onnx"
SAMPLE_RATE, N_FFT, N_MELS, HIDDEN, LAYERS = 16000, 400, 40, 256, 3


def hz_to_mel(f: np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above (librosa's default)."""
    f = np.asarray(f, dtype=np.float64)
    mels = f / (200.0 / 3)
    log_region = f >= 1000.0
    return np.where(log_region, 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0), mels)


def mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), m * (200.0 / 3))


def mel_filters() -> np.ndarray:
    """librosa.filters.mel(sr=16000, n_fft=400, n_mels=40) with Slaney normalisation, shape (40, 201)."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:N_MELS + 2] - mel_f[:N_MELS]))[:, None]
    return weights.astype(np.float32)


class Encoder(nn.Module):
    """Resemblyzer's VoiceEncoder network with the mel filter bank in front."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mel", torch.from_numpy(mel_filters().T.copy()))
        self.lstm = nn.LSTM(N_MELS, HIDDEN, LAYERS, batch_first=True)
        self.linear = nn.Linear(HIDDEN, HIDDEN)

    def forward(self, power: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(power @ self.mel)
        raw = torch.relu(self.linear(hidden[-1]))
        return raw / torch.linalg.vector_norm(raw, dim=1, keepdim=True).clamp_min(1e-12)


def load_weights(wheel: Path) -> dict:
    """The network's weights from pretrained.pt inside the Resemblyzer wheel."""
    with zipfile.ZipFile(wheel) as z:
        data = z.read("resemblyzer/pretrained.pt")
    state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)["model_state"]
    return {k: v for k, v in state.items() if k.startswith(("lstm.", "linear."))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path, help="Resemblyzer-0.1.4-py3-none-any.whl")
    ap.add_argument("--out", type=Path, default=DEST)
    a = ap.parse_args()
    torch.manual_seed(0)
    model = Encoder().eval()
    missing = model.load_state_dict(load_weights(a.wheel), strict=False)
    assert missing.missing_keys == ["mel"] and not missing.unexpected_keys, missing
    example = torch.rand(2, 160, 1 + N_FFT // 2)
    torch.onnx.export(model, (example,), str(a.out), input_names=["power"], output_names=["embedding"],
                      dynamic_axes={"power": {0: "batch", 1: "frames"}, "embedding": {0: "batch"}},
                      opset_version=17, dynamo=False)
    print(f"wrote {a.out} ({a.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
