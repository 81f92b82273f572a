"""Where a Discord server's weekly digest and team notices go, and the digest's Discord post once made.

Revision ID: 0006_discord_places
Revises: 0003_people_confirm
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_discord_places"
# It adds columns to the digest's table (0003_digest) and the notices' settings (0003_notices), both earlier.
down_revision = "0003_people_confirm"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("digest_settings", sa.Column("discord_channel", sa.String(40), nullable=True))
    op.add_column("digests", sa.Column("discord_channel", sa.String(40), nullable=True))
    op.add_column("digests", sa.Column("discord_message", sa.String(40), nullable=True))
    op.add_column("team_notice_settings", sa.Column("discord_channel_id", sa.String(40), nullable=True))
    # Rows made before this say nothing about Discord: automatic, as before.
    op.add_column("team_notice_settings", sa.Column("discord_off", sa.Boolean(), nullable=False,
                                                    server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("team_notice_settings") as t:  # SQLite drops a column by copying the table
        t.drop_column("discord_off")
        t.drop_column("discord_channel_id")
    with op.batch_alter_table("digests") as t:
        t.drop_column("discord_message")
        t.drop_column("discord_channel")
    with op.batch_alter_table("digest_settings") as t:
        t.drop_column("discord_channel")
