"""Real `onno worker` processes on PostgreSQL and Redis: crashes, restarts and duplicates lose nothing."""

from __future__ import annotations

import time

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from onno.celery_app import make_celery
from onno.settings import Settings
from pipeline.decode import decode_audio
from tests import media
from tests.jobs.conftest import wait_for

DONE = 300  # seconds a test waits for an outcome before calling it lost (the machine may be busy)


@pytest.fixture(scope="module")
def long_recording(tmp_path_factory):
    """Three minutes of meeting (the sample three times): long enough to kill a worker in the middle."""
    audio = decode_audio(media.SAMPLE)
    return media.write_audio(np.concatenate([audio] * 3), tmp_path_factory.mktemp("long") / "long-call.ogg")


def finished(cluster, job_id: str) -> dict | None:
    job = cluster.job(job_id)
    return job if job["status"] in ("done", "failed") else None


def delivered(cluster, job_id: str) -> dict | None:
    job = cluster.job(job_id)
    return job if job["deliveries"] and all(d["status"] == "delivered" for d in job["deliveries"]) else None


def test_worker_runs_a_job_and_delivers_once_even_when_enqueued_twice(cluster, receiver, redis_server):
    cluster.start_worker()
    cluster.start_worker()
    job_id = cluster.submit(media.SAMPLE, "--type", "standup", "--deliver", f"webhook:{receiver.url}")
    # The same job enqueued again, as a retried publish or a duplicate event would do.
    make_celery(Settings(broker_url=redis_server.url)).send_task("onno.transcribe", args=[job_id],
                                                                 queue="transcribe")
    wait_for(lambda: delivered(cluster, job_id), DONE, "the job to be delivered")
    time.sleep(3)  # time for the duplicate to run through both workers
    job = cluster.job(job_id)
    assert job["status"] == "done" and cluster.meetings() == 1
    assert len(receiver.accepted()) == 1 and receiver.accepted()[0]["signed"]
    assert receiver.accepted()[0]["body"]["job_id"] == job_id


def test_worker_killed_mid_transcription_the_job_finishes_on_another(cluster, receiver, long_recording):
    first = cluster.start_worker()
    job_id = cluster.submit(long_recording, "--deliver", f"webhook:{receiver.url}")
    wait_for(lambda: cluster.job(job_id)["status"] == "running", DONE, "the transcription to start")
    time.sleep(2)  # well inside the transcription
    assert cluster.job(job_id)["step"] == "transcribe"
    cluster.kill(first)
    assert cluster.job(job_id)["status"] == "running"  # nobody knows yet: the lease is still live
    cluster.start_worker()
    job = wait_for(lambda: delivered(cluster, job_id), DONE, "the job to finish on the second worker")
    assert job["status"] == "done" and cluster.meetings() == 1
    keys = [r["key"] for r in receiver.accepted()]
    assert len(keys) == 1 and keys[0] == job["deliveries"][0]["key"]


def test_redis_restart_mid_run_loses_no_job(cluster, receiver, redis_server):
    cluster.start_worker()
    running = cluster.submit(media.SAMPLE, "--deliver", f"webhook:{receiver.url}")
    wait_for(lambda: cluster.job(running)["status"] == "running", DONE, "the first job to start")
    redis_server.stop()  # every queued message is gone: this Redis keeps nothing on disk
    waiting = cluster.submit(media.SAMPLE, "--title", "Submitted while Redis was down",
                             "--deliver", f"webhook:{receiver.url}")
    assert cluster.job(waiting)["status"] == "queued"
    redis_server.start()
    for job_id in (running, waiting):
        wait_for(lambda job_id=job_id: delivered(cluster, job_id), DONE, f"job {job_id} after the restart")
    assert cluster.meetings() == 2
    assert sorted(r["body"]["job_id"] for r in receiver.accepted()) == sorted([running, waiting])


def test_dropped_database_connections_do_not_lose_the_job(cluster, receiver, postgres_url):
    cluster.start_worker()
    job_id = cluster.submit(media.SAMPLE, "--deliver", f"webhook:{receiver.url}")
    wait_for(lambda: cluster.job(job_id)["status"] == "running", DONE, "the job to start")
    admin = create_engine(postgres_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    name = postgres_url.rsplit("/", 1)[1]
    with admin.connect() as c:  # cut every connection to the database, the worker's included, a few times
        for _ in range(3):
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
            time.sleep(1)
    admin.dispose()
    job = wait_for(lambda: delivered(cluster, job_id), DONE, "the job to finish")
    assert job["status"] == "done" and cluster.meetings() == 1 and len(receiver.accepted()) == 1


def test_corrupt_recording_fails_without_blocking_the_worker(cluster, tmp_path):
    worker = cluster.start_worker()
    bad = tmp_path / "broken.m4a"
    bad.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x13" * 4000)
    bad_id = cluster.submit(bad)
    good_id = cluster.submit(media.SAMPLE)
    bad_job = wait_for(lambda: finished(cluster, bad_id), DONE, "the corrupt job to fail")
    good_job = wait_for(lambda: finished(cluster, good_id), DONE, "the good job to finish")
    assert bad_job["status"] == "failed" and "broken.m4a" in bad_job["error"] and bad_job["attempts"] == 1
    assert good_job["status"] == "done"
    assert worker.poll() is None, cluster.log_tail()


def test_onno_workers_runs_that_many_worker_processes_and_stops_them_all(cluster, tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from tests.media import ROOT

    log = tmp_path / "workers.log"
    proc = subprocess.Popen([sys.executable, "-c", "from onno.cli import main; main()", "worker"], cwd=ROOT,
                            stdout=log.open("w"), stderr=subprocess.STDOUT,
                            env={**cluster.env, "ONNO_WORKERS": "2"}, start_new_session=True)
    try:
        wait_for(lambda: log.read_text().count("ready.") >= 2 or proc.poll() is not None, 120, "two workers")
        assert proc.poll() is None, log.read_text()[-3000:]
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 2
        proc.send_signal(signal.SIGTERM)  # the parent alone: it stops its workers
        assert proc.wait(60) == 0
        wait_for(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in children), 30, "the workers to stop")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
