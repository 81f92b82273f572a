"""Bring back work that a dead worker or a restarted broker dropped; the database says what is missing."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from billing.accounts import settle
from integrations.digest.schedule import due_digests
from integrations.notion.service import pull_stale
from onno import notices
from storage import jobs as jobs_repo
from storage import outbox
from storage.models import utcnow

log = logging.getLogger(__name__)


def sweep_once(app) -> dict[str, int]:
    """Requeue jobs with dead leases, resend queued jobs and due deliveries whose messages went missing."""
    settings, runner = app.settings, app.runner
    counts = {"requeued": 0, "resent": 0, "deliveries": 0, "failed": 0}
    sends: list[tuple[str, str | int]] = []
    with app.session() as s:
        for job in jobs_repo.expired_jobs(s):
            if job.attempts >= settings.job_max_attempts:
                # A job that kills its worker every time must not take the whole fleet down with it.
                if jobs_repo.fail_expired(s, job.id, f"gave up after {job.attempts} attempts during {job.step}: "
                                          "the worker stopped each time (crashed or was killed)"):
                    settle(s, job.id, minutes=0)
                    counts["failed"] += 1
            elif jobs_repo.requeue_expired(s, job.id):
                sends.append((job.step, job.id))
                counts["requeued"] += 1
    cutoff = utcnow() - dt.timedelta(seconds=settings.requeue_after)
    with app.session() as s:
        for job in jobs_repo.stale_queued(s, cutoff):
            if jobs_repo.touch_enqueued(s, job.id, cutoff):
                sends.append((job.step, job.id))
                counts["resent"] += 1
        for delivery_id in outbox.unsent(s, "result", cutoff):
            if outbox.touch(s, delivery_id, cutoff):
                sends.append(("deliver", delivery_id))
                counts["deliveries"] += 1
    for step, ref in sends:
        runner.send(step, ref)
    counts["notices"] = notices.sweep(app)  # team notices due: new, waiting for a retry, or left by a dead sender
    counts["digests"] = due_digests(app)  # weekly digests due (once per workspace and week), or left half sent
    if settings.notion_pull_interval > 0:  # boards moved in Notion reach the tickets even between meetings
        counts["boards"] = pull_stale(app, settings.notion_pull_interval)
    if any(counts[k] for k in ("requeued", "resent", "deliveries", "failed")):  # something had gone missing
        log.warning("sweeper: %s", counts)
    elif any(counts.values()):
        log.info("sweeper: %s", counts)
    return counts


class Sweeper(threading.Thread):
    """Runs `sweep_once` every `sweep_interval` seconds until the process ends."""

    def __init__(self, app):
        super().__init__(name="onno-sweeper", daemon=True)
        self.app = app
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.app.settings.sweep_interval):
            try:
                sweep_once(self.app)
            except Exception as exc:  # the database or broker is away for a moment: sweep again next time
                log.warning("sweeper: %s", exc)
