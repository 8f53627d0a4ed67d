"""Store agent socket leases for servers on PostgreSQL without Redis.

Each row is one agent socket of one server process, with an expiry that the
process renews while it runs. Rows whose expiry passed belong to a process
that died, so any live process can mark their agents offline.

Revision ID: 0003_presence_leases
Revises: 0002_realtime
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_presence_leases"
down_revision = "0002_realtime"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "presence_leases",
        sa.Column("connection_id", sa.String(64), primary_key=True),
        sa.Column("process_id", sa.String(64), nullable=False),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("agent_id", sa.String(64), nullable=False),
        # The JSON list of the socket token's mailbox ids, empty for all mailboxes.
        sa.Column("mailbox_ids", sa.Text(), nullable=False),
        # Epoch milliseconds.
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_presence_leases_agent", "presence_leases", ["org_id", "agent_id"])
    op.create_index("ix_presence_leases_process", "presence_leases", ["process_id"])
    op.create_index("ix_presence_leases_expires_at", "presence_leases", ["expires_at"])


def downgrade() -> None:
    op.drop_table("presence_leases")
