"""CLI fixtures: an isolated data folder and database (from tests/conftest.py) per test."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from onno.cli import main


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
