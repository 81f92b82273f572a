"""People on file per workspace (for e-mailed summaries, with opt-out) and per-recipient e-mail receipts.

Revision ID: 0003_email
Revises: 0003_billing
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_email"
down_revision = "0003_billing"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace_id", sa.Integer(), sa.ForeignKey("workspaces.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("opted_out", sa.Boolean(), nullable=False),
        sa.Column("opted_out_at", TS),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("workspace_id", "email", name="uq_person_workspace_email"),
    )
    op.create_index("ix_people_workspace_id", "people", ["workspace_id"])
    op.create_table(
        "email_sends",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("delivery_key", sa.String(100), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("message_id", sa.String(400), nullable=False),
        sa.Column("reply", sa.Text()),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("delivery_key", "recipient", name="uq_email_send_key_recipient"),
    )


def downgrade() -> None:
    op.drop_table("email_sends")
    op.drop_table("people")
