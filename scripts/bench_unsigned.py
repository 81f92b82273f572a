"""Unsigned-request cost on `onno web`: time to the 401 for a 4.9 MB unsigned body on /slack/events, and
/healthz latency while such bodies arrive 4 at a time.

    .venv/bin/python scripts/bench_unsigned.py [--posts 20] [--parallel 4] [--mb 4.9]

Starts `onno -v web` as its own process (Slack routes configured, as in production; nothing is signed) and
prints, besides the figures, how many bytes of log it wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))



class Server:
    def __init__(self, proc: subprocess.Popen, url: str):
        self.proc, self.url = proc, url


def start(tmp: Path) -> Server:
    """`onno -v web` on a free port, configured for one Slack workspace."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "ONNO_DATA_DIR": str(tmp / "data"), "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyy",
           "SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_API_URL": "http://127.0.0.1:9/api/",
           "ONNO_SECRET_KEY": "bench-secret-key-of-enough-length-0123"}
    env["PYTHONPATH"] = str(ROOT)  # this checkout's code, whichever checkout the script is in
    cmd = [sys.executable, "-c", "from onno.cli import main; main()", "-v", "web", "--host", "127.0.0.1",
           "--port", str(port)]
    proc = subprocess.Popen(cmd,
                            env=env, stdout=(tmp / "log").open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/healthz", timeout=1)
            return Server(proc, url)
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("onno web did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=20)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--mb", type=float, default=4.9)
    args = ap.parse_args()
    # Many small objects: as costly to parse as its size allows (each item is 20 bytes of JSON).
    payload = json.dumps({"type": "event_callback", "event": {"items": [{"k": "v", "n": 1}] * int(
        args.mb * 1e6 / 20 - 5)}}).encode()
    with tempfile.TemporaryDirectory() as tmp:
        server = start(Path(tmp))
        headers = {"Content-Type": "application/json"}
        with httpx.Client(base_url=server.url, timeout=120) as c:
            single = []
            for _ in range(3):
                t = time.perf_counter()
                r = c.post("/slack/events", content=payload, headers=headers)
                single.append(time.perf_counter() - t)
            print(f"body {len(payload) / 1e6:.2f} MB, unsigned → {r.status_code}; time to answer "
                  f"median {statistics.median(single) * 1000:.0f} ms")
        stop = threading.Event()
        health: list[float] = []

        def poll() -> None:
            with httpx.Client(base_url=server.url, timeout=120) as c:
                while not stop.is_set():
                    t = time.perf_counter()
                    c.get("/healthz")
                    health.append(time.perf_counter() - t)
                    time.sleep(0.05)

        def flood(_i: int) -> int:
            with httpx.Client(base_url=server.url, timeout=120) as c:
                return c.post("/slack/events", content=payload, headers=headers).status_code

        with httpx.Client(base_url=server.url, timeout=120) as c:  # idle baseline
            idle = []
            for _ in range(10):
                t = time.perf_counter()
                c.get("/healthz")
                idle.append(time.perf_counter() - t)
        poller = threading.Thread(target=poll)
        poller.start()
        t = time.perf_counter()
        with ThreadPoolExecutor(args.parallel) as pool:
            codes = list(pool.map(flood, range(args.posts)))
        wall = time.perf_counter() - t
        stop.set()
        poller.join()
        server.proc.terminate()
        server.proc.wait(10)
        logged = (Path(tmp) / "log").stat().st_size
    print(f"{args.posts} unsigned posts, {args.parallel} at a time: {wall:.1f} s, answers {sorted(set(codes))}")
    print(f"/healthz idle median {statistics.median(idle) * 1000:.1f} ms; under the flood median "
          f"{statistics.median(health) * 1000:.0f} ms, max {max(health) * 1000:.0f} ms ({len(health)} polls)")
    print(f"log written by onno -v: {logged / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
