"""A Stripe customer belongs to one workspace: the column becomes unique.

Revision ID: 0007_stripe_customer_unique
Revises: 0006_discord_places
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_stripe_customer_unique"
down_revision = "0006_discord_places"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A customer two accounts share (possible before) stays with the account that had it first.
    op.execute(sa.text(
        "UPDATE billing_accounts SET stripe_customer_id = NULL WHERE stripe_customer_id IS NOT NULL AND id NOT IN "
        "(SELECT first FROM (SELECT MIN(id) AS first FROM billing_accounts WHERE stripe_customer_id IS NOT NULL "
        "GROUP BY stripe_customer_id) AS firsts)"))
    op.drop_index("ix_billing_accounts_stripe_customer_id", table_name="billing_accounts")
    op.create_index("ix_billing_accounts_stripe_customer_id", "billing_accounts", ["stripe_customer_id"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ix_billing_accounts_stripe_customer_id", table_name="billing_accounts")
    op.create_index("ix_billing_accounts_stripe_customer_id", "billing_accounts", ["stripe_customer_id"])
