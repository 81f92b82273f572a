"""Jobs with no broker: the embedded default runs every step in-process, through the worker's code."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from onno.cli import main
from onno.service import App
from onno.settings import Settings
from onno.sweeper import sweep_once
from pipeline.types import MeetingInfo
from storage import jobs as jobs_repo
from storage.models import Delivery, Job, Recording, utcnow
from tests import media
from tests.jobs.conftest import SECRET

VTT = media.CORPUS / "dev-01-platform-standup.vtt"


@pytest.fixture
def app(tmp_path, database_url):
    a = App(Settings(data_dir=tmp_path / "data", database_url=database_url, webhook_secret=SECRET,
                     delivery_backoff=0.05, inline_retry_wait=5))
    yield a
    a.engine.dispose()


@pytest.fixture
def cli(tmp_path, database_url, monkeypatch):
    monkeypatch.setenv("ONNO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ONNO_DATABASE_URL", database_url)
    monkeypatch.setenv("ONNO_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("ONNO_BROKER_URL", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args), catch_exceptions=False)


def info(title: str = "Standup") -> MeetingInfo:
    return MeetingInfo(title=title, type="standup", date=dt.date(2026, 11, 16), participants=[])


def job_row(app: App, job_id: str) -> dict:
    from onno.jobs import job_dict

    with app.session() as s:
        return job_dict(jobs_repo.get_job(s, job_id))


def test_submit_runs_the_job_and_delivers_a_signed_webhook(app, receiver, tmp_path):
    job_id = app.runner.submit(media.SAMPLE, info(), targets=[f"webhook:{receiver.url}"])
    job = job_row(app, job_id)
    assert (job["status"], job["step"], job["error"]) == ("done", "extract", None)
    assert job["meeting_id"] and job["started_at"] and job["finished_at"]
    [sent] = receiver.requests
    assert sent["signed"] and sent["content_type"] == "application/json"
    assert sent["key"] == job["deliveries"][0]["key"] == sent["body"]["delivery"]
    assert sent["body"]["job_id"] == job_id and sent["body"]["meeting_id"] == job["meeting_id"]
    assert sent["body"]["result"]["transcript"] and "action_items" in sent["body"]["result"]
    assert job["deliveries"][0]["status"] == "delivered"


def test_transient_failures_are_retried_with_the_same_key_until_delivered(app, receiver):
    receiver.answers = [503, 429]
    job_id = app.runner.submit(VTT, info(), targets=[f"webhook:{receiver.url}"])
    [delivery] = job_row(app, job_id)["deliveries"]
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert [r["status"] for r in receiver.requests] == [503, 429, 200]
    assert len({r["key"] for r in receiver.requests}) == 1


def test_permanent_rejection_fails_with_the_reason_and_retry_resends(app, receiver):
    receiver.answers = [410]
    job_id = app.runner.submit(VTT, info(), targets=[f"webhook:{receiver.url}"])
    job = job_row(app, job_id)
    assert job["status"] == "done"
    [delivery] = job["deliveries"]
    assert delivery["status"] == "failed" and "HTTP 410" in delivery["error"] and delivery["attempts"] == 1
    app.runner.retry(job_id)
    assert job_row(app, job_id)["deliveries"][0]["status"] == "delivered"
    assert [r["status"] for r in receiver.requests] == [410, 200]


def test_unreachable_receiver_stays_pending_once_the_wait_budget_is_spent(app):
    job_id = app.runner.submit(VTT, info(), targets=["webhook:http://127.0.0.1:9/nothing-listens"])
    [delivery] = job_row(app, job_id)["deliveries"]
    assert delivery["status"] in ("pending", "failed") and "could not connect" in delivery["error"]


def test_onno_web_without_workers_retries_what_is_left_pending(tmp_path, database_url, receiver):
    """No broker, no workers: the long-lived `onno web` process sweeps, so a pending delivery still goes out."""
    import os
    import subprocess
    import sys

    from tests.jobs.conftest import free_port, wait_for

    a = App(Settings(data_dir=tmp_path / "data", database_url=database_url, webhook_secret=SECRET,
                     delivery_backoff=0.05, inline_retry_wait=0.5))
    receiver.answers = [503] * 40  # down for the whole in-process retry budget
    job_id = a.runner.submit(VTT, info(), targets=[f"webhook:{receiver.url}"])
    assert job_row(a, job_id)["deliveries"][0]["status"] == "pending"
    receiver.answers = []  # back up
    env = {**os.environ, "ONNO_DATA_DIR": str(tmp_path / "data"), "ONNO_DATABASE_URL": database_url,
           "ONNO_WEBHOOK_SECRET": SECRET, "ONNO_SWEEP_INTERVAL": "0.5", "ONNO_REQUEUE_AFTER": "0",
           "ONNO_BROKER_URL": ""}
    onno = os.path.join(os.path.dirname(sys.executable), "onno")
    web = subprocess.Popen([onno, "web", "--port", str(free_port())], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: job_row(a, job_id)["deliveries"][0]["status"] == "delivered", 60, "the web's sweeper")
    finally:
        web.terminate()
        web.wait(10)
    assert len(receiver.accepted()) == 1
    a.engine.dispose()


def test_running_a_step_again_changes_nothing(app, receiver):
    job_id = app.runner.submit(VTT, info(), targets=[f"webhook:{receiver.url}"])
    with app.session() as s:
        delivery_id = s.query(Delivery.id).filter_by(job_id=job_id).scalar()
    # A duplicate message for every step, as a broker redelivery or a second enqueue would give.
    app.runner.run("transcribe", job_id)
    app.runner.run("extract", job_id)
    app.runner.run("deliver", delivery_id)
    assert len(receiver.requests) == 1
    with app.session() as s:
        assert s.query(Job).count() == 1 and s.query(Delivery).count() == 1
    from sqlalchemy import func, select

    from storage.models import Meeting
    with app.session() as s:
        assert s.scalar(select(func.count()).select_from(Meeting)) == 1


def test_corrupt_audio_fails_with_a_readable_reason_and_leaves_storage_as_it_was(app, tmp_path):
    bad = tmp_path / "call.ogg"
    bad.write_bytes(media.SAMPLE.read_bytes()[:3000])
    job_id = app.runner.submit(bad, info())
    job = job_row(app, job_id)
    assert job["status"] == "failed" and job["step"] == "transcribe"
    assert "call.ogg is truncated or damaged" in job["error"] and "upload the recording again" in job["error"]
    with app.session() as s:
        assert s.query(Recording).count() == 0  # bad input: neither its row nor its bytes stay
    assert not [p for p in app.settings.resolved_blob_dir.rglob("*") if p.is_file()]
    assert "retrying 1" in app.runner.retry(job_id)
    job = job_row(app, job_id)
    assert job["status"] == "failed" and "Submit the recording again" in job["error"]


def test_sweeper_brings_back_a_job_whose_worker_died(app, receiver):
    """A job claimed by a worker that then vanished: once its lease lapses, the sweeper runs it again."""
    job_id = app.runner.submit(VTT, info(), targets=[f"webhook:{receiver.url}"])
    with app.session() as s:  # rewind the job to mid-transcription under a dead worker's expired lease
        job = s.get(Job, job_id)
        job.status, job.step, job.lease_owner = "running", "transcribe", "dead-worker"
        job.lease_expires_at, job.meeting_id = utcnow() - dt.timedelta(seconds=1), None
        s.query(Delivery).delete()
    counts = sweep_once(app)
    assert counts["requeued"] == 1
    job = job_row(app, job_id)
    assert job["status"] == "done" and job["attempts"] == 1
    assert len(receiver.requests) == 2 and len({r["key"] for r in receiver.requests}) == 1


def test_a_slow_delivery_keeps_its_lease_and_is_not_sent_twice(tmp_path, database_url, receiver):
    """A send that outlasts the lease (many e-mail readers, a slow endpoint) renews it: the sweeper leaves it be."""
    import threading
    import time

    a = App(Settings(data_dir=tmp_path / "data", database_url=database_url, webhook_secret=SECRET,
                     job_lease_seconds=1.5, requeue_after=0, inline_retry_wait=5))
    receiver.delay = 4.0
    stop = threading.Event()

    def sweep_all_the_time():
        while not stop.wait(0.3):
            sweep_once(a)

    sweeper = threading.Thread(target=sweep_all_the_time)
    sweeper.start()
    try:
        job_id = a.runner.submit(VTT, info(), targets=[f"webhook:{receiver.url}"])
    finally:
        stop.set()
        sweeper.join()
    time.sleep(0.5)
    assert len(receiver.requests) == 1
    assert job_row(a, job_id)["deliveries"][0]["status"] == "delivered"
    a.engine.dispose()


def test_sweeper_gives_up_on_a_job_that_keeps_killing_its_worker(app):
    job_id = app.runner.submit(VTT, info())
    with app.session() as s:
        job = s.get(Job, job_id)
        job.status, job.attempts, job.lease_owner = "running", 5, "dead-worker"
        job.lease_expires_at = utcnow() - dt.timedelta(seconds=1)
    assert sweep_once(app)["failed"] == 1
    job = job_row(app, job_id)
    assert job["status"] == "failed" and "gave up after 5 attempts" in job["error"]


def test_cli_submit_prints_the_job_id_last_and_jobs_show_it(cli, receiver):
    out = cli("submit", str(VTT), "--type", "standup", "--deliver", f"webhook:{receiver.url}")
    assert out.exit_code == 0, out.output
    job_id = out.stdout.strip().splitlines()[-1]
    shown = json.loads(cli("jobs", "show", job_id, "--format", "json").stdout)
    assert shown["status"] == "done" and shown["deliveries"][0]["status"] == "delivered"
    assert job_id in cli("jobs", "list").stdout
    text = cli("jobs", "show", job_id).stdout
    assert "done" in text and "delivered" in text


def test_cli_refuses_bad_targets_and_unknown_jobs(cli, tmp_path):
    out = cli("submit", str(VTT), "--deliver", "carrier-pigeon:home")
    assert out.exit_code == 1 and "Unknown delivery target" in out.stderr
    out = cli("submit", str(VTT), "--deliver", "webhook:ftp://example.com")
    assert out.exit_code == 1 and "not an http(s) URL" in out.stderr
    empty = tmp_path / "empty.ogg"
    empty.write_bytes(b"")
    out = cli("submit", str(empty))
    assert out.exit_code == 1 and "empty" in out.stderr
    assert "No jobs yet" in cli("jobs", "list").stdout  # refused at intake: nothing recorded
    out = cli("jobs", "show", "nosuchjob")
    assert out.exit_code == 1 and "There is no job" in out.stderr
    out = cli("worker")
    assert out.exit_code == 1 and "ONNO_BROKER_URL" in out.stderr


def test_cli_failed_job_exits_non_zero_with_the_reason(cli, tmp_path):
    bad = tmp_path / "notes.mp3"
    bad.write_text("these are my meeting notes, not audio")
    out = cli("submit", str(bad))
    assert out.exit_code == 1 and "failed during transcribe" in out.stderr
    job_id = out.stdout.strip().splitlines()[-1]
    assert json.loads(cli("jobs", "show", job_id, "--format", "json").stdout)["status"] == "failed"


def test_retry_sends_a_pending_delivery_now_even_before_its_backoff_is_up(tmp_path, database_url, receiver):
    """`onno jobs retry` once said "retrying" and did nothing for a delivery waiting out its backoff."""
    a = App(Settings(data_dir=tmp_path / "data", database_url=database_url, webhook_secret=SECRET,
                     delivery_backoff=600, inline_retry_wait=0))
    receiver.answers = [503]
    job_id = a.runner.submit(VTT, info(), targets=[f"webhook:{receiver.url}"])
    assert job_row(a, job_id)["deliveries"][0]["status"] == "pending"  # due again in ten minutes
    assert "retrying 1" in a.runner.retry(job_id)
    assert job_row(a, job_id)["deliveries"][0]["status"] == "delivered"
    assert len(receiver.accepted()) == 1
    a.engine.dispose()
