"""Discord: per-channel (and server-wide) meeting settings, and who handed each meeting to a job from where.

Revision ID: 0003_discord_settings
Revises: 0003_notion_oauth
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_discord_settings"
down_revision = "0003_notion_oauth"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def workspace_fk() -> sa.Column:
    return sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "discord_channel_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        workspace_fk(),
        sa.Column("channel_id", sa.String(40), nullable=False),
        sa.Column("meeting_type", sa.String(40)),
        sa.Column("email", sa.Boolean()),
        sa.Column("notion", sa.Boolean()),
        sa.Column("notion_target", sa.String(100)),
        sa.Column("review_first", sa.Boolean()),
        sa.Column("updated_by", sa.String(40)),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("workspace_id", "channel_id", name="uq_discord_channel_settings"),
    )
    op.create_index("ix_discord_channel_settings_workspace_id", "discord_channel_settings", ["workspace_id"])
    op.create_table(
        "discord_intakes",
        sa.Column("id", sa.Integer(), primary_key=True),
        workspace_fk(),
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("channel_id", sa.String(40), nullable=False),
        sa.Column("started_by", sa.String(40)),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("job_id", name="uq_discord_intake_job"),
    )
    op.create_index("ix_discord_intakes_workspace_id", "discord_intakes", ["workspace_id"])


def downgrade() -> None:
    for table in ("discord_intakes", "discord_channel_settings"):
        op.drop_table(table)
