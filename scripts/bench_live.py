#!/usr/bin/env python3
"""Live latency: from the end of each spoken turn to its transcript event, one meeting alone, four and eight at once.

    .venv/bin/python scripts/bench_live.py [--corpus DIR] [--runs alone,four,eight] [--speed 1] [-- live-sim options]

Runs `onno live-sim` on the corpus's per-speaker tracks at real time and reads each meeting's `.timing.json`
(start and end of every turn). A turn counts as transcribed live when a transcript event of its speaker overlaps
it; its latency is the `emitted_at` of the last such event less the turn's end. The corpus's turn ends include
espeak's trailing silence (0.27-0.45 s, mean 0.37 s after the last audible sample), so the latency from the last
audible sample (`heard`) is printed too. Also prints the word error rate of the live transcript against the
script (`.json` turns). Options after `--` go to live-sim unchanged, e.g.
`-- --beam-size 5 --end-silence 0.6 --threads 1 --workers 2`. Timings depend on what else the machine is doing.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "dev"


def run_live_sim(folders: list[Path], speed: float, extra: list[str]) -> tuple[list[dict], str, float]:
    t0 = time.monotonic()
    # This checkout's CLI (not whichever `onno` is installed).
    done = subprocess.run([sys.executable, "-c", "from onno.cli import main; main()", "live-sim", *map(str, folders), "--speed", str(speed), "--format", "jsonl",
                           *extra], check=True, capture_output=True, text=True, cwd=ROOT)
    events = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return events, done.stderr, time.monotonic() - t0


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def edit_distance(ref: list[str], hyp: list[str]) -> int:
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1]


def audible_ends(folder: Path, turns: list[dict]) -> list[float]:
    """The time of the last sample above -40 dBFS in each turn, on its speaker's track."""
    import numpy as np

    from pipeline.decode import SAMPLE_RATE, decode_audio

    tracks: dict[str, np.ndarray] = {}
    ends = []
    for turn in turns:
        audio = tracks.get(turn["speaker"])
        if audio is None:
            audio = tracks[turn["speaker"]] = decode_audio(folder / f"{turn['speaker']}.ogg")
        lo = int(turn["start"] * SAMPLE_RATE)
        loud = np.flatnonzero(np.abs(audio[lo:int((turn["end"] + 0.5) * SAMPLE_RATE)]) > 0.01)
        ends.append((lo + loud[-1]) / SAMPLE_RATE if len(loud) else turn["end"])
    return ends


def score(meeting: str, events: list[dict], corpus: Path) -> dict:
    """Per-turn latencies, the share of turns transcribed, and word errors, for one meeting's events."""
    stem = meeting.removesuffix(".tracks")
    turns = json.loads((corpus / f"{stem}.timing.json").read_text())["turns"]
    script = json.loads((corpus / f"{stem}.json").read_text())["turns"]
    heard = audible_ends(corpus / meeting, turns)
    lines = [e for e in events if e["meeting"] == meeting and e["type"] == "transcript"]
    latencies, from_heard, covered, errors, ref_words = [], [], 0, 0, 0
    for turn, said, audible in zip(turns, script, heard, strict=True):
        mine = [e for e in lines if e["speaker"] == turn["speaker"]
                and e["start"] < turn["end"] and e["end"] > turn["start"]]
        ref = words(said["text"])
        ref_words += len(ref)
        errors += edit_distance(ref, words(" ".join(e["text"] for e in sorted(mine, key=lambda e: e["start"]))))
        if mine:
            covered += 1
            latencies.append(max(e["emitted_at"] for e in mine) - turn["end"])
            from_heard.append(max(e["emitted_at"] for e in mine) - audible)
    return {"turns": len(turns), "covered": covered, "latencies": latencies, "from_heard": from_heard,
            "errors": errors, "words": ref_words}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))]


def report(label: str, scores: list[dict], wall: float, stderr: str) -> dict:
    lat = [x for s in scores for x in s["latencies"]]
    heard = [x for s in scores for x in s["from_heard"]]
    turns = sum(s["turns"] for s in scores)
    covered = sum(s["covered"] for s in scores)
    wer = sum(s["errors"] for s in scores) / max(1, sum(s["words"] for s in scores))
    out = {"run": label, "meetings": len(scores), "turns": turns, "live_share": round(covered / max(1, turns), 3),
           "p50": round(pct(lat, 50), 2), "p95": round(pct(lat, 95), 2), "max": round(max(lat, default=0), 2),
           "mean": round(statistics.fmean(lat), 2) if lat else None, "heard_p50": round(pct(heard, 50), 2),
           "heard_p95": round(pct(heard, 95), 2), "wer": round(wer, 3), "wall_s": round(wall, 1)}
    print(f"{label:>6}: {out['meetings']} meeting(s), {turns} turns, live {out['live_share']:.1%}, latency p50 "
          f"{out['p50']:.2f} s, p95 {out['p95']:.2f} s, max {out['max']:.2f} s (from the last audible sample: "
          f"p50 {out['heard_p50']:.2f} s, p95 {out['heard_p95']:.2f} s); WER {wer:.3f}", flush=True)
    for line in stderr.strip().splitlines()[-2:]:
        print(f"        {line}", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--runs", default="alone,four", help="alone, four, eight (comma-separated)")
    ap.add_argument("--speed", type=float, default=1.0)
    ap.add_argument("--alone", default=None, help="the meeting to run alone (default: the first)")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("live_sim_args", nargs="*", help="after --: options for onno live-sim")
    args = ap.parse_args()
    folders = sorted(args.corpus.glob("*.tracks"))
    runs_wanted = [r.strip() for r in args.runs.split(",")]
    need = 8 if "eight" in runs_wanted else 4
    if len(folders) < need:
        sys.exit(f"{args.corpus} needs at least {need} *.tracks folders")
    alone = next((f for f in folders if args.alone and f.name.startswith(args.alone)), folders[0])
    runs = {"alone": [alone], "four": folders[:4], "eight": folders[:8]}
    results = []
    for label in runs_wanted:
        chosen = runs[label]
        events, stderr, wall = run_live_sim(chosen, args.speed, args.live_sim_args)
        scores = [score(f.name, events, args.corpus) for f in chosen]
        results.append(report(label.strip(), scores, wall, stderr))
    if args.json:
        args.json.write_text(json.dumps({"args": args.live_sim_args, "speed": args.speed, "results": results},
                                        indent=1))


if __name__ == "__main__":
    main()
