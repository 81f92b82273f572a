#!/usr/bin/env python3
"""Diarization alone on a corpus's mixed recordings: DER, speaker count, RTF and peak memory.

    .venv/bin/python scripts/bench_diarize.py [CORPUS_DIR] [--told] [--collar 0.25] [--only ID] [--repeat N]

Ground truth is each <id>.timing.json (turn times and speakers). DER is scored on a 10 ms grid with the
speakers mapped one to one for the most overlap (Hungarian); `--collar` seconds either side of every reference
turn boundary are not scored (NIST md-eval's convention). `--told` gives the clustering the true speaker count as
its bound, as a participant list does. `--repeat N` concatenates each recording N times, for long-audio speed and
memory. `--harder` first adds reverberation (an exponentially decaying noise response, RT60 0.5 s) and pink
noise at 10 dB SNR, seeded, so runs compare. Peak memory is the process's high-water mark above what it held with
the audio decoded.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.decode import SAMPLE_RATE, decode_audio  # noqa: E402
from pipeline.diarize.turns import diarize  # noqa: E402

STEP = 0.01


def harder(audio: np.ndarray, *, snr_db: float = 10.0, rt60: float = 0.5, seed: int = 15) -> np.ndarray:
    """The recording in a reverberant room with pink noise at `snr_db` (sox is not on every machine)."""
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(seed)
    t = np.arange(int(rt60 * SAMPLE_RATE)) / SAMPLE_RATE
    response = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)  # -60 dB at rt60
    response[0] = 1.0
    wet = fftconvolve(audio, response)[: len(audio)]
    wet *= np.sqrt(np.mean(audio ** 2) / max(np.mean(wet ** 2), 1e-12))
    spectrum = np.fft.rfft(rng.standard_normal(len(audio)))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))  # 1/f power
    pink = np.fft.irfft(spectrum, n=len(audio))
    pink *= np.sqrt(np.mean(wet ** 2) / np.mean(pink ** 2) / 10 ** (snr_db / 10))
    return (wet + pink).astype(np.float32)


def vm(key: str) -> float:
    """A /proc/self/status figure in MB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak() -> None:
    """Start the high-water mark again from the current size (Linux: write 5 to clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def grid(turns: list[tuple[float, float, str]], names: list[str], n: int) -> np.ndarray:
    """A (frames, speakers) boolean activity grid."""
    g = np.zeros((n, len(names)), dtype=bool)
    for start, end, who in turns:
        g[int(round(start / STEP)):int(round(end / STEP)), names.index(who)] = True
    return g


def der(ref: list[tuple[float, float, str]], hyp: list[tuple[float, float, str]], duration: float,
        collar: float) -> float:
    """Diarization error rate: (missed + false alarm + confusion) / reference speech, outside the collars."""
    n = int(np.ceil(duration / STEP)) + 1
    rn, hn = sorted({t[2] for t in ref}), sorted({t[2] for t in hyp})
    r, h = grid(ref, rn, n), grid(hyp, hn, n)
    scored = np.ones(n, dtype=bool)
    c = int(round(collar / STEP))
    for start, end, _ in ref:
        for t in (start, end):
            i = int(round(t / STEP))
            scored[max(0, i - c):i + c] = False
    r, h = r[scored], h[scored]
    if hn:
        overlap = r.astype(np.int32).T @ h.astype(np.int32)
        rows, cols = linear_sum_assignment(-overlap)
        correct = overlap[rows, cols].sum()
    else:
        correct = 0
    n_ref, n_hyp = r.sum(axis=1), h.sum(axis=1)
    # Per frame: max(ref, hyp) minus the correctly mapped speakers covers miss, false alarm and confusion.
    error = np.maximum(n_ref, n_hyp).sum() - correct
    return float(error / max(1, n_ref.sum()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "dev"))
    ap.add_argument("--told", action="store_true")
    ap.add_argument("--collar", type=float, default=0.25)
    ap.add_argument("--only")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--harder", action="store_true")
    a = ap.parse_args()
    corpus = Path(a.corpus)
    ders, right, audio_s, wall_s, peaks = [], 0, 0.0, 0.0, []
    ids = sorted(p.name[:-len(".timing.json")] for p in corpus.glob("*.timing.json"))
    if a.only:
        ids = [i for i in ids if a.only in i]
    diarize(np.zeros(SAMPLE_RATE, dtype=np.float32))  # load the models before timing
    for mid in ids:
        timing = json.loads((corpus / f"{mid}.timing.json").read_text())
        audio = decode_audio(corpus / f"{mid}.ogg")
        if a.harder:
            audio = harder(audio)
        if a.repeat > 1:
            audio = np.tile(audio, a.repeat)
        ref = [(t["start"], t["end"], t["speaker"]) for t in timing["turns"]]
        true_n = len({t[2] for t in ref})
        reset_peak()
        before = vm("VmRSS")
        t0 = time.perf_counter()
        turns = diarize(audio, max_speakers=true_n if a.told else None)
        dt = time.perf_counter() - t0
        peaks.append(vm("VmHWM") - before)
        duration = len(audio) / SAMPLE_RATE
        audio_s += duration
        wall_s += dt
        found = len({t.speaker for t in turns})
        right += found == true_n
        if a.repeat == 1:
            ders.append(der(ref, [(t.start, t.end, str(t.speaker)) for t in turns], duration, a.collar))
            score = f"DER {ders[-1]:.3f}"
        else:
            score = "DER not scored (repeated audio)"
        print(f"{mid}: {score}, speakers {found}/{true_n}, {dt:.1f} s for {duration:.0f} s "
              f"(RTF {dt / duration:.3f}), peak +{peaks[-1]:.0f} MB")
    if ders:
        print(f"mean DER {np.mean(ders):.3f} (collar {a.collar} s{', told the count' if a.told else ''}), ", end="")
    print(f"speaker count right {right}/{len(ids)}, RTF {wall_s / max(audio_s, 1e-9):.3f}, "
          f"peak +{max(peaks):.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
