"""Run the findings engine in-process on AMI meetings (hand transcripts) and score them with the official scorer.

    .venv/bin/python scripts/eval_ami.py [--split dev|train|test] [--corpus DIR] [--out DIR] [-v]

Reads each meeting's VTT with the product's transcript reader, runs the product's findings, writes one result
JSON per meeting to OUT and runs ../shared/eval/score_ami.py over them. Prints seconds per meeting-hour.
A development tool: the product never imports it. The test split is for the final figure only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.run import Transcript, analyse  # noqa: E402
from pipeline.transcripts import read_transcript  # noqa: E402
from pipeline.types import MeetingInfo  # noqa: E402

SHARED = ROOT.parent / "shared"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", default="dev", choices=["train", "dev", "test", "all"])
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "ami")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "ami")
    ap.add_argument("-v", action="store_true", help="pass -v to the scorer (every gold sentence and item)")
    args = ap.parse_args()
    splits = json.loads((args.corpus / "splits.json").read_text())
    meetings = sorted(splits["train"] + splits["dev"] + splits["test"]) if args.split == "all" \
        else splits[args.split]
    args.out.mkdir(parents=True, exist_ok=True)
    spent = hours = 0.0
    for m in meetings:
        gold = json.loads((args.corpus / f"{m}.gold.json").read_text())
        segments = read_transcript(args.corpus / f"{m}.vtt")
        info = MeetingInfo(title=m, type="product_review", date=dt.date.fromisoformat(gold["date"]),
                           participants=sorted({s.speaker for s in segments if s.speaker}))
        t0 = time.perf_counter()
        result = analyse(Transcript(segments, max(s.end for s in segments), "transcript"), info, [])
        spent += time.perf_counter() - t0
        hours += result.duration / 3600
        (args.out / f"{m}.json").write_text(json.dumps(result.to_dict()))
    print(f"FINDINGS {spent / max(hours, 1e-9):.2f} s per meeting-hour ({spent:.1f} s for {hours:.2f} h)")
    cmd = [sys.executable, str(SHARED / "eval" / "score_ami.py"), str(args.corpus), str(args.out),
           "--split", args.split] + (["-v"] if args.v else [])
    subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
