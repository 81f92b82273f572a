"""Slack app benchmark: ack times of a burst of signed events and commands, and file_shared → thread reply.

    .venv/bin/python scripts/bench_slack.py [--burst 300] [--concurrency 32] [--meeting ../shared/corpus/dev/X.ogg]

Runs `onno web` for real (aiohttp, Bolt, SQLite, jobs in-process) against the local fake of Slack's Web API the
tests use; every request is signed with the signing secret. Prints p50/p99/max acknowledgement times per kind,
then the time from the file_shared event to the finished thread reply for one corpus meeting.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from onno.service import App  # noqa: E402
from tests.bots.conftest import T1, TOKEN1, SlackServer, slack_settings  # noqa: E402
from tests.bots.slack_fake import FakeSlack, member  # noqa: E402
from tests.media import CORPUS  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--burst", type=int, default=300)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--meeting", type=Path, default=CORPUS / "dev-01-platform-standup.ogg")
    args = ap.parse_args()

    fake = FakeSlack()
    fake.add_team(T1, TOKEN1, ["C0000GEN1"], [member("U_MAYA", "Maya Chen"), member("U_LENA", "Lena Novak")])
    with tempfile.TemporaryDirectory(prefix="onno-bench-slack-") as tmp:
        server = SlackServer(App(slack_settings(Path(tmp), fake, slack_progress_interval=1.0)))
        server.fake_base = fake.base
        try:
            server.command(T1, "help")  # warm up: auth.test, the database, the import of every listener

            kinds = ["event", "command_help", "command_status"]

            def one(i: int) -> tuple[str, float, int]:
                kind = kinds[i % len(kinds)]
                t0 = time.perf_counter()
                if kind == "event":
                    r = server.event(T1, {"type": "message", "user": "U_MAYA", "text": f"hello {i}",
                                          "channel": "C0000GEN1", "ts": f"1700000000.{i:06d}",
                                          "channel_type": "channel"})
                elif kind == "command_help":
                    r = server.command(T1, "help")
                else:
                    r = server.command(T1, "status")
                return kind, time.perf_counter() - t0, r.status_code

            t0 = time.perf_counter()
            with ThreadPoolExecutor(args.concurrency) as pool:
                results = list(pool.map(one, range(args.burst)))
            wall = time.perf_counter() - t0
            server.drain()
            bad = [r for r in results if r[2] != 200]
            print(f"burst: {args.burst} signed requests, {args.concurrency} at a time, {wall:.2f} s wall, "
                  f"{len(bad)} not 200")
            for kind in [*kinds, "all"]:
                times = [r[1] * 1000 for r in results if kind == "all" or r[0] == kind]
                print(f"  ack {kind:15s} n={len(times):4d}  p50 {statistics.median(times):7.1f} ms  "
                      f"p99 {pct(times, 99):7.1f} ms  max {max(times):7.1f} ms")

            # One corpus meeting, from the file_shared event to the finished thread reply.
            data = args.meeting.read_bytes()
            fake.add_file(T1, "F0BENCH001", args.meeting.name, data, channel="C0000GEN1",
                          share_ts="1763900000.000900")
            t0 = time.perf_counter()
            r = server.event(T1, {"type": "file_shared", "file_id": "F0BENCH001", "user_id": "U_MAYA",
                                  "channel_id": "C0000GEN1", "file": {"id": "F0BENCH001"},
                                  "event_ts": "1763900000.000900"})
            ack = time.perf_counter() - t0
            while True:
                replies = [c for c in fake.calls_to("chat.postMessage") if c["args"].get("blocks")]
                if replies:
                    break
                if time.perf_counter() - t0 > 900:
                    raise SystemExit("no thread reply after 15 minutes")
                time.sleep(0.05)
            total = time.perf_counter() - t0
            server.drain()
            from pipeline.decode import SAMPLE_RATE, decode_audio

            seconds = len(decode_audio(args.meeting)) / SAMPLE_RATE
            updates = [c["args"]["text"] for c in fake.calls_to("chat.update")]
            print(f"meeting: {args.meeting.name} ({seconds:.0f} s of audio, {len(data) / 1e6:.1f} MB): "
                  f"ack {ack * 1000:.1f} ms (HTTP {r.status_code}); thread reply after {total:.1f} s "
                  f"(real-time factor {total / seconds:.3f}); {len(updates)} progress edits, "
                  f"{len(json.loads(json.dumps(replies[0]['args']['blocks'])))} blocks")
            if fake.problems:
                print("malformed calls:", fake.problems)
        finally:
            server.close()
            fake.close()


if __name__ == "__main__":
    main()
