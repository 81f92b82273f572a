"""Notion OAuth flows in progress: the single-use state sent to Notion, the token waiting for a board pick.

Revision ID: 0003_notion_oauth
Revises: 0003_notices
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_notion_oauth"
down_revision = "0003_notices"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notion_oauth_flows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(64), nullable=False, unique=True),
        sa.Column("pick_key", sa.String(64), unique=True),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("token_encrypted", sa.Text()),
        sa.Column("notion_workspace", sa.String(200)),
        sa.Column("duplicated_template_id", sa.String(64)),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_notion_oauth_flows_workspace_id", "notion_oauth_flows", ["workspace_id"])


def downgrade() -> None:
    op.drop_table("notion_oauth_flows")
