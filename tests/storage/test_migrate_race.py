"""Processes starting together on a fresh database all come up: migrations run once, the others wait."""

from __future__ import annotations

import multiprocessing
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, inspect

from storage import db
from tests.conftest import fresh_postgres

PROCESSES, ROUNDS = 6, 3


def _upgrade(url: str, barrier, out) -> None:
    barrier.wait()
    try:
        db.upgrade(url)
        out.put("ok")
    except Exception as exc:  # noqa: BLE001  (the parent asserts on it)
        out.put(f"{type(exc).__name__}: {str(exc)[:300]}")


@contextmanager
def fresh(kind: str, tmp_path, n: int):
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / f'race{n}.db'}"
    else:
        with fresh_postgres() as url:
            yield url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_processes_migrating_a_fresh_database_together_all_succeed(kind, tmp_path):
    ctx = multiprocessing.get_context("fork")
    for n in range(ROUNDS):
        with fresh(kind, tmp_path, n) as url:
            barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
            procs = [ctx.Process(target=_upgrade, args=(url, barrier, out)) for _ in range(PROCESSES)]
            for p in procs:
                p.start()
            results = [out.get(timeout=180) for _ in procs]
            for p in procs:
                p.join(60)
            assert results == ["ok"] * PROCESSES
            engine = create_engine(url)
            assert "alembic_version" in inspect(engine).get_table_names()
            engine.dispose()
