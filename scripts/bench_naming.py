#!/usr/bin/env python3
"""Naming speakers alone, over a corpus's mixed recordings recognised and diarized once and kept.

    .venv/bin/python scripts/bench_naming.py [CORPUS_DIR] [--cache out/naming-cache] [--findings]
        [--uploader-first | --uploader-each] [-v]

The first run recognises each <id>.ogg as the product does (word times) and keeps the recogniser's pieces in the
cache folder; every run diarizes the audio again (RTF 0.01) and names the voices, so a change to the
clustering, the word assignment or the naming is measured in seconds. Prints, per
meeting and overall, the share of segments whose name is their ground-truth speaker's (score.py's `speaker`),
the best a naming could do with these voices (each voice its most frequent true speaker), and the voices left
'Speaker N'. With --findings it also runs the findings over the named transcripts and prints the official
scorer's SCORE line (owner_self and all). A development tool: the product never imports it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.types import Segment  # noqa: E402

SHARED = ROOT.parent / "shared"


def anonymous_segments(audio_path: Path, participants: list[str], kept: Path) -> list[Segment]:
    """The mixed recording's segments with voices labelled 'Speaker N', as transcribe_speakers makes them; the
    recogniser's pieces are kept in `kept` (the slow part), the diarization is done again."""
    from pipeline.decode import decode_audio
    from pipeline.diarize.assign import speaker_segments
    from pipeline.diarize.turns import diarize
    from pipeline.transcribe import Piece, Transcriber, Word

    audio = decode_audio(audio_path)
    if not kept.exists():
        pieces = Transcriber().pieces(audio, language="en", word_timing=True)
        kept.write_text(json.dumps([asdict(p) for p in pieces]))
    pieces = [Piece(p["start"], p["end"], p["text"], [Word(**w) for w in p["words"]])
              for p in json.loads(kept.read_text())]
    return speaker_segments(pieces, diarize(audio, max_speakers=len(participants) or None))


def truth(segment: Segment, turns: list[dict]) -> str | None:
    """The ground-truth speaker overlapping the segment most (score.py's rule)."""
    best, best_ov = None, 0.0
    for t in turns:
        ov = min(segment.end, t["end"]) - max(segment.start, t["start"])
        if ov > best_ov:
            best, best_ov = t["speaker"], ov
    return best


def main() -> None:
    from pipeline.diarize.naming import name_speakers

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path, nargs="?", default=SHARED / "corpus" / "dev")
    ap.add_argument("--cache", type=Path, default=ROOT / "out" / "naming-cache")
    ap.add_argument("--findings", action="store_true")
    ap.add_argument("--uploader-first", action="store_true",
                    help="take the first-listed participant for the uploader (in the dev corpus: the host)")
    ap.add_argument("--uploader-each", action="store_true",
                    help="name each meeting once with every participant in turn as the uploader (figures summed)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    cache = args.cache / args.corpus.name
    cache.mkdir(parents=True, exist_ok=True)
    out = cache.with_name(cache.name + "-results")
    out.mkdir(exist_ok=True)
    right = total = best_right = 0
    for path in sorted(p for p in args.corpus.glob("*.json") if not p.name.endswith(".timing.json")):
        script = json.loads(path.read_text())
        participants = [p["name"] for p in script["participants"]]
        segments = anonymous_segments(path.with_suffix(".ogg"), participants, cache / (path.stem + ".pieces.json"))
        turns = json.loads(path.with_suffix(".timing.json").read_text())["turns"]
        gold = [truth(s, turns) for s in segments]
        uploaders = participants if args.uploader_each else [participants[0] if args.uploader_first else None]
        for uploader in uploaders:
            named = name_speakers(segments, participants, uploader=uploader)
            ok, best = report(path.stem, segments, named, gold, participants, uploader, args.verbose)
            right, total, best_right = right + ok, total + len(segments), best_right + best
        if args.findings:
            write_result(named, script, out / path.name)
    print(f"ALL speaker={right / total:.3f} best={best_right / total:.3f} segments={total} wrong={WRONG[0]}")
    if args.findings:
        sys.path.insert(0, str(SHARED / "eval"))
        import score  # noqa: E402  (the official scorer)

        summary, _ = score.score(str(args.corpus), str(out))
        fields = {k: v["f1"] for k, v in summary.items() if isinstance(v, dict)}
        print("SCORE " + " ".join(f"{k}={v}" for k, v in fields.items()),
              " ".join(f"{k}={summary[k]}" for k in ("owner_named", "owner_self", "due", "answered", "speaker")))


WRONG = [0]  # voices named wrongly, over the whole run


def report(meeting: str, segments: list[Segment], named: list[Segment], gold: list[str | None],
           participants: list[str], uploader: str | None, verbose: bool) -> tuple[int, int]:
    """Print one naming's line; (segments named right, the best a naming of these voices could do)."""
    from pipeline.diarize.assign import is_anonymous

    ok = sum(n.speaker == g for n, g in zip(named, gold, strict=True))
    by_voice: dict[str, Counter] = {}
    for s, g in zip(segments, gold, strict=True):
        by_voice.setdefault(s.speaker, Counter())[g] += 1
    best = sum(c.most_common(1)[0][1] for c in by_voice.values())
    mapping = {s.speaker: n.speaker for s, n in zip(segments, named, strict=True)}
    unnamed = sum(is_anonymous(v) for v in mapping.values())
    wrong = [f"{v}->{mapping[v]} (is {c.most_common(1)[0][0]})" for v, c in by_voice.items()
             if mapping[v] != c.most_common(1)[0][0] and not is_anonymous(mapping[v])]
    WRONG[0] += len(wrong)
    who = f" uploader={uploader}" if uploader else ""
    print(f"{meeting:34} speaker={ok / len(segments):.3f} best={best / len(segments):.3f} "
          f"voices={len(by_voice)}/{len(participants)} unnamed={unnamed} wrong={', '.join(wrong) or '-'}{who}")
    if verbose:
        for v, c in by_voice.items():
            print(f"    {v}: {mapping[v]:10} truth {dict(c)}")
    return ok, best


def write_result(segments: list[Segment], script: dict, dest: Path) -> None:
    """The findings over the named transcript, as `onno process` would give them."""
    from pipeline.run import Transcript, analyse
    from pipeline.types import MeetingInfo, Ticket

    info = MeetingInfo(title=script["title"], type=script["type"], date=dt.date.fromisoformat(script["date"]),
                       participants=[p["name"] for p in script["participants"]], language="en")
    board = [Ticket(**t) for t in script.get("board_before", [])]
    duration = max(s.end for s in segments)
    result = analyse(Transcript(segments, duration, "audio", "en"), info, board)
    dest.write_text(json.dumps(result.to_dict(), indent=1))


if __name__ == "__main__":
    main()
