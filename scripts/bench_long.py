#!/usr/bin/env python3
"""Long recordings: wall time, RTF and peak memory of `onno process` on corpus meetings joined end to end.

    .venv/bin/python scripts/bench_long.py [--minutes 60,180] [--corpus DIR]

Joins the dev corpus's mixed recordings (repeated as needed) into one Opus file per length, then runs each
through `onno process` in its own process and reads that process's CPU time and peak resident memory. With
parts of five minutes, time should grow with the length and memory should not.
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

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.decode import SAMPLE_RATE, decode_audio  # noqa: E402
from tests.media import write_audio  # noqa: E402

ONNO = [sys.executable, "-c", "from onno.cli import main; main()"]  # this checkout's CLI


def joined(corpus: Path, minutes: float, dest: Path) -> Path:
    """`minutes` of corpus meetings end to end (the last one cut), as Opus."""
    meetings = [decode_audio(f) for f in sorted(corpus.glob("*.ogg"))]
    want, pieces, have = int(minutes * 60 * SAMPLE_RATE), [], 0
    while have < want:
        m = meetings[len(pieces) % len(meetings)][: want - have]
        pieces.append(m)
        have += len(m)
    return write_audio(np.concatenate(pieces), dest)


def run(path: Path, data: str) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak memory (MB) of one `onno process`."""
    env = {**os.environ, "ONNO_DATA_DIR": data}
    env.pop("ONNO_DATABASE_URL", None)
    t0 = time.monotonic()
    proc = subprocess.Popen([*ONNO, "process", str(path), "--format", "json"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    if status:
        sys.exit(f"onno process failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", default="60,180")
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "dev"))
    a = ap.parse_args()
    lengths = [float(m) for m in a.minutes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in lengths:
            path = joined(Path(a.corpus), minutes, Path(tmp) / f"long-{minutes:g}min.ogg")
            wall, cpu, peak = run(path, tmp)
            rows.append((minutes, wall, cpu, peak))
            print(f"{minutes:g} min: wall {wall:.0f} s (RTF {wall / (minutes * 60):.3f}), CPU {cpu:.0f} s "
                  f"(CPU per audio second {cpu / (minutes * 60):.3f}), peak memory {peak:.0f} MB", flush=True)
    if len(rows) > 1:
        (m0, w0, c0, p0), (m1, w1, c1, p1) = rows[0], rows[-1]
        print(json.dumps({"length_ratio": round(m1 / m0, 2), "wall_ratio": round(w1 / w0, 2),
                          "cpu_ratio": round(c1 / c0, 2), "memory_ratio": round(p1 / p0, 2)}))


if __name__ == "__main__":
    main()
