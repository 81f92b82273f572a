"""One outbox: results, team notices and weekly digests move into `outbox`, where they went into `outbox_receipts`.

Revision ID: 0019_outbox
Revises: 0007_notion_pulls
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_outbox"
down_revision = "0007_notion_pulls"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)

# The three tables as they were (read on the way up, made again on the way down).
OLD = sa.MetaData()
sa.Table("workspaces", OLD, sa.Column("id", sa.Integer(), primary_key=True))
JOBS = sa.Table("jobs", OLD, sa.Column("id", sa.String(32), primary_key=True), sa.Column("workspace_id", sa.Integer()))
DELIVERIES = sa.Table(
    "deliveries", OLD,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("target", sa.String(2000), nullable=False),
    sa.Column("key", sa.String(100), nullable=False, unique=True),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", TS),
    sa.Column("enqueued_at", TS),
    sa.Column("lease_expires_at", TS),
    sa.Column("last_error", sa.Text()),
    sa.Column("response_status", sa.Integer()),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("delivered_at", TS),
    sa.UniqueConstraint("job_id", "target", name="uq_delivery_job_target"),
)
NOTICES = sa.Table(
    "team_notices", OLD,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("key", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("hint", sa.Text(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False, index=True),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", TS),
    sa.Column("lease_expires_at", TS),
    sa.Column("last_error", sa.Text()),
    sa.Column("destinations", sa.JSON(), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("delivered_at", TS),
)
DIGESTS = sa.Table(
    "digests", OLD,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False,
              index=True),
    sa.Column("week", sa.String(10), nullable=False),
    sa.Column("round", sa.Integer(), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("lease_expires_at", TS),
    sa.Column("next_attempt_at", TS),
    sa.Column("slack_channel", sa.String(40)),
    sa.Column("slack_ts", sa.String(40)),
    sa.Column("discord_channel", sa.String(40)),
    sa.Column("discord_message", sa.String(40)),
    sa.Column("emailed", sa.Integer(), nullable=False),
    sa.Column("note", sa.Text()),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("sent_at", TS),
    sa.UniqueConstraint("workspace_id", "week", name="uq_digest_workspace_week"),
)
# Columns every category shares, by the same name on both sides.
SHARED = ("status", "attempts", "next_attempt_at", "lease_expires_at", "last_error", "created_at")


def digest_key(workspace_id: int, week: str, round_: int) -> str:
    return f"digest-{workspace_id}-{week}-{round_}"


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("outbox"):  # stamped back to an older head after it ran: nothing to move
        return
    outbox = op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS),
        sa.Column("enqueued_at", TS),
        sa.Column("lease_expires_at", TS),
        sa.Column("last_error", sa.Text()),
        sa.Column("response_status", sa.Integer()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
        sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE")),
        sa.Column("target", sa.String(2000)),
        sa.Column("text", sa.Text()),
        sa.Column("hint", sa.Text()),
        sa.Column("week", sa.String(10)),
        sa.Column("round", sa.Integer()),
        sa.Column("emailed", sa.Integer()),
        sa.UniqueConstraint("job_id", "target", name="uq_outbox_job_target"),
        sa.UniqueConstraint("workspace_id", "week", name="uq_outbox_workspace_week"),
    )
    for column in ("category", "workspace_id", "status", "job_id"):
        op.create_index(f"ix_outbox_{column}", "outbox", [column])
    receipts = op.create_table(
        "outbox_receipts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("destination", sa.String(200), nullable=False),
        sa.Column("ref", sa.String(200)),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("key", "destination", name="uq_receipt_key_destination"),
    )

    # Nothing pending is lost: every row moves over. Results keep their ids (a broker message may name one).
    conn = op.get_bind()
    rows, marks = [], []
    for d in conn.execute(sa.select(DELIVERIES, JOBS.c.workspace_id).join(JOBS, JOBS.c.id == DELIVERIES.c.job_id)):
        rows.append({**{c: getattr(d, c) for c in SHARED}, "id": d.id, "category": "result", "key": d.key,
                     "workspace_id": d.workspace_id, "kind": d.target.partition(":")[0], "job_id": d.job_id,
                     "target": d.target, "enqueued_at": d.enqueued_at, "response_status": d.response_status,
                     "delivered_at": d.delivered_at})
    next_id = max((r["id"] for r in rows), default=0) + 1
    for n in conn.execute(sa.select(NOTICES).order_by(NOTICES.c.id)):
        rows.append({**{c: getattr(n, c) for c in SHARED}, "id": next_id, "category": "notice", "key": n.key,
                     "workspace_id": n.workspace_id, "kind": n.kind, "text": n.text, "hint": n.hint,
                     "delivered_at": n.delivered_at})
        next_id += 1
        for place, outcome in (n.destinations or {}).items():
            marks.append({"key": n.key, "destination": place[:200], "ref": outcome.get("ref"),
                          "error": outcome.get("error"), "created_at": n.delivered_at or n.created_at})
    for g in conn.execute(sa.select(DIGESTS).order_by(DIGESTS.c.id)):
        key = digest_key(g.workspace_id, g.week, g.round)
        rows.append({**{c: getattr(g, c) for c in SHARED if c != "last_error"}, "id": next_id, "category": "digest",
                     "key": key, "workspace_id": g.workspace_id, "kind": "weekly", "week": g.week, "round": g.round,
                     "emailed": g.emailed, "last_error": g.note, "delivered_at": g.sent_at})
        next_id += 1
        for platform, channel, ref in (("slack", g.slack_channel, g.slack_ts),
                                       ("discord", g.discord_channel, g.discord_message)):
            if ref:
                marks.append({"key": key, "destination": f"{platform}:{channel}", "ref": ref, "error": None,
                              "created_at": g.sent_at or g.created_at})
    if rows:  # one statement for all: every row names every column
        conn.execute(outbox.insert(), [{c.name: r.get(c.name) for c in outbox.columns} for r in rows])
    if marks:
        conn.execute(receipts.insert(), marks)
    if conn.dialect.name == "postgresql":  # the ids were given: the sequence goes on after them
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('outbox', 'id'), "
                             "(SELECT COALESCE(MAX(id), 0) + 1 FROM outbox), false)"))
    op.drop_table("deliveries")
    op.drop_table("team_notices")
    op.drop_table("digests")


def downgrade() -> None:
    conn = op.get_bind()
    OLD.create_all(conn, tables=[DELIVERIES, NOTICES, DIGESTS])
    outbox = sa.table("outbox", *(sa.column(c.name, c.type) for c in sa.Table(
        "outbox", sa.MetaData(), autoload_with=conn).columns))
    receipts = sa.Table("outbox_receipts", sa.MetaData(), autoload_with=conn)
    marks: dict[str, dict[str, tuple]] = {}
    for r in conn.execute(sa.select(receipts).order_by(receipts.c.id)):
        marks.setdefault(r.key, {})[r.destination] = (r.ref, r.error)
    for o in conn.execute(sa.select(outbox).order_by(outbox.c.id)):
        shared = {c: getattr(o, c) for c in SHARED}
        went = marks.get(o.key, {})
        if o.category == "result":
            conn.execute(DELIVERIES.insert().values(**shared, id=o.id, job_id=o.job_id, target=o.target, key=o.key,
                                                    enqueued_at=o.enqueued_at, response_status=o.response_status,
                                                    delivered_at=o.delivered_at))
        elif o.category == "notice":
            destinations = {d: ({"error": e} if e is not None else {"ref": ref}) for d, (ref, e) in went.items()}
            conn.execute(NOTICES.insert().values(**shared, workspace_id=o.workspace_id, key=o.key, kind=o.kind,
                                                 text=o.text or "", hint=o.hint or "", destinations=destinations,
                                                 delivered_at=o.delivered_at))
        elif o.category == "digest":
            posts = {d.partition(":")[0]: (d.partition(":")[2], ref) for d, (ref, _e) in went.items() if ref}
            slack, discord = posts.get("slack", (None, None)), posts.get("discord", (None, None))
            conn.execute(DIGESTS.insert().values(
                **{c: v for c, v in shared.items() if c != "last_error"}, workspace_id=o.workspace_id, week=o.week,
                round=o.round or 1, emailed=o.emailed or 0, note=o.last_error, sent_at=o.delivered_at,
                slack_channel=slack[0], slack_ts=slack[1], discord_channel=discord[0], discord_message=discord[1]))
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('deliveries', 'id'), "
                             "(SELECT COALESCE(MAX(id), 0) + 1 FROM deliveries), false)"))
    op.drop_table("outbox_receipts")
    op.drop_table("outbox")
