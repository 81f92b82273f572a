"""Job fixtures: a webhook receiver, a private Redis we may restart, and real `onno worker` processes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from integrations.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, verify
from onno.service import App
from onno.settings import Settings

SECRET = "test-webhook-secret"
ONNO = Path(sys.executable).with_name("onno")


def wait_for(condition, timeout: float, what: str, every: float = 0.2):
    """Poll until `condition()` is truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebhookReceiver:
    """A customer's webhook endpoint: records each request, checks its signature, answers as scripted."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []  # statuses to give, in order; 200 once they run out
        self.delay = 0.0  # seconds to think before answering: a slow endpoint
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(receiver.delay)
                with receiver.lock:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.requests.append({
                        "path": self.path, "body": json.loads(body), "key": self.headers.get(DELIVERY_HEADER),
                        "signed": verify(body, SECRET, self.headers.get(SIGNATURE_HEADER, "")),
                        "content_type": self.headers.get("Content-Type"), "status": status})
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "0")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/onno"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def accepted(self) -> list[dict]:
        with self.lock:
            return [r for r in self.requests if 200 <= r["status"] < 300]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.close()


class RedisServer:
    """A private redis-server on a free port, like the machine's (nothing kept on disk), that tests may restart."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.ping, 10, "redis-server to start")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def redis_server(tmp_path):
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is not installed; `make test` installs it (scripts/ensure_services.sh)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class Cluster:
    """Worker processes and the shared settings for one test: PostgreSQL, a private Redis, short leases."""

    def __init__(self, tmp_path: Path, database_url: str, broker_url: str):
        self.env = {**os.environ, "ONNO_DATA_DIR": str(tmp_path / "data"), "ONNO_DATABASE_URL": database_url,
                    "ONNO_BROKER_URL": broker_url, "ONNO_WEBHOOK_SECRET": SECRET,
                    # Short leases and sweeps so a test sees recovery in seconds; production uses 30 s / 10 s.
                    "ONNO_JOB_LEASE_SECONDS": "6", "ONNO_SWEEP_INTERVAL": "1", "ONNO_REQUEUE_AFTER": "6",
                    "ONNO_DELIVERY_BACKOFF": "0.5"}
        self.logs = tmp_path
        self.workers: list[subprocess.Popen] = []
        self.app = App(Settings(data_dir=tmp_path / "data", database_url=database_url, broker_url=broker_url,
                                webhook_secret=SECRET))

    def start_worker(self) -> subprocess.Popen:
        """Start `onno worker` in its own process group and wait until it takes work."""
        log = self.logs / f"worker-{len(self.workers)}.log"
        proc = subprocess.Popen([str(ONNO), "worker", "--loglevel", "INFO"], env=self.env, start_new_session=True,
                                stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.workers.append(proc)
        wait_for(lambda: "ready." in log.read_text() or proc.poll() is not None, 60, "the worker to be ready")
        assert proc.poll() is None, log.read_text()[-3000:]
        return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and everything it started: no clean-up, no acknowledgement."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def submit(self, source: Path, *args: str) -> str:
        out = subprocess.run([str(ONNO), "submit", str(source), *args], env=self.env, capture_output=True,
                             text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip().splitlines()[-1]

    def job(self, job_id: str) -> dict:
        from onno.jobs import job_dict
        from storage import jobs as jobs_repo

        with self.app.session() as s:
            return job_dict(jobs_repo.get_job(s, job_id))

    def meetings(self) -> int:
        from sqlalchemy import func, select

        from storage.models import Meeting

        with self.app.session() as s:
            return s.scalar(select(func.count()).select_from(Meeting))

    def log_tail(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in sorted(self.logs.glob("worker-*.log")))

    def close(self) -> None:
        for proc in self.workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.workers:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.app.engine.dispose()


@pytest.fixture
def cluster(tmp_path, postgres_url, redis_server):
    c = Cluster(tmp_path, postgres_url, redis_server.url)
    yield c
    c.close()
