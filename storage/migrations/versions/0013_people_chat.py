"""People on file remember the Slack or Discord member who put themselves there (`/onno email`).

Revision ID: 0003_people_chat
Revises: 0003_discord_settings
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_people_chat"
down_revision = "0003_discord_settings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("people", sa.Column("chat_user", sa.String(64)))
    # NULLs never collide, so the CLI's rows (no chat user) are unaffected: one row per member per workspace.
    op.create_index("uq_people_workspace_chat_user", "people", ["workspace_id", "chat_user"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_people_workspace_chat_user", table_name="people")
    with op.batch_alter_table("people") as batch:  # SQLite drops a column by copying the table
        batch.drop_column("chat_user")
