"""Satisfaction ratings, and the indexes that the analytics queries read through.

Revision ID: 0002_analytics
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_analytics"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

Millis = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # One row per conversation: a new rating replaces the old one in place.
    # created_at is the first rating time and updated_at the latest change.
    op.create_table(
        "satisfaction_ratings",
        sa.Column(
            "conversation_id",
            sa.String(64),
            sa.ForeignKey("conversations.id"),
            primary_key=True,
        ),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("rating", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.Text()),
        sa.Column("rated_by", sa.String(300), nullable=False),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_satisfaction_rating_range"),
    )

    # The cohort of a mailbox: its conversations by creation time.
    op.create_index(
        "ix_conversations_org_mailbox_created",
        "conversations",
        ["org_id", "mailbox_id", "created_at"],
    )
    # Covers the message stream of a conversation without reading message bodies.
    op.create_index(
        "ix_messages_analytics",
        "messages",
        ["conversation_id", "created_at", "author_type", "private"],
    )
    # Covers the resolution and handoff events of a conversation.
    op.create_index(
        "ix_events_analytics",
        "events",
        ["conversation_id", "type", "created_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_events_analytics", table_name="events")
    op.drop_index("ix_messages_analytics", table_name="messages")
    op.drop_index("ix_conversations_org_mailbox_created", table_name="conversations")
    op.drop_table("satisfaction_ratings")
