"""Alembic environment: runs on the engine the caller passes in config.attributes."""

from alembic import context

from storage.models import Base

config = context.config


def run() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        context.run_migrations()


run()
