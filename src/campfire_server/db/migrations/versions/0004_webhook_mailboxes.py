"""Limit a webhook to mailboxes, as keys and tokens are.

``mailbox_ids`` is a JSON list; an empty list, the value of every existing
webhook, receives the events of every mailbox.

Revision ID: 0004_webhook_mailboxes
Revises: 0003_webhook_fanout
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_webhook_mailboxes"
down_revision = "0003_webhook_fanout"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "webhooks",
        sa.Column("mailbox_ids", sa.Text(), nullable=False, server_default="[]"),
    )


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("mailbox_ids")
