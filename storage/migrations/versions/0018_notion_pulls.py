"""Notion incremental pulls: when each board's last complete pull began, so the next asks only for what changed.

Revision ID: 0007_notion_pulls
Revises: 0007_stripe_customer_unique
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_notion_pulls"
down_revision = "0007_stripe_customer_unique"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty on boards connected before this: their next pull reads the whole board once, as before.
    op.add_column("notion_connections", sa.Column("pull_started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notion_connections") as t:  # SQLite drops a column by copying the table
        t.drop_column("pull_started_at")
