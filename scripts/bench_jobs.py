#!/usr/bin/env python3
"""Job throughput and recovery: corpus recordings through real workers on PostgreSQL and a private Redis.

Reports audio hours processed per wall-clock hour with one worker process and with two (ONNO_WORKERS=2), the queue latency
from submit to start, and a crash experiment: a worker SIGKILLed mid-run, another started, with counts of
jobs done, deliveries and repeated deliveries. Needs PostgreSQL on 127.0.0.1 and redis-server installed.

    .venv/bin/python scripts/bench_jobs.py [--limit 8] [--corpus ../shared/corpus/dev]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from tests.jobs.conftest import RedisServer, wait_for  # noqa: E402

ONNO = [sys.executable, "-c", "from onno.cli import main; main()"]  # this checkout's CLI
ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class Receiver:
    """Counts webhook deliveries by key."""

    def __init__(self):
        self.keys: Counter = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.keys[self.headers.get("X-Onno-Delivery")] += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Run:
    """One experiment: a fresh database, a private Redis, N workers."""

    def __init__(self, name: str, tmp: Path, threads: int):
        self.db = f"onno_bench_{name}_{os.getpid()}"
        admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{self.db}"'))
        self.redis = RedisServer(tmp)
        self.redis.start()
        self.receiver = Receiver()
        self.tmp = tmp
        self.env = {**os.environ, "ONNO_DATA_DIR": str(tmp / "data"), "ONNO_BROKER_URL": self.redis.url,
                    "ONNO_DATABASE_URL": ADMIN.rsplit("/", 1)[0] + "/" + self.db,
                    "ONNO_WHISPER_THREADS": str(threads)}
        self.workers: list[subprocess.Popen] = []

    def start_worker(self, processes: int = 1) -> subprocess.Popen:
        """`onno worker` with ONNO_WORKERS=processes, its own model and cores/processes threads in each."""
        log = self.tmp / f"worker-{len(self.workers)}.log"
        env = {**self.env, "ONNO_WORKERS": str(processes)}
        proc = subprocess.Popen([*ONNO, "worker"], env=env, cwd=ROOT,
                                start_new_session=True, stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.workers.append(proc)
        wait_for(lambda: log.read_text().count("ready.") >= processes, 120, "a worker")
        return proc

    def submit(self, f: Path, corpus: Path) -> str:
        script = json.loads((corpus / (f.stem + ".json")).read_text())
        out = subprocess.run([*ONNO, "submit", str(f), "--type", script["type"], "--date", script["date"],
                              "--deliver", f"webhook:{self.receiver.url}"], env=self.env, cwd=ROOT, capture_output=True,
                             text=True, check=True)
        return out.stdout.strip().splitlines()[-1]

    def jobs(self) -> list[dict]:
        out = subprocess.run([*ONNO, "jobs", "list", "--format", "json", "--limit", "1000"], env=self.env, cwd=ROOT,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    def all_delivered(self, n: int) -> list[dict] | None:
        jobs = self.jobs()
        done = [j for j in jobs if j["status"] in ("done", "failed")
                and all(d["status"] in ("delivered", "failed") for d in j["deliveries"])]
        return jobs if len(done) == n else None

    def close(self) -> None:
        for p in self.workers:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.workers:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
        self.redis.stop()
        self.receiver.server.shutdown()
        admin = create_engine(ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)'))


def ts(value: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(value).timestamp()


def throughput(files: list[Path], corpus: Path, audio: float, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Run(f"w{workers}", Path(tmp), threads=0)  # 0: `onno worker` shares the cores out itself
        try:
            run.start_worker(workers)
            t0 = time.time()
            for f in files:
                run.submit(f, corpus)
            jobs = wait_for(lambda: run.all_delivered(len(files)), 3600, "all jobs", every=1)
            wall = max(ts(j["finished_at"]) for j in jobs) - t0
            waits = sorted(ts(j["started_at"]) - ts(j["created_at"]) for j in jobs)
            failed = sum(j["status"] == "failed" for j in jobs)
            print(f"workers={workers}: {len(files)} jobs, {audio / 3600:.2f} h audio in {wall:.0f} s: "
                  f"{audio / wall:.1f} audio hours per wall hour; queue latency median {statistics.median(waits):.1f} s "
                  f"(first {waits[0]:.1f} s, max {waits[-1]:.1f} s); failed {failed}; "
                  f"deliveries {sum(run.receiver.keys.values())}", flush=True)
        finally:
            run.close()


def crash(files: list[Path], corpus: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run = Run("crash", Path(tmp), threads=os.cpu_count() or 2)
        try:
            first = run.start_worker()
            ids = [run.submit(f, corpus) for f in files]
            wait_for(lambda: any(j["status"] == "running" and j["step"] == "transcribe" for j in run.jobs()), 600,
                     "a transcription under way", every=0.2)
            time.sleep(4)  # into the middle of it
            before = Counter(j["status"] for j in run.jobs())
            os.killpg(first.pid, signal.SIGKILL)
            t_kill = time.time()
            time.sleep(5)
            t_restart = time.time()
            run.start_worker()
            jobs = wait_for(lambda: run.all_delivered(len(ids)), 3600, "all jobs after the crash", every=1)
            resumed = min((ts(j["finished_at"]) for j in jobs if ts(j["finished_at"]) > t_kill), default=t_kill)
            keys = run.receiver.keys
            print(f"crash: killed worker 1 with SIGKILL at {dict(before)}; worker 2 started 5 s later; "
                  f"first job finished {resumed - t_restart:.0f} s after the restart, all {len(jobs)} done "
                  f"{max(ts(j['finished_at']) for j in jobs) - t_restart:.0f} s after it; "
                  f"done {sum(j['status'] == 'done' for j in jobs)}, failed {sum(j['status'] == 'failed' for j in jobs)}, "
                  f"interrupted {before.get('running', 0)}; deliveries {sum(keys.values())} for "
                  f"{len(keys)} keys, repeats {sum(n - 1 for n in keys.values())}", flush=True)
        finally:
            run.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus" / "dev"))
    p.add_argument("--limit", type=int, default=8)
    p.add_argument("--only", choices=("1", "2", "crash"), action="append")
    a = p.parse_args()
    corpus = Path(a.corpus)
    files = sorted(corpus.glob("*.ogg"))[: a.limit]
    audio = sum(json.loads((corpus / (f.stem + ".timing.json")).read_text())["duration"] for f in files)
    only = a.only or ["1", "2", "crash"]
    if "1" in only:
        throughput(files, corpus, audio, 1)
    if "2" in only:
        throughput(files, corpus, audio, 2)
    if "crash" in only:
        crash(files, corpus)


if __name__ == "__main__":
    main()
