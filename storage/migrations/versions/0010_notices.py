"""Team notices (told once: a broken Notion board, a failed payment, a downgrade) and where Slack shows them.

Revision ID: 0003_notices
Revises: 0003_digest
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_notices"
down_revision = "0003_digest"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "team_notices",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("hint", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS),
        sa.Column("lease_expires_at", TS),
        sa.Column("last_error", sa.Text()),
        sa.Column("destinations", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("delivered_at", TS),
    )
    op.create_index("ix_team_notices_workspace_id", "team_notices", ["workspace_id"])
    op.create_index("ix_team_notices_status", "team_notices", ["status"])
    op.create_table(
        "team_notice_settings",
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("slack_channel_id", sa.String(40)),
        sa.Column("slack_off", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("team_notice_settings")
    op.drop_table("team_notices")
