"""CLI fixtures: an isolated data folder and database (SQLite and PostgreSQL) per test."""

from __future__ import annotations

import os
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from onno.cli import main

POSTGRES = os.environ.get("ONNO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'onno.db'}"
        return
    name = f"onno_cli_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES.rsplit("/", 1)[0] + "/" + name
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def onno_env(tmp_path, monkeypatch, database_url):
    """Point Onno at a private data folder and database; return the environment for subprocesses."""
    data = tmp_path / "data"
    monkeypatch.setenv("ONNO_DATA_DIR", str(data))
    monkeypatch.setenv("ONNO_DATABASE_URL", database_url)
    return {**os.environ, "ONNO_DATA_DIR": str(data), "ONNO_DATABASE_URL": database_url}


@pytest.fixture
def onno(onno_env):
    """Run the CLI in-process (the speech model stays loaded between calls)."""
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run
