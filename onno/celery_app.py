"""Celery, built from the settings it is given: the dispatcher that publishes steps, and the worker's thin tasks
that take ids and call the job runner; queues split heavy from light work."""

from __future__ import annotations

import logging
from collections.abc import Callable

from celery import Celery, signals

from onno.settings import Settings

log = logging.getLogger(__name__)

# The heavy step has its own queue so a deployment can run few big transcription workers and many small ones.
QUEUES = {"transcribe": "transcribe", "extract": "extract", "deliver": "deliver"}


def make_celery(settings: Settings) -> Celery:
    """A Celery app publishing to settings.broker_url (memory:// without one)."""
    celery = Celery("onno", broker=settings.broker_url or "memory://", set_as_current=False)
    celery.conf.update(
        task_ignore_result=True,  # job state lives in the database, not in a result backend
        task_acks_late=True,  # a message is acknowledged only after its step ran...
        task_reject_on_worker_lost=True,  # ...and is requeued when a pool child dies under it
        worker_prefetch_multiplier=1,  # a busy worker does not sit on messages others could run
        task_default_queue=QUEUES["extract"],
        task_routes={f"onno.{step}": {"queue": queue} for step, queue in QUEUES.items()},
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # keep trying while Redis restarts
        worker_cancel_long_running_tasks_on_connection_loss=False,
        worker_hijack_root_logger=False,
        # Recovery after a killed worker does not wait for this: leases and the sweeper bring a job back in
        # seconds. The visibility timeout only decides when Redis itself redelivers an unacknowledged message.
        broker_transport_options={"visibility_timeout": 3600},
    )
    return celery


def make_worker(app, on_ready: Callable[[], None] = lambda: None) -> Celery:
    """A worker's Celery app, from `app`'s settings: thin tasks that take ids and call that App's job runner (one
    App per worker process, so the speech model is loaded once and shared by every task). `on_ready` runs once
    the worker is ready to take work."""
    celery = make_celery(app.settings)

    @celery.task(name="onno.transcribe")
    def transcribe(job_id: str) -> None:
        app.runner.run("transcribe", job_id)

    @celery.task(name="onno.extract")
    def extract(job_id: str) -> None:
        app.runner.run("extract", job_id)

    @celery.task(name="onno.deliver")
    def deliver(delivery_id: int) -> None:
        app.runner.run("deliver", delivery_id)

    def ready(sender=None, **_kw) -> None:
        on_ready()

    signals.worker_ready.connect(ready, weak=False)
    return celery


class CeleryDispatcher:
    """Sends steps to the broker of the settings it is given; a failed publish is retried briefly, then left to
    the sweeper."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.celery = make_celery(settings)

    def send(self, step: str, ref: str | int, *, countdown: float = 0.0) -> None:
        self.celery.send_task(f"onno.{step}", args=[ref], queue=QUEUES[step], countdown=countdown or None,
                              retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2,
                                                        "interval_step": 0.5, "interval_max": 1.0})
