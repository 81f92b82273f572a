"""Notion refresh tokens: kept encrypted on each connection, and on an OAuth flow until its board is picked.

Revision ID: 0005_notion_refresh
Revises: 0003_people_chat
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_notion_refresh"
# It adds a column to the connections (0003_notion) and to the flows in progress (0003_notion_oauth), both earlier.
down_revision = "0003_people_chat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notion_connections", sa.Column("refresh_encrypted", sa.Text(), nullable=True))
    op.add_column("notion_oauth_flows", sa.Column("refresh_encrypted", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notion_oauth_flows") as t:  # SQLite drops a column by copying the table
        t.drop_column("refresh_encrypted")
    with op.batch_alter_table("notion_connections") as t:
        t.drop_column("refresh_encrypted")
