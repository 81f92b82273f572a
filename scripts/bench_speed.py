#!/usr/bin/env python3
"""Processing speed: `onno process` next to tuned faster-whisper alone, same files, same model, one run side by side.

    .venv/bin/python scripts/bench_speed.py [CORPUS_DIR] [--limit N] [--rounds R] [--variants default,batch8]

faster-whisper alone is the simplest thing a user could script: the bundled model, int8, beam 5, VAD, 2 threads,
loaded once. Each `onno process` variant runs as a user runs it (process start-up, model loading, diarization,
findings and storage included), with the environment its name gives (`batch8`: ONNO_WHISPER_BATCH_SIZE=8).
Runs are interleaved file by file, so a change in the machine's load hits every side alike. Prints, per side,
wall and CPU seconds (CPU counts every thread: the fairer figure on a shared machine), their ratios to
faster-whisper alone and the word error rate against the corpus scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench_live import edit_distance, words  # noqa: E402

ONNO = [sys.executable, "-c", "from onno.cli import main; main()"]  # this checkout's CLI
THREADS = 2
VARIANTS = {"default": {}, "batch8": {"ONNO_WHISPER_BATCH_SIZE": "8"}, "batch4": {"ONNO_WHISPER_BATCH_SIZE": "4"}}


def whisper_model():
    """faster-whisper with Onno's model, tuned for this CPU, loaded once as a tuned service would."""
    sys.path.insert(0, str(ROOT))
    from faster_whisper import WhisperModel

    from pipeline.transcribe import bundled_model_path

    return WhisperModel(bundled_model_path(), device="cpu", compute_type="int8", cpu_threads=THREADS)


def whisper_alone(model, f: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds faster-whisper alone takes to transcribe one file, and its text."""
    c0, t0 = time.process_time(), time.monotonic()
    segments, _ = model.transcribe(str(f), language="en", beam_size=5, vad_filter=True,
                                   condition_on_previous_text=False)
    text = " ".join(s.text for s in segments)
    return time.monotonic() - t0, time.process_time() - c0, text


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def onno_process(f: Path, corpus: Path, data: str, env_extra: dict) -> tuple[float, float, str]:
    """Wall and CPU seconds of a whole `onno process` run, and its transcript's text."""
    env = {**os.environ, "ONNO_DATA_DIR": data, "ONNO_WHISPER_THREADS": str(THREADS), **env_extra}
    env.pop("ONNO_DATABASE_URL", None)
    script = json.loads((corpus / (f.stem + ".json")).read_text())
    c0, t0 = children_cpu(), time.monotonic()
    out = subprocess.run([*ONNO, "process", str(f), "--type", script["type"],
                          "--date", script["date"], "--participants",
                          ",".join(p["name"] for p in script["participants"]), "--format", "json"],
                         check=True, env=env, cwd=ROOT, capture_output=True, text=True).stdout
    wall, cpu = time.monotonic() - t0, children_cpu() - c0
    return wall, cpu, " ".join(s["text"] for s in json.loads(out)["transcript"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "dev"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--variants", default="default,batch8")
    a = ap.parse_args()
    corpus = Path(a.corpus)
    files = sorted(corpus.glob("*.ogg"))[: a.limit or None]
    durations = {f: json.loads((corpus / (f.stem + ".timing.json")).read_text())["duration"] for f in files}
    refs = {f: words(" ".join(t["text"] for t in json.loads((corpus / (f.stem + ".json")).read_text())["turns"]))
            for f in files}
    model = whisper_model()
    sides = ["faster-whisper", *(f"onno {v}" for v in a.variants.split(","))]
    totals = {s: [0.0, 0.0, 0, 0] for s in sides}  # wall, cpu, word errors, reference words
    with tempfile.TemporaryDirectory() as data:
        for r in range(a.rounds):
            for f in files:
                for side in sides:
                    if side == "faster-whisper":
                        wall, cpu, text = whisper_alone(model, f)
                    else:
                        wall, cpu, text = onno_process(f, corpus, data, VARIANTS[side.split()[1]])
                    errors = edit_distance(refs[f], words(text))
                    t = totals[side]
                    t[0] += wall
                    t[1] += cpu
                    t[2] += errors
                    t[3] += len(refs[f])
                    print(f"round {r + 1} {f.stem} ({durations[f]:.0f} s): {side}: wall {wall:.1f} s, CPU {cpu:.1f} s, "
                          f"WER {errors / len(refs[f]):.3f}", flush=True)
    audio = sum(durations.values()) * a.rounds
    base = totals["faster-whisper"]
    for side, (wall, cpu, errors, n) in totals.items():
        print(f"{side:>16}: wall {wall:.1f} s (RTF {wall / audio:.3f}, ratio {wall / base[0]:.2f}), CPU {cpu:.1f} s "
              f"(ratio {cpu / base[1]:.2f}), WER {errors / n:.3f}")
    print(f"({len(files)} files x {a.rounds} round(s), {audio:.0f} s of audio; ratio < 1 is faster than "
          "faster-whisper alone)")


if __name__ == "__main__":
    main()
