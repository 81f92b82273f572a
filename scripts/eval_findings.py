"""Score the findings engine alone on an annotated corpus, from script turns or cached recogniser segments.

    .venv/bin/python scripts/eval_findings.py [--mode vtt|tracks|mixed] [--segments-dir DIR]
                                              [--corpus DIR] [--out DIR] [--show]
                                              [--transcribe] [--word-timing auto|on|off]

--mode vtt builds one segment per script turn from <id>.timing.json (speaker known); --mode tracks or mixed
read faster-whisper segments cached as JSON lists of {start, end, text, speaker} from --segments-dir
(default /tmp/onno-cache/<mode>/<id>.json). With --transcribe, meetings missing from the cache are transcribed
with the product's own transcribe_source (and cached; the seconds it took and the RTF are printed), so whisper
runs once per meeting and variant. --word-timing forces word timestamps on or off (the default, auto, is the
product's: on for per-speaker tracks). Writes one result JSON per meeting and runs the official scorer.
A development tool: the product never imports it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.findings import extract_findings  # noqa: E402
from pipeline.run import transcribe_source  # noqa: E402
from pipeline.transcribe import Transcriber  # noqa: E402
from pipeline.types import MeetingInfo, MeetingResult, Segment, Ticket  # noqa: E402

DEFAULT_CORPUS = Path("/work/shared/corpus/dev")
SCORER_DIR = "/work/shared/eval"


def script_segments(script: dict, timing: dict) -> list[Segment]:
    """One segment per turn, timed as rendered, speaker known: what an exported transcript gives."""
    return [Segment(start=t["start"], end=t["end"], text=turn["text"], speaker=turn["speaker"])
            for turn, t in zip(script["turns"], timing["turns"], strict=True)]


def cached_segments(path: Path) -> list[Segment]:
    """Recogniser segments cached as JSON."""
    return [Segment(start=float(s["start"]), end=float(s["end"]), text=s["text"], speaker=s.get("speaker"))
            for s in json.loads(path.read_text())]


class FixedWordTiming(Transcriber):
    """The product's transcriber with word timestamps forced on or off, to measure what they change."""

    def __init__(self, word_timing: bool) -> None:
        super().__init__()
        self.word_timing = word_timing

    def transcribe(self, audio, **kwargs):  # noqa: ANN001, ANN003, ANN201
        kwargs["word_timing"] = self.word_timing
        return super().transcribe(audio, **kwargs)


def transcribe_to_cache(corpus: Path, mid: str, mode: str, cache: Path, word_timing: str) -> tuple[float, float]:
    """Transcribe one meeting as the product does, cache its segments; (seconds taken, audio seconds)."""
    source = corpus / (f"{mid}.tracks" if mode == "tracks" else f"{mid}.ogg")
    transcriber = Transcriber() if word_timing == "auto" else FixedWordTiming(word_timing == "on")
    _ = transcriber.model  # load outside the timing
    info = MeetingInfo(title=mid)
    began = time.perf_counter()
    transcript = transcribe_source(source, info, transcriber=transcriber)
    took = time.perf_counter() - began
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps([vars(s) for s in transcript.segments], indent=0))
    print(f"{mid}: transcribed in {took:.1f} s for {transcript.duration:.1f} s (RTF {took / transcript.duration:.3f})",
          file=sys.stderr)
    return took, transcript.duration


def run(corpus: Path, mode: str, segments_dir: Path | None, out: Path, show: bool,
        participants: bool = True, transcribe: bool = False, word_timing: str = "auto") -> float:
    """Write a result per meeting into out; return the seconds the engine took in all."""
    out.mkdir(parents=True, exist_ok=True)
    engine_seconds = 0.0
    asr_seconds = audio_seconds = 0.0
    for path in sorted(corpus.glob("*.json")):
        if path.name.endswith(".timing.json"):
            continue
        script = json.loads(path.read_text())
        mid = script["id"]
        timing = json.loads((corpus / f"{mid}.timing.json").read_text())
        if mode == "vtt":
            segments = script_segments(script, timing)
        else:
            cache = (segments_dir or Path(f"/tmp/onno-cache/{mode}")) / f"{mid}.json"
            if not cache.exists() and transcribe:
                took, length = transcribe_to_cache(corpus, mid, mode, cache, word_timing)
                asr_seconds += took
                audio_seconds += length
            if not cache.exists():
                print(f"{mid}: no cached segments at {cache}", file=sys.stderr)
                continue
            segments = cached_segments(cache)
        info = MeetingInfo(title=script.get("title", mid), type=script.get("type", "general"),
                           date=dt.date.fromisoformat(script["date"]),
                           participants=[p["name"] for p in script.get("participants", [])] if participants else [],
                           language=script.get("language", "en"))
        board = [Ticket(key=t["key"], title=t["title"], status=t["status"]) for t in script.get("board_before", [])]
        began = time.perf_counter()
        findings = extract_findings(segments, info, board)
        engine_seconds += time.perf_counter() - began
        result = MeetingResult(info=info, duration=timing.get("duration", 0.0), transcript=segments,
                               findings=findings, source=mode)
        (out / f"{mid}.json").write_text(json.dumps(result.to_dict(), indent=1, default=str))
        if show:
            show_meeting(mid, script["gold"], result.to_dict())
    if audio_seconds:
        print(f"RTF {asr_seconds / audio_seconds:.3f} ({asr_seconds:.1f} s for {audio_seconds:.1f} s of audio, "
              f"mode {mode}, word timing {word_timing})")
    return engine_seconds


def show_meeting(mid: str, gold: dict, res: dict) -> None:
    """Print gold next to found items, for reading the misses."""
    print(f"\n===== {mid}")
    for kind in ("action_items", "questions", "decisions", "blockers", "ticket_updates", "metrics"):
        print(f"-- {kind}")
        for g in gold.get(kind, []):
            print("   GOLD", {k: v for k, v in g.items() if k != "owner_source"})
        for p in res.get(kind, []):
            print("   GOT ", {k: v for k, v in p.items() if k not in ("speaker", "evidence")})
    if "checklist" in gold:
        print("-- uncovered", gold["checklist"]["uncovered"], "suggested",
              [q["topic"] for q in res.get("suggested_questions", [])])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("vtt", "tracks", "mixed"), default="vtt")
    parser.add_argument("--segments-dir", type=Path)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--show", action="store_true", help="print gold and found items side by side")
    parser.add_argument("--quiet", action="store_true", help="print only the SCORE line")
    parser.add_argument("--no-participants", action="store_true",
                        help="do not pass the participant list (as a plain upload without --participants)")
    parser.add_argument("--transcribe", action="store_true",
                        help="transcribe (and cache) meetings whose segments are not cached yet")
    parser.add_argument("--word-timing", choices=("auto", "on", "off"), default="auto",
                        help="with --transcribe: word timestamps as the product picks them, or forced")
    args = parser.parse_args(argv)
    out = args.out or Path(f"/tmp/onno-findings-eval/{args.mode}")
    seconds = run(args.corpus, args.mode, args.segments_dir, out, args.show, not args.no_participants,
                  args.transcribe, args.word_timing)
    sys.path.insert(0, SCORER_DIR)
    import score  # noqa: PLC0415 - the official scorer lives outside the project

    if args.quiet:
        import contextlib
        import io

        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            score.main([str(args.corpus), str(out)])
        print(next(line for line in buffer.getvalue().splitlines() if line.startswith("SCORE")))
    else:
        score.main([str(args.corpus), str(out)])
    print(f"mode={args.mode} engine_seconds={seconds:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
