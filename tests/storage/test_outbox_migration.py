"""Moving to the one outbox loses nothing: pending results, notices and digests, and where they went already, are
in `outbox` and `outbox_receipts` afterwards, sent by the same code, and the way back gives the old tables again."""

from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import select, text

from storage import db
from storage import outbox as outbox_repo
from storage.digest import Digest
from storage.models import Delivery, OutboxItem
from storage.notices import TeamNotice

BEFORE = "0007_notion_pulls"
WHEN = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def old_rows(conn) -> None:
    """A workspace with a job whose Slack result is waiting for a retry, a notice posted in Slack and still due in
    Discord, and a digest posted in Slack, left half sent."""
    conn.execute(text("INSERT INTO workspaces (id, name, platform, external_id, created_at) "
                      "VALUES (1, 'Team', 'slack', 'T1', :t)"), {"t": WHEN})
    conn.execute(text("INSERT INTO jobs (id, workspace_id, source_name, options, status, step, progress, attempts, "
                      "created_at) VALUES ('job1', 1, 'a.wav', '{}', 'done', 'extract', 1.0, 1, :t)"), {"t": WHEN})
    conn.execute(text("INSERT INTO deliveries (id, job_id, target, key, status, attempts, next_attempt_at, "
                      "enqueued_at, last_error, response_status, created_at) VALUES (7, 'job1', 'slack:C1', 'job1-ab', "
                      "'pending', 2, :t, :t, 'Slack: rate limited', 429, :t)"), {"t": WHEN})
    conn.execute(text("INSERT INTO team_notices (workspace_id, key, kind, text, hint, status, attempts, "
                      "next_attempt_at, destinations, created_at) VALUES (1, 'notion-broken-1', 'notion_broken', "
                      "'Board gone.', 'Reconnect.', 'pending', 1, :t, :d, :t)"),
                 {"t": WHEN, "d": '{"slack:C1": {"ref": "111.222"}, "discord:9": {"error": "403"}}'})
    conn.execute(text("INSERT INTO digests (workspace_id, week, round, status, attempts, lease_expires_at, "
                      "slack_channel, slack_ts, emailed, note, created_at) VALUES (1, '2026-W48', 2, 'sending', 1, "
                      ":t, 'C1', '333.444', 1, 'deferred', :t)"), {"t": WHEN})


def test_pending_rows_of_the_three_old_tables_move_into_the_outbox_and_back(database_url):
    engine = db.make_engine(database_url)
    cfg = db.alembic_config(engine)
    command.upgrade(cfg, BEFORE)
    with engine.begin() as conn:
        old_rows(conn)
    db.upgrade(engine)
    with db.session_scope(engine) as s:
        d = s.get(Delivery, 7)  # a broker message naming the result still finds it
        assert (d.key, d.workspace_id, d.kind, d.target, d.status, d.attempts, d.last_error, d.response_status) == (
            "job1-ab", 1, "slack", "slack:C1", "pending", 2, "Slack: rate limited", 429)
        [n] = s.scalars(select(TeamNotice))
        assert (n.key, n.kind, n.text, n.hint, n.status) == ("notion-broken-1", "notion_broken", "Board gone.",
                                                            "Reconnect.", "pending")
        assert n.destinations == {"slack:C1": {"ref": "111.222"}, "discord:9": {"error": "403"}}
        [g] = s.scalars(select(Digest))
        assert (g.key, g.week, g.round, g.status, g.emailed, g.note) == ("digest-1-2026-W48-2", "2026-W48", 2,
                                                                         "sending", 1, "deferred")
        assert (g.slack_channel, g.slack_ts, g.discord_message) == ("C1", "333.444", None)
        assert {o.id for o in s.scalars(select(OutboxItem))} == {7, 8, 9}
        # Still due, the same way: the result and the notice now, the digest once its dead sender's lease is over.
        assert outbox_repo.due(s, "result") == [7] and outbox_repo.due(s, "notice") == [n.id]
        assert outbox_repo.due(s, "digest", now=WHEN + dt.timedelta(seconds=1)) == [g.id]
        assert outbox_repo.claim(s, n.id, 60) and not outbox_repo.claim(s, n.id, 60)
        # New rows are numbered after the moved ones (PostgreSQL's sequence was moved on too).
        assert outbox_repo.record(s, "job1-ab", "slack:C1", ref="555.666")
        s.add(TeamNotice(key="later", workspace_id=1, kind="test", text="t", hint="", status="pending", attempts=0,
                         created_at=WHEN))
        s.flush()
        assert s.scalar(select(TeamNotice.id).where(TeamNotice.key == "later")) == 10
    command.downgrade(cfg, BEFORE)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, status, attempts FROM deliveries")).all() == [(7, "pending", 2)]
        assert conn.execute(text("SELECT slack_ts, round FROM digests")).all() == [("333.444", 2)]
        assert sorted(k for (k,) in conn.execute(text("SELECT key FROM team_notices"))) == ["later",
                                                                                           "notion-broken-1"]
    engine.dispose()
