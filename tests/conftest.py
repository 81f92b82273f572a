"""Shared fixtures: a fresh database of each kind (SQLite file, PostgreSQL on 127.0.0.1), a real SMTP server, the
fake Notion API."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text

from tests.integrations.mailbox import Mailbox
from tests.integrations.notion_fake import FakeNotion, NotionServer

POSTGRES = os.environ.get("ONNO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped (with its connections) afterwards."""
    name = f"onno_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'onno.db'}"
        return
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def postgres_url():
    """A fresh, empty PostgreSQL database (for what only scales out on PostgreSQL)."""
    with fresh_postgres() as url:
        yield url


@pytest.fixture
def mailbox():
    """A real SMTP server (aiosmtpd) that keeps what it is sent."""
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.fixture
def notion():
    """The fake Notion API, with a token of its own (rate limits are per token)."""
    server = NotionServer(FakeNotion())
    server.state.token = server.state.add_token(f"ntn_test_{uuid.uuid4().hex}")
    yield server
    server.close()
