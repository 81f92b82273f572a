"""`onno submit`, `onno jobs`, `onno worker` and `onno web`: the commands that run Onno as a service."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

import click

from core.errors import InputError
from onno.cli import app, fail, meeting_input, meeting_options, resolve, workspace_option


@click.command()
@meeting_options
@click.option("--deliver", "targets", multiple=True, metavar="TARGET",
              help="Where to send the result when done, e.g. webhook:https://example.com/hook (repeatable).")
def submit(source: Path, title: str | None, meeting_type: str, date: dt.date, participants: str,
           uploader: str | None, board_file: Path | None, targets: tuple[str, ...]) -> None:
    """Store SOURCE and process it as a job; print the job id as the last line.

    With ONNO_BROKER_URL set the job goes to `onno worker`s; without, it runs here and now.
    """
    a = app()
    try:
        info, board = meeting_input(source, title, meeting_type, date, participants, board_file, uploader)
        job_id = a.runner.submit(source, info, board=board, targets=list(targets))
    except InputError as exc:
        fail(exc)
    if not a.settings.broker_url:
        job = job_details(a, job_id)
        report_inline(job)
        click.echo(job_id)
        if job["status"] == "failed":
            sys.exit(1)
        return
    click.echo(f"Queued; follow it with: onno jobs show {job_id}", err=True)
    click.echo(job_id)


def report_inline(job: dict) -> None:
    """After an in-process run: one line on the job and one per delivery, on stderr."""
    if job["status"] == "failed":
        click.echo(f"Error: job {job['id']} failed during {job['step']}: {job['error']}", err=True)
        return
    click.echo(f"Job {job['id']} {job['status']}: meeting {job['meeting_id']} "
               f"(onno meetings show {job['meeting_id']})", err=True)
    for d in job["deliveries"]:
        extra = f" ({d['error']})" if d["error"] and d["status"] != "delivered" else ""
        if d["status"] == "held":
            extra = f" for review (onno review {job['meeting_id']})"
        click.echo(f"  {d['target']}: {d['status']}{extra}", err=True)


def job_details(a, job_id: str) -> dict | None:
    from onno.jobs import job_dict
    from storage import jobs as jobs_repo
    from storage import repository as repo

    with a.session() as s:
        job = jobs_repo.get_job(s, job_id, repo.get_or_create_workspace(s))
        return job_dict(job) if job else None


@click.group()
def jobs() -> None:
    """Jobs submitted with `onno submit`, and their deliveries."""


@jobs.command("list")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--limit", default=50, show_default=True)
def jobs_list(fmt: str, limit: int) -> None:
    """List jobs, newest first."""
    from onno.jobs import job_dict
    from storage import jobs as jobs_repo
    from storage import repository as repo

    a = app()
    with a.session() as s:
        rows = [job_dict(j) for j in jobs_repo.list_jobs(s, repo.get_or_create_workspace(s), limit=limit)]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("No jobs yet. Submit one with: onno submit RECORDING")
        return
    for r in rows:
        state = r["status"] if r["status"] in ("done", "failed") else f"{r['status']} ({r['step']})"
        delivered = sum(d["status"] == "delivered" for d in r["deliveries"])
        extra = f"  deliveries {delivered}/{len(r['deliveries'])}" if r["deliveries"] else ""
        click.echo(f"{r['id']}  {r['created_at'][:19]}  {state:<24} {r['source']}{extra}")


@jobs.command("show")
@click.argument("job_id")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def jobs_show(job_id: str, fmt: str) -> None:
    """Show one job: its status, step, error and deliveries."""
    job = job_details(app(), job_id)
    if job is None:
        fail(InputError(f"There is no job {job_id}.", "See the jobs with: onno jobs list"))
    if fmt == "json":
        click.echo(json.dumps(job, indent=2))
        return
    click.echo(f"Job {job['id']}: {job['status']}, step {job['step']}"
               + (f" {job['progress']:.0%}" if job["status"] == "running" else ""))
    click.echo(f"  source   {job['source']} ({job['type']}, \"{job['title']}\")")
    click.echo(f"  created  {job['created_at']}; started {job['started_at'] or '—'}; "
               f"finished {job['finished_at'] or '—'}; attempts {job['attempts']}")
    if job["error"]:
        click.echo(f"  error    {job['error']}")
    if job["meeting_id"]:
        click.echo(f"  meeting  {job['meeting_id']} (onno meetings show {job['meeting_id']})")
    for d in job["deliveries"]:
        if d["status"] == "held":
            click.echo(f"  deliver  {d['target']}: held for review (onno review {job['meeting_id']} --approve)")
            continue
        click.echo(f"  deliver  {d['target']}: {d['status']} after {d['attempts']} attempt(s)"
                   + (f" — {d['error']}" if d["error"] else "") + f" (onno outbox show {d['id']})")


@jobs.command("retry")
@click.argument("job_id")
def jobs_retry(job_id: str) -> None:
    """Run a failed job again, and resend its failed or pending deliveries."""
    a = app()
    try:
        message = a.runner.retry(job_id)
    except InputError as exc:
        fail(exc)
    click.echo(message)
    if not a.settings.broker_url:
        report_inline(job_details(a, job_id))


@click.group()
def outbox() -> None:
    """Everything that leaves Onno: meeting results, team notices and weekly digests, and where each went."""


@outbox.command("list")
@workspace_option
@click.option("--status", help="Only items in this state, e.g. pending, failed, delivered, sent.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--limit", default=50, show_default=True)
def outbox_list(workspace: str, status: str | None, fmt: str, limit: int) -> None:
    """List what was sent or is being sent, newest first."""
    from storage import outbox as repo

    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        rows = [repo.describe(s, o) for o in repo.listing(s, ws_id, status=status, limit=limit)]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("Nothing has left Onno yet." if status is None else f"Nothing {status} in the outbox.")
        return
    for r in rows:
        what = (r["what"] or "").splitlines()[0][:60] if r["what"] else ""
        retry = f"  next try {r['next_attempt_at'][:19]}" if r["next_attempt_at"] else ""
        click.echo(f"{r['id']:>6}  {r['created_at'][:19]}  {r['category']:<6}  {r['status']:<9}  "
                   f"{r['attempts']}x  {what}{retry}")


@outbox.command("show")
@click.argument("item_id", type=int)
@workspace_option
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def outbox_show(item_id: int, workspace: str, fmt: str) -> None:
    """Show one item: what it is, its state, its attempts and last error, and every receipt of where it went."""
    from storage import outbox as repo

    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        item = repo.get(s, item_id)
        row = repo.describe(s, item) if item is not None and item.workspace_id == ws_id else None
    if row is None:
        fail(InputError(f"There is nothing {item_id} in the outbox.", "See what there is with: onno outbox list"))
    if fmt == "json":
        click.echo(json.dumps(row, indent=2))
        return
    click.echo(f"Outbox {row['id']}: {row['category']} ({row['kind']}), {row['status']} after {row['attempts']} "
               "attempt(s)")
    click.echo(f"  what     {row['what']}")
    click.echo(f"  key      {row['key']}" + (f" (job {row['job_id']}: onno jobs show {row['job_id']})"
                                              if row["job_id"] else ""))
    click.echo(f"  created  {row['created_at']}; delivered {row['delivered_at'] or '—'}")
    if row["next_attempt_at"]:
        click.echo(f"  retry    {row['next_attempt_at']}")
    if row["error"]:
        click.echo(f"  error    {row['error']}" + (f" (HTTP {row['response_status']})" if row["response_status"]
                                                  else ""))
    for r in row["receipts"]:
        click.echo(f"  went     {r['destination']}: " + (f"refused — {r['error']}" if r["error"] else r["ref"] or "")
                   + f" at {r['at']}")


@outbox.command("retry")
@click.argument("item_id", type=int)
@workspace_option
def outbox_retry(item_id: int, workspace: str) -> None:
    """Send a failed result or team notice again now, or one waiting for its next try."""
    from onno import notices
    from storage import outbox as repo

    a = app()
    ws_id = resolve(a, workspace)
    with a.session() as s:
        item = repo.get(s, item_id)
        if item is None or item.workspace_id != ws_id:
            fail(InputError(f"There is nothing {item_id} in the outbox.", "See what there is with: onno outbox list"))
        category, status = item.category, item.status
        if category == "digest":
            fail(InputError(f"Outbox {item_id} is the digest of {item.week}.",
                            f"Send it again with: onno digest send --week {item.week} --again"))
        if not repo.retry_now(s, item_id):
            fail(InputError(f"Outbox {item_id} is {status}; there is nothing to retry.",
                            "Only failed items, or ones waiting for their next try, are sent again."))
    if category == "result":
        a.runner.send("deliver", item_id)
    else:
        notices.send(a, item_id)
    with a.session() as s:
        row = repo.describe(s, repo.get(s, item_id))
    click.echo(f"Outbox {item_id}: {row['status']} after {row['attempts']} attempt(s)"
               + (f" — {row['error']}" if row["error"] and row["status"] != "delivered" else ""))


@click.command()
@click.option("--queues", default="transcribe,extract,deliver", show_default=True,
              help="Queues to take work from; run transcription workers apart with --queues transcribe.")
@click.option("--concurrency", default=1, show_default=True,
              help="Jobs at once in this process (threads share one speech model); more workers scale wider.")
@click.option("--processes", default=1, show_default=True, envvar="ONNO_WORKERS", type=click.IntRange(1),
              help="Worker processes to run, each with its own speech model and an equal share of the CPU cores "
                   "(env ONNO_WORKERS); N processes on N cores is how transcription throughput scales.")
@click.option("--loglevel", default="INFO", show_default=True)
def worker(queues: str, concurrency: int, processes: int, loglevel: str) -> None:
    """Run a Celery worker (needs ONNO_BROKER_URL, e.g. redis://127.0.0.1:6379/0)."""
    if processes > 1:
        command = [sys.executable, "-c", "from onno.cli import main; main()", "worker", "--queues", queues,
                   "--concurrency", str(concurrency), "--loglevel", loglevel]
        sys.exit(run_workers(processes, command))
    a = app()
    self_check(a)
    if not a.settings.broker_url:
        fail(InputError("No broker is configured, so there is nothing for a worker to do.",
                        "Set ONNO_BROKER_URL (e.g. redis://127.0.0.1:6379/0) here and where jobs are submitted; "
                        "without it `onno submit` runs jobs in-process."))
    from onno.celery_app import make_worker
    from onno.sweeper import Sweeper

    def start_sweeper() -> None:
        """Every worker also sweeps: dead leases and lost messages come back while any worker runs."""
        a.transcriber.model  # load the model before the first job, not during it  # noqa: B018
        Sweeper(a).start()

    celery = make_worker(a, on_ready=start_sweeper)
    pool = ["--pool", "solo"] if concurrency == 1 else ["--pool", "threads", "--concurrency", str(concurrency)]
    celery.worker_main(["worker", *pool, "--queues", queues, "--loglevel", loglevel, "--without-gossip",
                        "--without-mingle", "--hostname", f"onno-{os.getpid()}@%h"])


def run_workers(n: int, command: list[str]) -> int:
    """Run `n` single worker processes until one exits or this one is told to stop; return the exit status.

    Processes, not threads: one recogniser is one CTranslate2 model running one job at a time, so two jobs on
    two cores need two models. Each gets cores/n threads (unless ONNO_WHISPER_THREADS says otherwise), so they
    do not fight over the same cores."""
    import signal
    import subprocess
    import time

    env = {**os.environ, "ONNO_WORKERS": "1"}
    if not int(env.get("ONNO_WHISPER_THREADS") or 0):
        env["ONNO_WHISPER_THREADS"] = str(max(1, (os.cpu_count() or 1) // n))
    children = [subprocess.Popen(command, env=env) for _ in range(n)]
    told: set[int] = set()  # the signals this process was told to stop with and passed on

    def stop(signum, _frame) -> None:
        told.add(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    stopping = bool(told)
    stop(signal.SIGTERM, None)
    codes = [child.wait() for child in children]
    # A worker that dies of the very signal it was asked to stop with (before Celery's own handler is in place,
    # say) stopped as asked; anything else is a failure to report.
    return next((c for c in codes if c and not (stopping and -c in told)), 0)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, envvar="PORT")
def web(host: str, port: int) -> None:
    """Serve Onno over HTTP: meeting pages (and the Slack app and Stripe webhooks where configured)."""
    from onno.web import serve

    a = app()
    self_check(a)
    serve(a, host=host, port=port)


def self_check(a) -> None:
    """Refuse to start with a key anyone could guess; warn of what else leaves the server open (every long-running
    process: web, worker, the Slack Socket Mode and Discord bots)."""
    from onno import selfcheck

    try:
        for warning in selfcheck.warnings(a.settings):
            click.echo(f"Warning: {warning}", err=True)
    except InputError as exc:
        fail(exc)
