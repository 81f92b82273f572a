"""People on file confirm a typed address by mail before Onno mails it (double opt-in).

Revision ID: 0003_people_confirm
Revises: 0005_notion_refresh
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_people_confirm"
down_revision = "0005_notion_refresh"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("confirm_sent_at", sa.DateTime(timezone=True)))
    # Everyone already on file keeps getting mail: only addresses typed from now on wait for confirmation.
    op.execute("UPDATE people SET confirmed_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("confirm_sent_at")
        batch.drop_column("confirmed_at")
