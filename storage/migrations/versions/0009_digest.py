"""Weekly digests: the workspace's digest setting (on/off, Slack channel) and one row per workspace and ISO week.

Revision ID: 0003_digest
Revises: 0004_review
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_digest"
down_revision = "0004_review"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "digest_settings",
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("enabled", sa.Boolean()),
        sa.Column("slack_channel", sa.String(40)),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_expires_at", TS),
        sa.Column("next_attempt_at", TS),
        sa.Column("slack_channel", sa.String(40)),
        sa.Column("slack_ts", sa.String(40)),
        sa.Column("emailed", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("sent_at", TS),
        sa.UniqueConstraint("workspace_id", "week", name="uq_digest_workspace_week"),
    )
    op.create_index("ix_digests_workspace_id", "digests", ["workspace_id"])


def downgrade() -> None:
    op.drop_index("ix_digests_workspace_id", table_name="digests")
    op.drop_table("digests")
    op.drop_table("digest_settings")
