"""Jobs, and their results' rows in the outbox: every state change is one conditional UPDATE, so workers never
collide."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from storage.models import Delivery, Job, Workspace, utcnow


def _execute(s: Session, stmt):
    """Run a conditional UPDATE in SQL alone; the caller reads rowcount to learn whether it won."""
    return s.execute(stmt.execution_options(synchronize_session=False))


def new_job_id() -> str:
    return uuid.uuid4().hex[:16]


def delivery_key(job_id: str, target: str) -> str:
    """Stable for a (job, target) pair: receivers deduplicate on it."""
    return f"{job_id}-{hashlib.sha256(target.encode()).hexdigest()[:12]}"


def create_job(s: Session, workspace: Workspace, *, recording_id: int | None, source_name: str,
               options: dict, job_id: str | None = None) -> Job:
    job = Job(id=job_id or new_job_id(), workspace_id=workspace.id, recording_id=recording_id, source_name=source_name,
              options=options, status="queued", step="transcribe", progress=0.0, attempts=0,
              enqueued_at=utcnow())
    s.add(job)
    s.flush()
    return job


def get_job(s: Session, job_id: str, workspace: Workspace | None = None) -> Job | None:
    q = select(Job).where(Job.id == job_id)
    if workspace is not None:
        q = q.where(Job.workspace_id == workspace.id)
    return s.scalar(q)


def list_jobs(s: Session, workspace: Workspace, *, limit: int = 50) -> list[Job]:
    """Newest first."""
    q = select(Job).where(Job.workspace_id == workspace.id).order_by(Job.created_at.desc(), Job.id).limit(limit)
    return list(s.scalars(q))


def claim_job(s: Session, job_id: str, step: str, owner: str, lease: float) -> bool:
    """Take the job's `step` for `owner` unless someone holds a live lease on it or the step is past."""
    now = utcnow()
    res = _execute(s, update(Job).where(
        Job.id == job_id, Job.step == step,
        or_(Job.status == "queued", (Job.status == "running") & (Job.lease_expires_at < now)),
    ).values(status="running", lease_owner=owner, lease_expires_at=now + dt.timedelta(seconds=lease),
             attempts=Job.attempts + 1, error=None))
    if res.rowcount != 1:
        return False
    _execute(s, update(Job).where(Job.id == job_id, Job.started_at.is_(None)).values(started_at=now))
    return True


def renew_lease(s: Session, job_id: str, owner: str, lease: float, progress: float | None = None) -> bool:
    """Extend a held lease (the heartbeat); False means another worker has taken the job over."""
    values: dict = {"lease_expires_at": utcnow() + dt.timedelta(seconds=lease)}
    if progress is not None:
        values["progress"] = progress
    res = _execute(s, update(Job).where(Job.id == job_id, Job.lease_owner == owner, Job.status == "running")
                    .values(**values))
    return res.rowcount == 1


def release_job(s: Session, job_id: str, owner: str, **values) -> bool:
    """Leave the running step with new values, only if `owner` still holds it (fencing a late worker)."""
    res = _execute(s, update(Job).where(Job.id == job_id, Job.lease_owner == owner, Job.status == "running")
                    .values(lease_owner=None, lease_expires_at=None, **values))
    return res.rowcount == 1


def expired_jobs(s: Session) -> list[Job]:
    """Running jobs whose worker stopped renewing its lease (killed, frozen, cut off)."""
    return list(s.scalars(select(Job).where(Job.status == "running", Job.lease_expires_at < utcnow())))


def requeue_expired(s: Session, job_id: str) -> bool:
    """Put a job with a dead lease back in the queue; False when another sweeper or worker got there first."""
    now = utcnow()
    res = _execute(s, update(Job).where(Job.id == job_id, Job.status == "running", Job.lease_expires_at < now)
                    .values(status="queued", lease_owner=None, lease_expires_at=None, enqueued_at=now))
    return res.rowcount == 1


def fail_expired(s: Session, job_id: str, reason: str) -> bool:
    now = utcnow()
    res = _execute(s, update(Job).where(Job.id == job_id, Job.status == "running", Job.lease_expires_at < now)
                   .values(status="failed", error=reason, lease_owner=None, lease_expires_at=None, finished_at=now))
    return res.rowcount == 1


def stale_queued(s: Session, older_than: dt.datetime) -> list[Job]:
    """Queued jobs whose message may have been lost (a broker restart keeps nothing)."""
    return list(s.scalars(select(Job).where(Job.status == "queued", Job.enqueued_at < older_than)))


def touch_enqueued(s: Session, job_id: str, older_than: dt.datetime) -> bool:
    res = _execute(s, update(Job).where(Job.id == job_id, Job.status == "queued", Job.enqueued_at < older_than)
                    .values(enqueued_at=utcnow()))
    return res.rowcount == 1


def create_deliveries(s: Session, job: Job, targets: list[str], *, hold: frozenset[str] = frozenset()
                      ) -> list[Delivery]:
    """Outbox rows for each target, written in the same transaction as the meeting they carry.

    Targets whose kind is in `hold` are made `held`: nothing sends them until the meeting is approved (review first).
    """
    now = utcnow()
    existing = {d.target for d in job.deliveries}
    rows = [Delivery(job_id=job.id, workspace_id=job.workspace_id, target=t, kind=t.partition(":")[0],
                     key=delivery_key(job.id, t),
                     status="held" if t.partition(":")[0] in hold else "pending", attempts=0,
                     next_attempt_at=now, enqueued_at=now) for t in dict.fromkeys(targets) if t not in existing]
    s.add_all(rows)
    s.flush()
    return rows


def redeliver(s: Session, job_id: str, kinds: tuple[str, ...]) -> list[int]:
    """Send again the job's delivered rows of these kinds (those that update what they sent, not post anew),
    because the meeting changed; their ids, for the dispatcher."""
    ids = [d.id for d in s.scalars(select(Delivery).where(Delivery.job_id == job_id, Delivery.status == "delivered"))
           if d.target.partition(":")[0] in kinds]
    if not ids:
        return []
    now = utcnow()
    res = s.execute(update(Delivery).where(Delivery.id.in_(ids), Delivery.status == "delivered")
                    .values(status="pending", attempts=0, next_attempt_at=now, enqueued_at=now, last_error=None)
                    .returning(Delivery.id).execution_options(synchronize_session=False))
    return sorted(res.scalars())


def get_delivery(s: Session, delivery_id: int) -> Delivery | None:
    return s.get(Delivery, delivery_id)
