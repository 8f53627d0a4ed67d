"""Record when each webhook was disabled, so an event goes to the webhooks enabled when it happened.

``disabled_periods`` is a JSON list of ``{"from": marker, "to": marker}``,
where a marker is ``{"position", "snapshot"}`` (see
``webhooks.subscriptions``) and a ``to`` of null means still disabled. A
``from`` of null reaches back before every event: the webhooks disabled
now get one such open period, because when they were disabled is unknown.

Revision ID: 0005_webhook_disabled_periods
Revises: 0004_webhook_mailboxes
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_webhook_disabled_periods"
down_revision = "0004_webhook_mailboxes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "webhooks",
        sa.Column("disabled_periods", sa.Text(), nullable=False, server_default="[]"),
    )
    op.execute(
        sa.text(
            "UPDATE webhooks SET disabled_periods = :periods WHERE enabled = :enabled"
        ).bindparams(periods='[{"from":null,"to":null}]', enabled=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("disabled_periods")
