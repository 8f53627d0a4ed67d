"""Fan webhook deliveries out from the event log instead of the emitting transaction.

Adds a durable cursor per event consumer (``event_cursors``), the start of
each webhook's stream, a revision counter that tells processes when their
cached subscriptions are stale, and on PostgreSQL the id of the transaction
that wrote each event.

Revision ID: 0003_webhook_fanout
Revises: 0002_webhooks
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_webhook_fanout"
down_revision = "0002_webhooks"
branch_labels = None
depends_on = None

Millis = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Position = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # Event positions come from a sequence and can commit out of order, so
        # the cursor follows transactions instead (see events/cursor.py). The
        # column is added without a default first, so existing rows stay NULL
        # (they were queued by the old hook) and the table is not rewritten.
        op.execute("ALTER TABLE events ADD COLUMN tx_id xid8")
        op.execute("ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT pg_current_xact_id()")
        op.create_index("ix_events_tx", "events", ["tx_id", "position"])

    op.create_table(
        "event_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        # SQLite: the last position read. PostgreSQL: the resume point inside
        # the range being read, together with resume_tx_id.
        sa.Column("position", Position, nullable=False, server_default="0"),
        sa.Column("resume_tx_id", sa.String(32)),
        # PostgreSQL snapshots as text: every event committed in
        # consumed_snapshot was read; target_snapshot bounds the range in progress.
        sa.Column("consumed_snapshot", sa.Text()),
        sa.Column("target_snapshot", sa.Text()),
        sa.Column("updated_at", Millis, nullable=False, server_default="0"),
    )
    if postgres:
        op.execute("INSERT INTO event_cursors (name) VALUES ('webhooks')")
    else:
        # Everything up to the last event was queued by the old hook.
        op.execute(
            "INSERT INTO event_cursors (name, position) "
            "SELECT 'webhooks', COALESCE(MAX(position), 0) FROM events"
        )

    # A webhook receives the events committed after it: on SQLite those past
    # start_position, on PostgreSQL those not visible in start_snapshot.
    # NULL (webhooks older than this revision) receives whatever the cursor reads.
    op.add_column("webhooks", sa.Column("start_position", Position))
    op.add_column("webhooks", sa.Column("start_snapshot", sa.Text()))

    op.create_table(
        "webhook_revisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute("INSERT INTO webhook_revisions (id, revision) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("webhook_revisions")
    op.drop_column("webhooks", "start_snapshot")
    op.drop_column("webhooks", "start_position")
    op.drop_table("event_cursors")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_events_tx", table_name="events")
        op.execute("ALTER TABLE events DROP COLUMN tx_id")
