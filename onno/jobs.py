"""The job runner: each step claims a lease on its job, runs a pure pipeline stage and saves, idempotently."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from billing.accounts import lock_usage, reserve, settle
from billing.gate import PlanLimit, check_intake
from core.clock import aware
from core.errors import InputError
from core.retry import RetryPolicy
from integrations import deliver as outbound
from integrations.errors import PermanentError, TransientError
from pipeline.findings.summary import summarize_result
from pipeline.run import Transcript, analyse, check_source, transcribe_source
from pipeline.types import MeetingInfo, Ticket
from storage import jobs as jobs_repo
from storage import outbox
from storage import repository as repo
from storage import review as review_repo
from storage.models import Job, utcnow

log = logging.getLogger(__name__)

STEPS = ("transcribe", "extract", "deliver")


class Dispatcher(Protocol):
    """Runs a step for a job (or a delivery) now or later: in this process, or through the broker."""

    def send(self, step: str, ref: str | int, *, countdown: float = 0.0) -> None: ...


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def job_options(info: MeetingInfo, board: list[Ticket] | None, targets: list[str]) -> dict:
    """What a job needs to know besides its recording, as JSON."""
    return {"title": info.title, "type": info.type, "date": info.date.isoformat(), "language": info.language,
            "participants": list(info.participants), "uploader": info.uploader,
            "board": None if board is None else [vars(t) for t in board], "deliver": list(targets)}


def meeting_info(options: dict) -> MeetingInfo:
    return MeetingInfo(title=options["title"], type=options["type"], date=dt.date.fromisoformat(options["date"]),
                       participants=list(options["participants"]), language=options.get("language", "en"),
                       uploader=options.get("uploader"))


def job_dict(job: Job) -> dict:
    """A job as `onno jobs show --format json` prints it."""
    def ts(value: dt.datetime | None) -> str | None:
        return aware(value).isoformat() if value else None

    return {"id": job.id, "status": job.status, "step": job.step, "progress": round(job.progress, 3),
            "error": job.error, "attempts": job.attempts, "source": job.source_name, "meeting_id": job.meeting_id,
            "title": job.options.get("title"), "type": job.options.get("type"),
            "created_at": ts(job.created_at), "started_at": ts(job.started_at), "finished_at": ts(job.finished_at),
            "deliveries": [{"id": d.id, "target": d.target, "key": d.key, "status": d.status, "attempts": d.attempts,
                            "error": d.last_error, "delivered_at": ts(d.delivered_at)} for d in job.deliveries]}


class LeaseLost(Exception):
    """Another worker took this job over while we held it too long; our work is discarded."""


class Heartbeat:
    """Renews a job's (or a delivery's) lease from a thread while a long step runs, with the job's progress."""

    def __init__(self, runner: JobRunner, job_id: str | None = None, *, delivery_id: int | None = None):
        self.runner, self.job_id, self.delivery_id = runner, job_id, delivery_id
        self.progress: float | None = None
        self.lost = False
        self._stop = threading.Event()
        name = f"heartbeat-{job_id}" if job_id else f"heartbeat-delivery-{delivery_id}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _renew(self, s) -> bool:
        lease = self.runner.settings.job_lease_seconds
        if self.job_id is None:
            return outbox.renew(s, self.delivery_id, lease)
        return jobs_repo.renew_lease(s, self.job_id, self.runner.owner, lease, self.progress)

    def _run(self) -> None:
        every = max(0.5, self.runner.settings.job_lease_seconds / 3)
        while not self._stop.wait(every):
            try:
                with self.runner.app.session() as s:
                    if not self._renew(s):
                        self.lost = True
                        return
            except Exception as exc:  # a dropped database connection: try again next beat
                log.warning("heartbeat for %s failed: %s", self._thread.name, exc)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class JobRunner:
    """Submits jobs and runs their steps; the same code runs in-process and in Celery workers."""

    def __init__(self, app, dispatcher: Dispatcher, *, owner: str | None = None):
        self.app = app
        self.settings = app.settings
        self.dispatcher = dispatcher
        self.owner = owner or worker_id()
        if hasattr(dispatcher, "bind"):
            dispatcher.bind(self)

    # -- intake -------------------------------------------------------------------------------------------

    def submit(self, source: Path, info: MeetingInfo, *, board: list[Ticket] | None = None,
               targets: list[str] = (), workspace: str | int = "local", job_id: str | None = None,
               review_first: bool | None = None, admitted: bool = False) -> str:
        """Store the recording, record the job, then hand it to the dispatcher; return the job id.

        `workspace` is a CLI workspace name or a workspace row id (a Slack team's); `job_id` lets the caller
        know the id before an in-process run starts (the Slack bot shows progress under it); `review_first`
        overrides the workspace's setting for this job (a Slack channel's own setting); `admitted` marks a live
        meeting the plan let start: gated at its start, never half-way, so its minutes are counted, not refused.
        """
        source = check_source(source)
        targets = [outbound.normalise_target(t) for t in targets]
        minutes = self.app.check_plan(source, workspace, kinds={t.partition(":")[0] for t in targets},
                                      admitted=admitted)
        recording_id = self.app.store_recording(source, workspace)
        options = job_options(info, board, targets)
        if review_first is not None:
            options["review_first"] = review_first
        try:
            with self.app.session() as s:
                ws = repo.resolve_workspace(s, workspace)
                # Checked again under the workspace's lock: two uploads at the limit cannot both get in.
                lock_usage(s, ws)
                check_intake(s, self.app.settings, ws, minutes=None if admitted else minutes)
                job = jobs_repo.create_job(s, ws, recording_id=recording_id, source_name=Path(source).name,
                                           options=options, job_id=job_id)
                job_id = job.id
                reserve(s, ws, job_id=job_id, minutes=minutes)
        except PlanLimit:
            self.app.forget_recording(recording_id, workspace)
            raise
        self.send("transcribe", job_id)
        return job_id

    def retry(self, job_id: str, workspace: str = "local") -> str:
        """Run a failed job again from its failed step, and resend its failed deliveries."""
        with self.app.session() as s:
            job = jobs_repo.get_job(s, job_id, repo.get_or_create_workspace(s, workspace))
            if job is None:
                raise InputError(f"No job {job_id}.", "See `onno jobs list` for the jobs there are.")
            sends: list[tuple[str, str | int]] = []
            if job.status == "failed":
                job.status, job.error, job.attempts, job.enqueued_at = "queued", None, 0, utcnow()
                sends.append((job.step, job.id))
            for d in job.deliveries:
                if d.status == "failed":
                    d.status, d.attempts, d.next_attempt_at, d.enqueued_at = "pending", 0, utcnow(), utcnow()
                if d.status == "pending":  # one waiting for its backoff goes now: retry means now
                    d.next_attempt_at, d.enqueued_at = utcnow(), utcnow()
                    sends.append(("deliver", d.id))
            if not sends:
                return f"Job {job_id} is {job.status}; nothing to retry."
        for step, ref in sends:
            self.send(step, ref)
        return f"Job {job_id}: retrying {len(sends)} step(s)."

    def approve(self, meeting_id: int, workspace: str | int = "local", *, user: str | None = None) -> list[int]:
        """Approve a meeting held for review: its held deliveries go out with the reviewed findings, once."""
        with self.app.session() as s:
            ws = repo.resolve_workspace(s, workspace)
            if repo.get_meeting(s, ws, meeting_id) is None:
                raise InputError(f"No meeting {meeting_id}.", "See `onno meetings list` for the meetings there are.")
            released = review_repo.approve(s, meeting_id, user)
        for delivery_id in released:
            self.send("deliver", delivery_id)
        return released

    def send(self, step: str, ref: str | int, *, countdown: float = 0.0) -> None:
        """Hand a step to the dispatcher; if the broker is down, the sweeper sends it again later."""
        try:
            self.dispatcher.send(step, ref, countdown=countdown)
        except InputError:
            raise
        except Exception as exc:
            log.warning("could not enqueue %s %s (the sweeper will resend it): %s", step, ref, exc)

    # -- steps --------------------------------------------------------------------------------------------

    def run(self, step: str, ref: str | int) -> None:
        {"transcribe": self.transcribe, "extract": self.extract, "deliver": self.deliver}[step](ref)

    def transcribe(self, job_id: str) -> None:
        """The heavy step: recording to timed transcript, kept on the job row for the light step."""
        with self._claimed(job_id, "transcribe") as job:
            if job is None:
                return
            info = meeting_info(job.options)
            # Finished parts of a long recording wait here, so a worker killed part-way resumes, not restarts.
            work_dir = self.parts_dir(job_id)
            with self._materialized(job) as path, Heartbeat(self, job_id) as beat:
                def progress(share: float) -> None:
                    beat.progress = share

                transcript = transcribe_source(path, info, transcriber=self.app.transcriber, progress=progress,
                                               work_dir=work_dir)
            if beat.lost:
                raise LeaseLost(job_id)
            with self.app.session() as s:
                if not jobs_repo.release_job(s, job_id, self.owner, status="queued", step="extract", progress=1.0,
                                             attempts=0, transcript=transcript.to_dict(), enqueued_at=utcnow()):
                    raise LeaseLost(job_id)
            shutil.rmtree(work_dir, ignore_errors=True)
        self.send("extract", job_id)

    def extract(self, job_id: str) -> None:
        """The light step: findings, then the meeting, the moved cards and the outbox rows in one transaction."""
        with self._claimed(job_id, "extract") as job:
            if job is None:
                return
            info = meeting_info(job.options)
            given = job.options.get("board")
            if given is None:  # match against the board as the team sees it now (Notion: pulled first)
                outbound.prepare(job.options.get("deliver", []), self.app, job.workspace_id)
            with self.app.session() as s:
                ws = repo.workspace_by_id(s, job.workspace_id)
                board = [Ticket(**t) for t in given] if given is not None else repo.board(s, ws)
            result = analyse(Transcript.from_dict(job.transcript), info, board, **self.app.analyse_options())
            with self.app.session() as s:
                if not jobs_repo.release_job(s, job_id, self.owner, status="done", step="extract",
                                             finished_at=utcnow(), transcript=None):
                    raise LeaseLost(job_id)
                row = jobs_repo.get_job(s, job_id)
                ws = repo.workspace_by_id(s, row.workspace_id)
                meeting = repo.record_meeting(s, ws, result, recording_id=row.recording_id,
                                              given_board=board if given is not None else None)
                row.meeting_id = meeting.id
                settle(s, job_id, minutes=result.duration / 60, meeting_id=meeting.id)
                hold = review_repo.hold_kinds(s, ws, row.options)
                deliveries = jobs_repo.create_deliveries(s, row, row.options.get("deliver", []), hold=hold)
                if any(d.status == "held" for d in deliveries):
                    review_repo.start_review(s, meeting)
                delivery_ids = [d.id for d in deliveries if d.status == "pending"]
        for delivery_id in delivery_ids:
            self.send("deliver", delivery_id)

    def deliver(self, delivery_id: int) -> None:
        """Send one outbox row; retried with backoff on transient errors, never again once delivered."""
        lease = self.settings.job_lease_seconds
        with self.app.session() as s:
            if not outbox.claim(s, delivery_id, lease):
                return  # delivered, failed, not yet due, or another worker is sending it
        with self.app.session() as s:
            d = jobs_repo.get_delivery(s, delivery_id)
            job = jobs_repo.get_job(s, d.job_id)
            meeting = repo.get_meeting(s, repo.workspace_by_id(s, job.workspace_id), job.meeting_id)
            target, attempts = d.target, d.attempts
            if meeting is None:
                outbox.release(s, delivery_id, "failed", last_error="the meeting was deleted")
                return
            result = repo.meeting_result_dict(meeting)
            if target.partition(":")[0] in review_repo.HELD_KINDS:  # what waited for review goes out as reviewed
                result = review_repo.reviewed_result(s, meeting.id, result, summarize=summarize_result)
            ctx = outbound.DeliveryContext(app=self.app, key=d.key, job_id=job.id, workspace_id=job.workspace_id,
                                           meeting_id=meeting.id, result=result)
        try:
            try:
                with Heartbeat(self, delivery_id=delivery_id):  # sending to many readers can outlast a lease
                    status = outbound.send(target, ctx)
            except (TransientError, PermanentError):
                raise
            except Exception as exc:  # a bug in an adapter: retried like a network error, then given up
                log.exception("delivery %s to %s failed", delivery_id, target)
                raise TransientError(f"{type(exc).__name__}: {exc}") from exc
        except TransientError as exc:
            self._retry_delivery(delivery_id, attempts, exc)
            return
        except PermanentError as exc:
            with self.app.session() as s:
                outbox.release(s, delivery_id, "failed", last_error=exc.reason,
                                          response_status=exc.status)
            return
        with self.app.session() as s:
            outbox.release(s, delivery_id, "delivered", delivered_at=utcnow(), response_status=status,
                                      last_error=None)

    # -- helpers ------------------------------------------------------------------------------------------

    def parts_dir(self, job_id: str) -> Path:
        """Where a job's transcription keeps its finished parts until the transcript is saved."""
        return Path(self.settings.data_dir) / "parts" / job_id

    def _retry_delivery(self, delivery_id: int, attempts: int, exc: TransientError) -> None:
        with self.app.session() as s:
            wait = outbox.release_for_retry(s, delivery_id, RetryPolicy.of(self.settings), attempts, exc.reason,
                                            retry_after=exc.retry_after, response_status=exc.status)
        if wait is not None:
            self.send("deliver", delivery_id, countdown=wait)

    @contextmanager
    def _claimed(self, job_id: str, step: str) -> Iterator[Job | None]:
        """Claim `step` of the job (None when it is not ours to run) and settle failures on the row."""
        settings = self.settings
        with self.app.session() as s:
            if not jobs_repo.claim_job(s, job_id, step, self.owner, settings.job_lease_seconds):
                log.info("job %s step %s: not claimable (done, running elsewhere or a duplicate)", job_id, step)
                job = None
            else:
                job = jobs_repo.get_job(s, job_id)
        if job is None:
            yield None
            return
        try:
            yield job
        except LeaseLost:
            log.warning("job %s: lease lost during %s; another worker finishes it", job_id, step)
        except InputError as exc:
            reason = f"{exc.problem} {exc.hint}".strip()
            with self.app.session() as s:
                failed = jobs_repo.release_job(s, job_id, self.owner, status="failed", error=reason,
                                               finished_at=utcnow())
                if failed:
                    settle(s, job_id, minutes=0)  # bad input is not charged
                    row = jobs_repo.get_job(s, job_id)
                    failed = row.recording_id is not None and row.meeting_id is None
            if failed:
                # Bad input leaves storage as it was: no recording row, no blobs of it (someone's voice).
                self.app.forget_recording(job.recording_id, job.workspace_id)
                shutil.rmtree(self.parts_dir(job_id), ignore_errors=True)
        except Exception as exc:
            log.exception("job %s step %s failed", job_id, step)
            self._after_crash(job_id, step, job.attempts, exc)

    def _after_crash(self, job_id: str, step: str, attempts: int, exc: Exception) -> None:
        """Our own failure (a bug, a dropped connection): try again later, give up after a few attempts."""
        reason = f"{type(exc).__name__}: {exc}"[:1000]
        give_up = attempts >= self.settings.job_max_attempts
        try:
            with self.app.session() as s:
                if give_up:
                    if jobs_repo.release_job(s, job_id, self.owner, status="failed", finished_at=utcnow(),
                                             error=f"failed {attempts} times during {step}: {reason}"):
                        settle(s, job_id, minutes=0)  # our failure is not charged either
                    return
                jobs_repo.release_job(s, job_id, self.owner, status="queued", error=reason, enqueued_at=utcnow())
        except Exception:
            log.exception("job %s: could not record the failure; its lease will expire and it runs again", job_id)
            return
        self.send(step, job_id, countdown=min(60.0, 2.0 * attempts))

    @contextmanager
    def _materialized(self, job: Job) -> Iterator[Path]:
        """The job's recording as a file or folder on local disk, named as the user named it."""
        with self.app.session() as s:
            rec = repo.get_recording(s, repo.workspace_by_id(s, job.workspace_id), job.recording_id)
            if rec is None:
                raise InputError(f"The recording of job {job.id} is gone.", "Submit the recording again.")
            key = rec.blob_key
        with tempfile.TemporaryDirectory(prefix="onno-job-") as tmp:
            yield self.app.blobs.materialize(key, Path(tmp) / job.source_name)


class InlineDispatcher:
    """No broker: run each step at once in this process (the embedded default), same code as a worker."""

    def __init__(self, max_wait: float):
        self.runner: JobRunner | None = None
        self.budget = max_wait  # seconds this process may still sleep for delivery retries

    def bind(self, runner: JobRunner) -> None:
        self.runner = runner

    def send(self, step: str, ref: str | int, *, countdown: float = 0.0) -> None:
        if countdown > 0:
            if countdown > self.budget:
                return  # left pending on its row: `onno jobs retry` or a worker's sweeper sends it later
            self.budget -= countdown
            time.sleep(countdown)
        self.runner.run(step, ref)

