#!/usr/bin/env python3
"""Notion delivery: time to put a meeting with 20 action items on a board within the rate limit, and retries.

Runs the real code (job runner, outbox, notion-client, the token bucket at the default 3 requests/s) against
the local fake of Notion's API from the tests, which checks every request and logs when it came. Reports:

- one meeting, 20 action items and 2 ticket moves on a board of 116 cards: wall time of the job and of its
  Notion delivery, requests (of the job, of the delivery, and reads before the first write), the most requests
  seen in any one-second window, and cards created;
- a second meeting on the same board (now 136 cards): the requests again, and how many cards were read;
- the same delivery sent again (a lost receipt): requests and cards created (duplicates);
- a create whose answer is lost (connection dropped) at the 10th card: attempts and duplicates;
- three 429 answers with Retry-After: 1 during the creates: time added and duplicates;
- two meetings delivered at once from two threads on one integration token (the process's bucket);
- two meetings delivered at once by two worker processes sharing a Redis broker (the bucket kept in Redis).

    .venv/bin/python scripts/bench_notion.py [--items 20] [--board 116] [--rate 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from integrations.notion import service  # noqa: E402
from onno.service import App  # noqa: E402
from onno.settings import Settings  # noqa: E402
from pipeline.types import MeetingInfo  # noqa: E402
from storage import repository as repo  # noqa: E402
from storage.models import Delivery, Job, utcnow  # noqa: E402
from tests.integrations.notion_fake import FakeNotion, NotionServer  # noqa: E402

PEOPLE = ["Maya", "Daniel", "Lena", "Omar"]
TASKS = ["update the pricing page", "write the release notes", "fix the flaky checkout test",
         "review the onboarding copy", "send the invoice reminders", "draft the Q3 roadmap",
         "set up the staging database", "migrate the billing webhooks", "clean up the feature flags",
         "book the customer interviews", "prepare the board deck", "rotate the API keys",
         "document the deploy process", "triage the support backlog", "benchmark the search service",
         "redesign the settings page", "audit the analytics events", "renew the SSL certificates",
         "archive the old dashboards", "test the mobile login flow"]
DAYS = ["Friday", "Monday", "Wednesday", "tomorrow", "Thursday"]


def transcript(path: Path, items: int, tag: str = "") -> Path:
    lines, t = [], 1
    for i in range(items):
        task = TASKS[i % len(TASKS)] + (f" {tag}{i // len(TASKS) + 1}" if i >= len(TASKS) or tag else "")
        lines.append(f"[{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}] {PEOPLE[i % 4]}: I will {task} by {DAYS[i % 5]}.")
        t += 7
    lines.append(f"[{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60:02d}] Maya: Saved payment cards is finished and merged.")
    lines.append(f"[{t // 3600:02d}:{t // 60 % 60:02d}:{t % 60 + 5:02d}] Lena: Checkout error tracking is underway.")
    path.write_text("\n".join(lines) + "\n")
    return path


def info(title: str) -> MeetingInfo:
    return MeetingInfo(title=title, type="standup", date=dt.date(2026, 11, 16), participants=PEOPLE)


def max_per_second(times: list[float]) -> int:
    """The most requests arriving within any one second (arrival jitter can put a 4th at a window's edge)."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


class Bench:
    def __init__(self, tmp: Path, rate: float, board: int = 116):
        self.server = NotionServer(FakeNotion())
        self.fake = self.server.state
        self.token = self.fake.add_token("ntn_bench_" + str(time.time_ns()))
        for name in ("Maya Cohen", "Daniel Ruiz", "Omar Haddad"):
            self.fake.add_user(name)
        self.db, self.ds = self.fake.add_board()
        for title, status in [("Saved payment cards", "In progress"), ("Checkout error tracking", "Not started")]:
            self.fake.add_card(self.ds, title, status)
        for i in range(board - 2):  # the rest of a team's board: cards nobody's meeting touches
            self.fake.add_card(self.ds, f"Board card {i + 1}", ("Not started", "In progress", "Done")[i % 3])
        self.fake.backdate(dt.timedelta(days=1))  # made and last edited yesterday
        self.tmp = tmp
        self.app = App(Settings(data_dir=tmp / "data", database_url=f"sqlite:///{tmp / 'onno.db'}",
                                secret_key="bench-secret-key-0123456789", notion_api_url=self.server.url, notion_rate=rate,
                                delivery_backoff=0.2, inline_retry_wait=60))
        with self.app.session() as s:
            ws_id = repo.get_or_create_workspace(s).id
        service.connect(self.app, ws_id, token=self.token, database=self.db)

    def action_cards(self) -> list[dict]:
        return [p for p in self.fake.cards(self.ds) if self.fake.value(p, "Onno ID")]

    def duplicates(self) -> int:
        ids = [self.fake.value(p, "Onno ID") for p in self.action_cards()]
        return len(ids) - len(set(ids))

    def run_job(self, items: int, title: str, tag: str = "") -> dict:
        src = transcript(self.tmp / f"{title}.txt", items, tag)
        first = len(self.fake.requests)
        started = time.monotonic()
        job_id = self.app.runner.submit(src, info(title), targets=["notion"])
        wall = time.monotonic() - started
        return self.report(job_id, first, wall)

    def report(self, job_id: str, first: int, wall: float) -> dict:
        reqs = self.fake.requests[first:]
        # The delivery starts with its schema read after the extract step's pull.
        reads = [i for i, r in enumerate(reqs) if r["method"] == "GET" and "/data_sources/" in r["path"]]
        delivery = reqs[reads[-1]:] if reads else reqs
        with self.app.session() as s:
            d = s.scalar(select(Delivery).where(Delivery.job_id == job_id))
            status, attempts = d.status, d.attempts
        writes = [i for i, r in enumerate(reqs) if r["method"] in ("POST", "PATCH") and not r["path"].endswith("/query")]
        return {"job_wall_s": round(wall, 2),
                "delivery_s": round(delivery[-1]["t"] - delivery[0]["t"], 2) if delivery else 0.0,
                "requests": len(reqs), "delivery_requests": len(delivery),
                "reads_before_first_write": writes[0] if writes else len(reqs),
                "queries": sum(1 for r in reqs if r["path"].endswith("/query")),
                "cards_read": sum(r.get("results", 0) for r in reqs if r["path"].endswith("/query")),
                "cards_written": len(writes),
                "creates": sum(1 for r in reqs if r["method"] == "POST" and r["path"] == "/v1/pages"),
                "max_requests_in_1s": max_per_second([r["t"] for r in reqs]),
                # requests after the first, over the time from the first to the last
                "mean_rate_per_s": round((len(reqs) - 1) / max(1e-9, reqs[-1]["t"] - reqs[0]["t"]), 2)
                if len(reqs) > 1 else 0.0,
                "status_429": sum(1 for r in reqs if r["status"] in (429, 529)),
                "delivery": status, "attempts": attempts, "cards_total": len(self.action_cards()),
                "duplicates": self.duplicates(), "violations": len(self.fake.violations)}

    def redeliver(self, job_id: str) -> dict:
        with self.app.session() as s:
            d = s.scalar(select(Delivery).where(Delivery.job_id == job_id))
            d.status, d.next_attempt_at, delivery_id = "pending", utcnow(), d.id
        first, before = len(self.fake.requests), len(self.action_cards())
        started = time.monotonic()
        self.app.runner.deliver(delivery_id)
        out = self.report(job_id, first, time.monotonic() - started)
        out["cards_created"] = len(self.action_cards()) - before
        return out

    def last_job(self) -> str:
        with self.app.session() as s:
            return s.scalar(select(Job.id).order_by(Job.created_at.desc()).limit(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=20)
    ap.add_argument("--board", type=int, default=116, help="cards on the board before the first meeting (>= 2)")
    ap.add_argument("--rate", type=float, default=3.0, help="requests per second per token (Notion: about 3)")
    args = ap.parse_args()
    out: dict = {"rate_limit_per_s": args.rate, "items": args.items, "board_cards": args.board}
    with tempfile.TemporaryDirectory(prefix="onno-bench-notion-") as tmp:
        b = Bench(Path(tmp), args.rate, args.board)
        out["sync_meeting"] = b.run_job(args.items, "Standup 1")
        out["retried_delivery"] = b.redeliver(b.last_job())
        out["second_meeting"] = b.run_job(args.items, "Standup 1b", tag="s")
        b.fake.drop_after_create = 0
        # A create done in Notion whose answer is lost, at the 10th card.
        lost = threading.Thread(target=lambda: _drop_at(b.fake, 10), daemon=True)
        lost.start()
        out["lost_answer_at_card_10"] = b.run_job(args.items, "Standup 2", tag="b")
        b.fake.fail("POST", "^/v1/pages$", 429, retry_after=1, times=3)
        out["three_429s"] = b.run_job(args.items, "Standup 3", tag="c")
        out["two_meetings_at_once"] = _concurrent(b, args.items)
        out["two_worker_processes"] = _two_processes(b, args.items)
        b.app.engine.dispose()
        b.server.close()
    print(json.dumps(out, indent=2))


def _drop_at(fake: FakeNotion, n: int) -> None:
    """Arm `drop_after_create` just before the n-th create of the next meeting."""
    base = len(fake.calls("POST", "^/v1/pages$"))
    while len(fake.calls("POST", "^/v1/pages$")) < base + n - 1:
        time.sleep(0.01)
    fake.drop_after_create = 1


def _concurrent(b: Bench, items: int) -> dict:
    """Two meetings' deliveries in two threads: the bucket is shared, so the token's rate holds."""
    first = len(b.fake.requests)
    before = len(b.action_cards())
    started = time.monotonic()
    threads = [threading.Thread(target=b.run_job, args=(items, f"Parallel {i}", f"p{i}")) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    reqs = b.fake.requests[first:]
    return {"wall_s": round(time.monotonic() - started, 2), "requests": len(reqs),
            "mean_rate_per_s": round((len(reqs) - 1) / max(1e-9, reqs[-1]["t"] - reqs[0]["t"]), 2),
            "max_requests_in_1s": max_per_second([r["t"] for r in reqs]),
            "cards_created": len(b.action_cards()) - before, "duplicates": b.duplicates(),
            "violations": len(b.fake.violations)}


DELIVER = """
import sys
from onno.service import App
App().runner.deliver(int(sys.argv[1]))
"""


def _two_processes(b: Bench, items: int) -> dict:
    """Two meetings' deliveries sent at the same moment by two processes with a Redis broker: one schedule."""
    import os
    import subprocess

    from tests.jobs.conftest import RedisServer

    ids = []
    for i in range(2):  # held for review, so the deliveries wait until both processes are ready
        src = transcript(b.tmp / f"proc{i}.txt", items, f"w{i}")
        job_id = b.app.runner.submit(src, info(f"Worker {i}"), targets=["notion"], review_first=True)
        with b.app.session() as s:
            d = s.scalar(select(Delivery).where(Delivery.job_id == job_id))
            d.status, d.next_attempt_at = "pending", utcnow()
            ids.append(d.id)
    redis = RedisServer(b.tmp)
    redis.start()
    env = {**os.environ, "ONNO_DATA_DIR": str(b.tmp / "data"), "ONNO_DATABASE_URL": f"sqlite:///{b.tmp / 'onno.db'}",
           "ONNO_SECRET_KEY": "bench-secret-key-0123456789", "NOTION_API_URL": b.server.url, "ONNO_BROKER_URL": redis.url,
           "ONNO_NOTION_RATE": str(b.app.settings.notion_rate), "PYTHONPATH": str(ROOT)}
    first, before = len(b.fake.requests), len(b.action_cards())
    started = time.monotonic()
    procs = [subprocess.Popen([sys.executable, "-c", DELIVER, str(i)], env=env) for i in ids]
    for p in procs:
        p.wait()
    wall = time.monotonic() - started
    redis.stop()
    reqs = b.fake.requests[first:]
    return {"wall_s": round(wall, 2), "requests": len(reqs),
            "mean_rate_per_s": round((len(reqs) - 1) / max(1e-9, reqs[-1]["t"] - reqs[0]["t"]), 2),
            "max_requests_in_1s": max_per_second([r["t"] for r in reqs]),
            "status_429": sum(1 for r in reqs if r["status"] in (429, 529)),
            "cards_created": len(b.action_cards()) - before, "duplicates": b.duplicates(),
            "violations": len(b.fake.violations)}


if __name__ == "__main__":
    main()
