#!/usr/bin/env python3
"""Processing speed: RTF of `onno process` next to faster-whisper alone, same files, same model and settings.

    .venv/bin/python scripts/bench_speed.py [CORPUS_DIR] [--limit N]

Prints one line per recording and the totals; RTF is processing seconds per second of audio.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def whisper_alone(files: list[Path]) -> list[float]:
    """Seconds faster-whisper takes per file (model loaded once, as a tuned service would)."""
    sys.path.insert(0, str(ROOT))
    from faster_whisper import WhisperModel

    from onno.settings import Settings
    from pipeline.transcribe import bundled_model_path

    cfg = Settings().whisper
    model = WhisperModel(cfg.model or bundled_model_path(), device=cfg.device, compute_type=cfg.compute_type,
                         cpu_threads=cfg.cpu_threads)
    times = []
    for f in files:
        t0 = time.monotonic()
        segments, _ = model.transcribe(str(f), language="en", beam_size=cfg.beam_size, vad_filter=True,
                                       condition_on_previous_text=False)
        list(segments)
        times.append(time.monotonic() - t0)
    return times


def onno_process(files: list[Path], corpus: Path) -> list[float]:
    """Seconds a whole `onno process` run takes per file, start-up and storage included."""
    onno = Path(sys.executable).with_name("onno")
    times = []
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "ONNO_DATA_DIR": data}
        env.pop("ONNO_DATABASE_URL", None)
        for f in files:
            script = json.loads((corpus / (f.stem + ".json")).read_text())
            t0 = time.monotonic()
            subprocess.run([str(onno), "process", str(f), "--type", script["type"], "--date", script["date"],
                            "--participants", ",".join(p["name"] for p in script["participants"]),
                            "--format", "json"], check=True, env=env, stdout=subprocess.DEVNULL)
            times.append(time.monotonic() - t0)
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "dev"))
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    corpus = Path(a.corpus)
    files = sorted(corpus.glob("*.ogg"))[: a.limit or None]
    durations = [json.loads((corpus / (f.stem + ".timing.json")).read_text())["duration"] for f in files]
    alone = whisper_alone(files)
    ours = onno_process(files, corpus)
    for f, d, w, o in zip(files, durations, alone, ours, strict=True):
        print(f"{f.stem}: {d:.0f} s audio, faster-whisper {w:.1f} s (RTF {w / d:.3f}), onno {o:.1f} s "
              f"(RTF {o / d:.3f})")
    total = sum(durations)
    print(f"RTF faster-whisper alone {sum(alone) / total:.3f}, onno process {sum(ours) / total:.3f}, "
          f"ratio {sum(ours) / sum(alone):.2f} ({len(files)} files, {total:.0f} s of audio)")


if __name__ == "__main__":
    main()
