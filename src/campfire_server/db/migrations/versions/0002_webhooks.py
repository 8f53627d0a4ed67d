"""Webhook subscriptions, their delivery outbox and the log of attempts.

Revision ID: 0002_webhooks
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_webhooks"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

# Epoch milliseconds; BIGINT on PostgreSQL, INTEGER (64-bit) on SQLite.
Millis = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("org_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("secret", sa.String(512), nullable=False),
        sa.Column("previous_secret", sa.String(512)),
        sa.Column("previous_secret_expires_at", Millis),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("disabled_reason", sa.Text()),
        sa.Column("failing_since", Millis),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
    )
    # The outbox hook runs this lookup once per emitted event.
    op.create_index("ix_webhooks_org_enabled", "webhooks", ["org_id", "enabled"])
    op.create_index("ix_webhooks_org_created", "webhooks", ["org_id", "created_at", "id"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("webhook_id", sa.String(64), sa.ForeignKey("webhooks.id"), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        # The exact body that is signed and sent, as UTF-8 text.
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", Millis),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("locked_until", Millis),
        sa.Column("claimed_by", sa.String(64)),
        sa.Column("window_started_at", Millis),
        sa.Column("delivered_at", Millis),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
    )
    # Workers claim due rows through this index; a claimed row's
    # next_attempt_at is its lease expiry, so stale claims are due again too.
    op.create_index(
        "ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"]
    )
    op.create_index(
        "ix_webhook_deliveries_webhook",
        "webhook_deliveries",
        ["webhook_id", "created_at", "id"],
    )

    op.create_table(
        "webhook_attempts",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column(
            "delivery_id", sa.String(64), sa.ForeignKey("webhook_deliveries.id"), nullable=False
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("attempted_at", Millis, nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_excerpt", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.Column("next_retry_at", Millis),
        sa.Column("worker_id", sa.String(64)),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
