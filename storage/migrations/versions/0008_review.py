"""Review first: the workspace setting, meetings held for review, and per-finding reviews (approve/drop/edit).

Revision ID: 0004_review
Revises: 0003_discord
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_review"
down_revision = "0003_discord"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "workspace_settings",
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("review_first", sa.Boolean(), nullable=False),
    )
    op.create_table(
        "meeting_reviews",
        sa.Column("meeting_id", sa.Integer(), sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("approved_by", sa.String(200)),
        sa.Column("approved_at", TS),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_meeting_reviews_workspace_id", "meeting_reviews", ["workspace_id"])
    op.create_table(
        "finding_reviews",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("edits", sa.JSON(), nullable=False),
        sa.Column("user", sa.String(200)),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("finding_id", name="uq_finding_review_finding"),
    )


def downgrade() -> None:
    op.drop_table("finding_reviews")
    op.drop_index("ix_meeting_reviews_workspace_id", table_name="meeting_reviews")
    op.drop_table("meeting_reviews")
    op.drop_table("workspace_settings")
