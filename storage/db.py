"""Engines, sessions and migrations for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

from core.errors import UserError
from core.private import private_sqlite

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine that survives the usual trouble: SQLite lock waits, PostgreSQL connections dropped."""
    if url.startswith("sqlite"):
        private_sqlite(url)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")  # readers never wait for the one writer
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def insert_ignore(s: Session, model, values: dict, unique: list[str]):
    """INSERT … ON CONFLICT (unique) DO NOTHING on SQLite and PostgreSQL alike: never aborts the transaction.

    Returns the new row's primary key (None when a row with those values was there)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING says whether a row went in (rowcount is not reliable for INSERT … RETURNING on every driver).
    key = next(iter(model.__table__.primary_key.columns))
    return s.execute(insert(model).values(**values).on_conflict_do_nothing(index_elements=unique)
                     .returning(key)).scalar()


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


MIGRATION_LOCK = 0x6F6E6E6F  # "onno": the PostgreSQL advisory lock every process takes to migrate


def upgrade(target: Engine | str) -> None:
    """Apply every migration up to the newest, one process at a time: `web` and `worker` start together on a
    fresh database, and the second must find the first one's tables, not race it to create them."""
    engine = make_engine(target) if isinstance(target, str) else target
    with migration_lock(engine):
        cfg = alembic_config(engine)
        refuse_unknown_revisions(engine, cfg)
        settle_branch_heads(engine, cfg)
        command.upgrade(cfg, "head")


def refuse_unknown_revisions(engine: Engine, cfg: Config) -> None:
    """A database a newer Onno migrated is said so in words (Alembic would only say it can't locate a revision)."""
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
    unknown = sorted(set(heads) - known)
    if unknown:
        raise UserError("database_from_newer_onno", where=engine.url.render_as_string(hide_password=True),
                        revisions=", ".join(unknown))


def settle_branch_heads(engine: Engine, cfg: Config) -> None:
    """Stamp a database migrated while the chain still had branches at the furthest of its branch heads.

    The one chain is those migrations in the order they were added, so every earlier version of Onno applied a
    run from its start and its heads all lie on that run. Heads Alembic does not know are left for it to report."""
    with engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    if len(heads) < 2:
        return
    chain = [script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()][::-1]
    if all(head in chain for head in heads):
        command.stamp(cfg, max(heads, key=chain.index), purge=True)


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """A lock across processes: PostgreSQL's advisory lock, or an exclusive lock on a file beside the SQLite one."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with os.fdopen(os.open(f"{database}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600), "r+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or when the process dies
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends and rolls everything back if it raises."""
    session = sessionmaker(engine, expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
