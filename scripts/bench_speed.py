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


def whisper_model():
    """faster-whisper with Onno's model and settings, loaded once as a tuned service would."""
    sys.path.insert(0, str(ROOT))
    from faster_whisper import WhisperModel

    from onno.settings import Settings
    from pipeline.transcribe import bundled_model_path

    cfg = Settings().whisper
    model = WhisperModel(cfg.model or bundled_model_path(), device=cfg.device, compute_type=cfg.compute_type,
                         cpu_threads=cfg.cpu_threads)
    return model, cfg.beam_size


def whisper_alone(model, beam_size: int, f: Path) -> float:
    """Seconds faster-whisper alone takes to transcribe one file."""
    t0 = time.monotonic()
    segments, _ = model.transcribe(str(f), language="en", beam_size=beam_size, vad_filter=True,
                                   condition_on_previous_text=False)
    list(segments)
    return time.monotonic() - t0


def onno_process(f: Path, corpus: Path, data: str) -> float:
    """Seconds a whole `onno process` run takes, process start-up, model loading and storage included."""
    onno = Path(sys.executable).with_name("onno")
    env = {**os.environ, "ONNO_DATA_DIR": data}
    env.pop("ONNO_DATABASE_URL", None)
    script = json.loads((corpus / (f.stem + ".json")).read_text())
    t0 = time.monotonic()
    subprocess.run([str(onno), "process", str(f), "--type", script["type"], "--date", script["date"],
                    "--participants", ",".join(p["name"] for p in script["participants"]),
                    "--format", "json"], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "dev"))
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    corpus = Path(a.corpus)
    files = sorted(corpus.glob("*.ogg"))[: a.limit or None]
    durations = [json.loads((corpus / (f.stem + ".timing.json")).read_text())["duration"] for f in files]
    model, beam_size = whisper_model()
    alone, ours = [], []
    with tempfile.TemporaryDirectory() as data:
        for f in files:  # interleaved, so a change in the machine's load hits both sides alike
            alone.append(whisper_alone(model, beam_size, f))
            ours.append(onno_process(f, corpus, data))
    for f, d, w, o in zip(files, durations, alone, ours, strict=True):
        print(f"{f.stem}: {d:.0f} s audio, faster-whisper {w:.1f} s (RTF {w / d:.3f}), onno {o:.1f} s "
              f"(RTF {o / d:.3f})")
    total = sum(durations)
    print(f"RTF faster-whisper alone {sum(alone) / total:.3f}, onno process {sum(ours) / total:.3f}, "
          f"ratio {sum(ours) / sum(alone):.2f} ({len(files)} files, {total:.0f} s of audio)")


if __name__ == "__main__":
    main()
