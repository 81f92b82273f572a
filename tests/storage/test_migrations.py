"""One linear migration chain: one head, each file's parent the one before it, and databases migrated while
the chain still had branches (stamped with every branch's head) upgrade onto it."""

from __future__ import annotations

import re

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from core.errors import UserError
from onno.service import App
from onno.settings import Settings
from storage import db
from storage.schema import metadata

# What `upgrade "heads"` left in alembic_version when the chain had branches: at the last version with them,
# and at the one before its last two migrations.
BRANCH_HEADS = ["0003_discord", "0003_discord_settings", "0003_people_confirm", "0003_slack", "0004_review",
                "0006_discord_places", "0007_notion_pulls", "0007_stripe_customer_unique"]
EARLIER_HEADS = ["0003_billing", "0003_discord", "0003_discord_settings", "0003_people_confirm", "0003_slack",
                 "0004_review", "0005_notion_refresh", "0006_discord_places"]


def scripts():
    return ScriptDirectory(str(db.MIGRATIONS))


def stamped(engine, revisions: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        for revision in revisions:
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:r)"), {"r": revision})


def versions(engine) -> list[str]:
    with engine.connect() as conn:
        return [r for (r,) in conn.execute(text("SELECT version_num FROM alembic_version"))]


def test_the_chain_has_one_head_and_each_file_follows_the_one_before():
    script = scripts()
    assert len(script.get_heads()) == 1
    chain = list(script.walk_revisions())[::-1]  # base first
    files = [re.match(r"(\d{4})_", s.module.__file__.rsplit("/", 1)[1]).group(1) for s in chain]
    assert files == [f"{n:04d}" for n in range(1, len(chain) + 1)]
    assert [s.down_revision for s in chain] == [None] + [s.revision for s in chain[:-1]]


def test_a_database_stamped_with_every_branch_head_is_at_the_one_head(database_url):
    engine = db.make_engine(database_url)
    db.upgrade(engine)
    stamped(engine, BRANCH_HEADS)
    db.upgrade(engine)
    assert versions(engine) == [scripts().get_current_head()]
    engine.dispose()


def test_a_database_from_before_the_last_migrations_gets_them(database_url):
    engine = db.make_engine(database_url)
    command.upgrade(db.alembic_config(engine), "0006_discord_places")
    stamped(engine, EARLIER_HEADS)
    db.upgrade(engine)
    assert versions(engine) == [scripts().get_current_head()]
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    engine.dispose()


def test_a_database_a_newer_onno_migrated_is_refused_in_words_and_leaves_no_connection_open(postgres_url, tmp_path):
    engine = db.make_engine(postgres_url)
    db.upgrade(engine)
    stamped(engine, ["0099_from_a_newer_onno"])
    name = engine.url.database
    engine.dispose()  # only the App's connections are left to count
    app = App(Settings(data_dir=tmp_path / "data", database_url=postgres_url))
    for _ in range(5):  # a progress watcher asks again every few seconds
        with pytest.raises(UserError) as err:
            app.session().__enter__()
        assert "newer version of Onno" in str(err.value) and "0099_from_a_newer_onno" in str(err.value)
    with engine.connect() as conn:
        others = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = :d AND pid <> "
                                   "pg_backend_pid()"), {"d": name}).scalar()
    assert others == 0
    engine.dispose()
