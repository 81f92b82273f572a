"""The outbox: everything that leaves Onno, claimed with a lease, renewed while it is sent, released to be retried
with one backoff or settled, and its receipts, so nothing is sent twice where it went already.

Every state change is one conditional UPDATE, so senders never collide: a claim takes an item that is due (or whose
sender died, its lease run out), and only the holder of the claim (status `sending`) can renew or release it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.clock import aware
from core.retry import RetryPolicy
from storage.db import insert_ignore
from storage.mail import sends_for
from storage.models import OutboxItem, Receipt, utcnow


def _execute(s: Session, stmt):
    """A conditional UPDATE in SQL alone; the caller reads rowcount to learn whether it won."""
    return s.execute(stmt.execution_options(synchronize_session=False))


def _due(now: dt.datetime):
    """Waiting and due (new, or its retry's time has come), or being sent by a sender whose lease ran out."""
    return or_((OutboxItem.status == "pending")
               & (OutboxItem.next_attempt_at.is_(None) | (OutboxItem.next_attempt_at <= now)),
               (OutboxItem.status == "sending") & (OutboxItem.lease_expires_at < now))


def get(s: Session, item_id: int) -> OutboxItem | None:
    return s.get(OutboxItem, item_id)


def claim(s: Session, item_id: int, lease: float, *, now: dt.datetime | None = None,
          also: tuple[str, ...] = ()) -> bool:
    """Take a due item for sending, for `lease` seconds; a settled one, or one someone else is sending, is not taken.

    `also`: statuses taken besides (an explicit `onno digest send` takes a skipped or failed digest)."""
    now = now or utcnow()
    takeable = _due(now) | OutboxItem.status.in_(also) if also else _due(now)
    res = _execute(s, update(OutboxItem).where(OutboxItem.id == item_id, takeable)
                   .values(status="sending", lease_expires_at=now + dt.timedelta(seconds=lease),
                           attempts=OutboxItem.attempts + 1))
    return res.rowcount == 1


def renew(s: Session, item_id: int, lease: float) -> bool:
    """Extend the claim while a long send goes on; False when the item is no longer being sent."""
    res = _execute(s, update(OutboxItem).where(OutboxItem.id == item_id, OutboxItem.status == "sending")
                   .values(lease_expires_at=utcnow() + dt.timedelta(seconds=lease)))
    return res.rowcount == 1


def release(s: Session, item_id: int, status: str, **values) -> bool:
    """Leave `sending` for `status` (settled, or `pending` again) with new values; False when not being sent."""
    res = _execute(s, update(OutboxItem).where(OutboxItem.id == item_id, OutboxItem.status == "sending")
                   .values(status=status, lease_expires_at=None, **values))
    return res.rowcount == 1


def release_for_retry(s: Session, item_id: int, policy: RetryPolicy, attempts: int, reason: str, *,
                      retry_after: float | None = None, failed: str = "failed", **values) -> float | None:
    """After a failure that may pass: back to `pending` until the policy's wait is over (the wait is returned), or,
    when `attempts` were all the policy allows, settled as `failed` (None is returned)."""
    if policy.exhausted(attempts):
        release(s, item_id, failed, last_error=f"gave up after {attempts} attempts: {reason}", **values)
        return None
    wait = policy.wait(attempts, retry_after)
    now = utcnow()
    release(s, item_id, "pending", last_error=reason, next_attempt_at=now + dt.timedelta(seconds=wait),
            enqueued_at=now, **values)
    return wait


def retry_now(s: Session, item_id: int) -> bool:
    """Make a failed item, or one waiting for its backoff, due now (a failed one with its attempts counted afresh);
    False when it is delivered, held, or being sent."""
    now = utcnow()
    _execute(s, update(OutboxItem).where(OutboxItem.id == item_id, OutboxItem.status == "failed")
             .values(status="pending", attempts=0))
    res = _execute(s, update(OutboxItem).where(OutboxItem.id == item_id, OutboxItem.status == "pending")
                   .values(next_attempt_at=now, enqueued_at=now))
    return res.rowcount == 1


def due(s: Session, category: str, *, now: dt.datetime | None = None, since: dt.datetime | None = None,
        limit: int | None = None) -> list[int]:
    """Items of a category due to be sent, and ones stuck `sending` under a dead lease, oldest first.

    `since`: only items made since then (a digest left half sent for long is stale)."""
    now = now or utcnow()
    q = select(OutboxItem.id).where(OutboxItem.category == category, _due(now))
    if since is not None:
        q = q.where(OutboxItem.created_at >= since)
    return list(s.scalars(q.order_by(OutboxItem.id).limit(limit)))


def unsent(s: Session, category: str, older_than: dt.datetime) -> list[int]:
    """Due items whose broker message may have been lost (none sent since `older_than`), and dead-lease ones."""
    now = utcnow()
    q = select(OutboxItem.id).where(OutboxItem.category == category, or_(
        (OutboxItem.status == "pending") & (OutboxItem.next_attempt_at <= now) & (OutboxItem.enqueued_at < older_than),
        (OutboxItem.status == "sending") & (OutboxItem.lease_expires_at < now)))
    return list(s.scalars(q.order_by(OutboxItem.id)))


def touch(s: Session, item_id: int, older_than: dt.datetime) -> bool:
    """Note that a message for the item goes to the broker now; False when another sweeper did it first."""
    now = utcnow()
    res = _execute(s, update(OutboxItem).where(OutboxItem.id == item_id, or_(
        (OutboxItem.status == "pending") & (OutboxItem.enqueued_at < older_than),
        (OutboxItem.status == "sending") & (OutboxItem.lease_expires_at < now))).values(enqueued_at=now))
    return res.rowcount == 1


def listing(s: Session, workspace_id: int, *, status: str | None = None, limit: int = 50) -> list[OutboxItem]:
    """What a workspace sent or is sending, newest first."""
    q = select(OutboxItem).where(OutboxItem.workspace_id == workspace_id)
    if status is not None:
        q = q.where(OutboxItem.status == status)
    return list(s.scalars(q.order_by(OutboxItem.id.desc()).limit(limit)))


# -- receipts -------------------------------------------------------------------------------------------------------


def record(s: Session, key: str, destination: str, *, ref: str | None = None, error: str | None = None) -> bool:
    """Keep where the item under `key` went (its message's ref) or why it cannot go there; False when on record."""
    values = dict(key=key, destination=destination[:200], ref=ref, error=error, created_at=utcnow())
    return insert_ignore(s, Receipt, values, ["key", "destination"]) is not None


def receipts(s: Session, key: str) -> dict[str, Receipt]:
    """What went where under `key`, in the order it went."""
    return {r.destination: r for r in s.scalars(select(Receipt).where(Receipt.key == key).order_by(Receipt.id))}


def describe(s: Session, item: OutboxItem) -> dict:
    """An outbox item as `onno outbox show --format json` prints it: what it is, where it stands, where it went."""
    def ts(value: dt.datetime | None) -> str | None:
        return aware(value).isoformat() if value else None

    what = {"result": item.target, "notice": item.text, "digest": item.week}.get(item.category)
    went = [{"destination": r.destination, "ref": r.ref, "error": r.error, "at": ts(r.created_at)}
            for r in receipts(s, item.key).values()]
    # E-mail keeps its own receipt per reader, under the same key.
    went += [{"destination": f"email:{address}", "ref": m.message_id, "error": m.reply if m.status != "sent" else None,
              "at": ts(m.created_at)} for address, m in sends_for(s, item.key).items()]
    return {"id": item.id, "category": item.category, "kind": item.kind, "what": what, "key": item.key,
            "workspace_id": item.workspace_id, "job_id": item.job_id, "status": item.status,
            "attempts": item.attempts, "next_attempt_at": ts(item.next_attempt_at) if item.status == "pending" else None,
            "lease_expires_at": ts(item.lease_expires_at), "error": item.last_error,
            "response_status": item.response_status, "created_at": ts(item.created_at),
            "delivered_at": ts(item.delivered_at), "receipts": went}
