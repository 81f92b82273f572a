"""The Celery app: thin tasks that take ids and call the job runner; queues split heavy from light work."""

from __future__ import annotations

import logging
from functools import cache

from celery import Celery, signals

from onno.settings import Settings

log = logging.getLogger(__name__)

# The heavy step has its own queue so a deployment can run few big transcription workers and many small ones.
QUEUES = {"transcribe": "transcribe", "extract": "extract", "deliver": "deliver"}


def make_celery(settings: Settings) -> Celery:
    app = Celery("onno", broker=settings.broker_url or "memory://", set_as_current=False)
    app.conf.update(
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
    return app


celery = make_celery(Settings())


@cache
def worker_app():
    """One App per worker process: the speech model is loaded once and shared by every task."""
    from onno.service import App

    return App()


@celery.task(name="onno.transcribe")
def transcribe(job_id: str) -> None:
    worker_app().runner.run("transcribe", job_id)


@celery.task(name="onno.extract")
def extract(job_id: str) -> None:
    worker_app().runner.run("extract", job_id)


@celery.task(name="onno.deliver")
def deliver(delivery_id: int) -> None:
    worker_app().runner.run("deliver", delivery_id)


class CeleryDispatcher:
    """Sends steps to the broker; a failed publish is retried briefly, then left to the sweeper."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def send(self, step: str, ref: str | int, *, countdown: float = 0.0) -> None:
        celery.send_task(f"onno.{step}", args=[ref], queue=QUEUES[step], countdown=countdown or None,
                         retry=True, retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5,
                                                   "interval_max": 1.0})


@signals.worker_ready.connect
def start_sweeper(sender=None, **_kw) -> None:
    """Every worker also sweeps: dead leases and lost messages come back while any worker runs."""
    from onno.sweeper import Sweeper

    app = worker_app()
    app.transcriber.model  # load the model before the first job, not during it  # noqa: B018
    Sweeper(app).start()
