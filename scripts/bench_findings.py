#!/usr/bin/env python3
"""Speed of the local findings engine: batch time per meeting-hour, and per-utterance latency of the live engine.

    .venv/bin/python scripts/bench_findings.py [CORPUS_DIR] [--repeat N]

Reads the corpus's exported transcripts (.vtt, no speech recognition involved). Batch: extract_findings on each
meeting (best of N runs), reported as seconds of engine time per hour of meeting. Live: every segment fed to
LiveFindings.add one at a time, latency median / p95 / max. Then the same on one long meeting (the corpus's
meetings one after another, about an hour) to show that an utterance's cost does not grow with the meeting.
A development tool: measures, asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.findings import extract_findings  # noqa: E402
from pipeline.findings.live import LiveFindings  # noqa: E402
from pipeline.transcripts import read_transcript  # noqa: E402
from pipeline.types import MeetingInfo, Segment, Ticket  # noqa: E402


def load(corpus: Path) -> list[tuple[str, list[Segment], MeetingInfo, list[Ticket], float]]:
    meetings = []
    for vtt in sorted(corpus.glob("*.vtt")):
        script = json.loads(vtt.with_suffix(".json").read_text())
        segments = read_transcript(vtt)
        info = MeetingInfo(title=script["title"], type=script["type"], date=dt.date.fromisoformat(script["date"]),
                           participants=[p["name"] for p in script["participants"]])
        board = [Ticket(**t) for t in script.get("board_before", [])]
        timing = vtt.with_suffix(".timing.json")
        duration = json.loads(timing.read_text())["duration"] if timing.exists() else max(s.end for s in segments)
        meetings.append((vtt.stem, segments, info, board, duration))
    return meetings


def batch_seconds(segments: list[Segment], info: MeetingInfo, board: list[Ticket], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        began = time.perf_counter()
        extract_findings(segments, info, board)
        best = min(best, time.perf_counter() - began)
    return best


def live_latencies(segments: list[Segment], info: MeetingInfo, board: list[Ticket]) -> list[float]:
    live = LiveFindings(info, board)
    out = []
    for seg in segments:
        began = time.perf_counter()
        live.add(seg)
        out.append(time.perf_counter() - began)
    return out


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def describe(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"median {ms(statistics.median(ordered))}, p95 {ms(p95)}, max {ms(ordered[-1])} ({len(ordered)} utterances)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus" / "dev"))
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    meetings = load(Path(a.corpus))
    if not meetings:
        sys.exit(f"no .vtt transcripts in {a.corpus}")
    # Warm up: compile the detectors' patterns once, as a running service would have.
    extract_findings(meetings[0][1], meetings[0][2], meetings[0][3])

    total_batch = total_audio = 0.0
    all_latencies: list[float] = []
    for name, segments, info, board, duration in meetings:
        took = batch_seconds(segments, info, board, a.repeat)
        lat = live_latencies(segments, info, board)
        total_batch += took
        total_audio += duration
        all_latencies += lat
        print(f"{name}: {duration:.0f} s, {len(segments)} utterances; batch {ms(took)}; live {describe(lat)}")
    print(f"BATCH {total_batch / total_audio * 3600:.3f} s of engine time per meeting-hour "
          f"({ms(total_batch)} for {total_audio:.0f} s of meetings)")
    print(f"LIVE {describe(all_latencies)}")

    # One long meeting: the corpus's meetings back to back, same people and board as the first.
    _, _, info, board, _ = meetings[0]
    long: list[Segment] = []
    offset = 0.0
    while offset < 3600:
        for _, segments, _, _, duration in meetings:
            long += [Segment(s.start + offset, s.end + offset, s.text, s.speaker) for s in segments]
            offset += duration
    people = sorted({s.speaker for s in long if s.speaker})
    info = MeetingInfo(title="long", type=info.type, date=info.date, participants=people)
    took = batch_seconds(long, info, board, max(1, a.repeat // 2))
    lat = live_latencies(long, info, board)
    tenth = max(1, len(lat) // 10)
    print(f"LONG {offset / 60:.0f} min, {len(long)} utterances: batch {took:.3f} s "
          f"({took / offset * 3600:.3f} s per meeting-hour); live {describe(lat)}; "
          f"first tenth median {ms(statistics.median(lat[:tenth]))}, last tenth median "
          f"{ms(statistics.median(lat[-tenth:]))}")


if __name__ == "__main__":
    main()
