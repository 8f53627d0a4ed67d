"""Agents and handoffs.

Revision ID: 0002_routing
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_routing"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

# Epoch milliseconds; BIGINT on PostgreSQL, INTEGER (64-bit) on SQLite.
Millis = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

OPEN_HANDOFF = sa.text("status IN ('queued', 'assigned')")


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("org_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("skills", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("status", sa.String(16), nullable=False, server_default="offline"),
        sa.Column("capacity", sa.Integer(), nullable=False, server_default="5"),
        # The later of coming online and the last assignment; routing prefers
        # the agent idle longest among equally loaded ones.
        sa.Column("idle_since", Millis),
        sa.Column("last_assigned_at", Millis),
        # Reserved for the agent inbox sign-in; nothing reads it yet.
        sa.Column("password_hash", sa.String(255)),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id"),
    )
    op.create_index("ix_agents_org_created", "agents", ["org_id", "created_at", "id"])

    op.create_table(
        "handoffs",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("org_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column(
            "conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("required_skills", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("context", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("source", sa.String(32), nullable=False, server_default="api"),
        sa.Column("agent_id", sa.String(64)),
        # 'auto' or 'manual'; a manual assignment is never replaced by routing.
        sa.Column("assigned_by", sa.String(16)),
        sa.Column("unroutable_skills", sa.Text(), nullable=False, server_default="[]"),
        # Sort key inside one priority: the creation time, or lower for a
        # handoff returned to the front of the queue.
        sa.Column("queue_order", Millis, nullable=False),
        # The position and wait estimate last pushed to clients, so a queue
        # move emits events only for handoffs whose figures changed.
        sa.Column("queue_position", sa.Integer()),
        sa.Column("estimated_wait_seconds", sa.Integer()),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("assigned_at", Millis),
        sa.Column("completed_at", Millis),
        sa.Column("updated_at", Millis, nullable=False),
    )
    op.create_index("ix_handoffs_queue", "handoffs", ["org_id", "status", "queue_order"])
    op.create_index("ix_handoffs_conversation", "handoffs", ["conversation_id", "created_at"])
    op.create_index("ix_handoffs_finished", "handoffs", ["org_id", "completed_at"])
    # At most one open handoff per conversation, whatever races the callers run.
    op.create_index(
        "ux_handoffs_open_conversation",
        "handoffs",
        ["conversation_id"],
        unique=True,
        sqlite_where=OPEN_HANDOFF,
        postgresql_where=OPEN_HANDOFF,
    )


def downgrade() -> None:
    op.drop_table("handoffs")
    op.drop_table("agents")
