"""Where Onno keeps things: SQLAlchemy models, migrations, repositories, and the recording blob store."""
