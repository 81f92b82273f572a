"""Slack: installations (encrypted), seen events, shared files and their jobs, action item marks, channel settings.

Revision ID: 0003_slack
Revises: 0003_notion
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_slack"
down_revision = "0003_notion"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def workspace_fk() -> sa.Column:
    return sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"),
                     nullable=False)


def upgrade() -> None:
    op.create_table(
        "slack_installations",
        sa.Column("id", sa.Integer(), primary_key=True),
        workspace_fk(),
        sa.Column("install_key", sa.String(100), nullable=False),
        sa.Column("team_id", sa.String(40)),
        sa.Column("enterprise_id", sa.String(40)),
        sa.Column("bot_user_id", sa.String(40)),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("installed_at", TS, nullable=False),
        sa.UniqueConstraint("install_key", name="uq_slack_installation_key"),
    )
    op.create_index("ix_slack_installations_workspace_id", "slack_installations", ["workspace_id"])
    op.create_table(
        "slack_oauth_states",
        sa.Column("state", sa.String(100), primary_key=True),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "slack_events",
        sa.Column("event_id", sa.String(100), primary_key=True),
        sa.Column("team_id", sa.String(40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "slack_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        workspace_fk(),
        sa.Column("file_id", sa.String(40), nullable=False),
        sa.Column("channel_id", sa.String(40), nullable=False),
        sa.Column("thread_ts", sa.String(40)),
        sa.Column("user_id", sa.String(40)),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("job_id", sa.String(32)),
        sa.Column("status_ts", sa.String(40)),
        sa.Column("status_text", sa.Text()),
        sa.Column("result_ts", sa.String(40)),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("workspace_id", "file_id", name="uq_slack_file_workspace_file"),
    )
    op.create_index("ix_slack_files_workspace_id", "slack_files", ["workspace_id"])
    op.create_index("ix_slack_files_channel_id", "slack_files", ["channel_id"])
    op.create_index("ix_slack_files_job_id", "slack_files", ["job_id"])
    op.create_table(
        "action_item_marks",
        sa.Column("id", sa.Integer(), primary_key=True),
        workspace_fk(),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(40)),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("finding_id", name="uq_action_item_mark_finding"),
    )
    op.create_index("ix_action_item_marks_workspace_id", "action_item_marks", ["workspace_id"])
    op.create_table(
        "slack_channel_settings",
        sa.Column("id", sa.Integer(), primary_key=True),
        workspace_fk(),
        sa.Column("channel_id", sa.String(40), nullable=False),
        sa.Column("meeting_type", sa.String(40), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.UniqueConstraint("workspace_id", "channel_id", name="uq_slack_channel_settings"),
    )
    op.create_index("ix_slack_channel_settings_workspace_id", "slack_channel_settings", ["workspace_id"])


def downgrade() -> None:
    for table in ("slack_channel_settings", "action_item_marks", "slack_files", "slack_events",
                  "slack_oauth_states", "slack_installations"):
        op.drop_table(table)
