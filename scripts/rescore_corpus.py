"""Score the findings engine again on a corpus run's saved transcripts, without recognising speech again.

    .venv/bin/python scripts/rescore_corpus.py out/corpus-mixed [--corpus ../shared/corpus/dev] [--out DIR]

Reads each result that ../shared/eval/run_corpus.py (or `make corpus`) left in a folder, runs the product's
findings (pipeline.run.analyse) over its transcript with the meeting's facts and the script's board, writes the
new results and prints the official scorer's SCORE line. For trying a findings change in seconds; the figures to
report come from `make corpus`. A development tool: the product never imports it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.run import Transcript, analyse  # noqa: E402
from pipeline.types import MeetingInfo, Segment, Ticket  # noqa: E402

SHARED = ROOT.parent / "shared"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus" / "dev")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out = args.out or args.results.with_name(args.results.name + "-rescored")
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(p for p in args.results.glob("*.json") if (args.corpus / p.name).exists()):
        old = json.loads(path.read_text())
        script = json.loads((args.corpus / path.name).read_text())
        m = old["meeting"]
        info = MeetingInfo(title=m["title"], type=m["type"], date=dt.date.fromisoformat(m["date"]),
                           participants=list(m.get("participants") or []), language=m.get("language") or "en")
        segments = [Segment(**{k: s.get(k) for k in ("start", "end", "text", "speaker")}) for s in old["transcript"]]
        board = [Ticket(**t) for t in script.get("board_before", [])]
        result = analyse(Transcript(segments, m["duration"], m.get("source") or "audio"), info, board)
        (out / path.name).write_text(json.dumps(result.to_dict(), indent=1))
    sys.path.insert(0, str(SHARED / "eval"))
    import score  # noqa: E402  (the official scorer)

    summary, _ = score.score(str(args.corpus), str(out))
    fields = {k: v["f1"] for k, v in summary.items() if isinstance(v, dict)}
    print("SCORE " + " ".join(f"{k}={v}" for k, v in fields.items()),
          " ".join(f"{k}={summary[k]}" for k in ("owner_named", "owner_self", "due", "answered", "speaker", "wer")))


if __name__ == "__main__":
    main()
