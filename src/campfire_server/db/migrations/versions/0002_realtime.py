"""Index the event log for mailbox replays.

Revision ID: 0002_realtime
Revises: 0001_foundation
"""

from alembic import op

revision = "0002_realtime"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Replays of a mailbox channel read its events after a position.
    op.create_index("ix_events_mailbox_position", "events", ["org_id", "mailbox_id", "position"])


def downgrade() -> None:
    op.drop_index("ix_events_mailbox_position", table_name="events")
