"""Notion connections per workspace and the cards they hold (page ids against findings and tickets).

Revision ID: 0003_notion
Revises: 0003_email
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_notion"
down_revision = "0003_email"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notion_connections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_encrypted", sa.Text(), nullable=False),
        sa.Column("bot_id", sa.String(64)),
        sa.Column("notion_workspace", sa.String(200)),
        sa.Column("database_id", sa.String(64), nullable=False),
        sa.Column("data_source_id", sa.String(64), nullable=False),
        sa.Column("board_title", sa.String(500), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("broken_reason", sa.Text()),
        sa.Column("broken_at", TS),
        sa.Column("last_synced_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("workspace_id", "name", name="uq_notion_connection_workspace_name"),
    )
    op.create_index("ix_notion_connections_workspace_id", "notion_connections", ["workspace_id"])
    op.create_table(
        "notion_cards",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("connection_id", sa.Integer(), sa.ForeignKey("notion_connections.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("page_id", sa.String(64)),
        sa.Column("onno_id", sa.String(100)),
        sa.Column("finding_id", sa.Integer(), sa.ForeignKey("findings.id", ondelete="SET NULL")),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("tickets.id", ondelete="SET NULL")),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("notion_status", sa.String(20)),
        sa.Column("notion_title", sa.Text()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("connection_id", "page_id", name="uq_notion_card_page"),
        sa.UniqueConstraint("connection_id", "onno_id", name="uq_notion_card_onno_id"),
    )
    op.create_index("ix_notion_cards_connection_id", "notion_cards", ["connection_id"])
    op.create_index("ix_notion_cards_ticket_id", "notion_cards", ["ticket_id"])


def downgrade() -> None:
    op.drop_table("notion_cards")
    op.drop_table("notion_connections")
