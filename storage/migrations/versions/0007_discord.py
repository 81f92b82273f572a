"""Discord: members' recording opt-outs, live meetings (their flushed tracks), posted results.

Revision ID: 0003_discord
Revises: 0003_slack
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_discord"
down_revision = "0003_slack"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def workspace_fk() -> sa.Column:
    return sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "discord_optouts",
        sa.Column("id", sa.Integer(), primary_key=True),
        workspace_fk(),
        sa.Column("user_id", sa.String(40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("workspace_id", "user_id", name="uq_discord_optout_member"),
    )
    op.create_index("ix_discord_optouts_workspace_id", "discord_optouts", ["workspace_id"])
    op.create_table(
        "discord_live_meetings",
        sa.Column("id", sa.Integer(), primary_key=True),
        workspace_fk(),
        sa.Column("guild_id", sa.String(40), nullable=False),
        sa.Column("voice_channel_id", sa.String(40), nullable=False),
        sa.Column("text_channel_id", sa.String(40), nullable=False),
        sa.Column("thread_id", sa.String(40)),
        sa.Column("started_by", sa.String(40)),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("folder", sa.String(500), nullable=False),
        sa.Column("speakers", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("job_id", sa.String(32)),
        sa.Column("owner", sa.String(100)),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS),
    )
    op.create_index("ix_discord_live_meetings_workspace_id", "discord_live_meetings", ["workspace_id"])
    op.create_index("ix_discord_live_meetings_guild_id", "discord_live_meetings", ["guild_id"])
    op.create_table(
        "discord_posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("channel_id", sa.String(40), nullable=False),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("key", name="uq_discord_post_key"),
    )


def downgrade() -> None:
    for table in ("discord_posts", "discord_live_meetings", "discord_optouts"):
        op.drop_table(table)
