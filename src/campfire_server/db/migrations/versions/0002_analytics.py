"""Satisfaction ratings, the analytics fact tables and the indexes they are read through.

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

    # Per-conversation figures derived by SQL from messages and events, and
    # stamped with the conversation's event_seq at the time: a row whose
    # stamp differs from the conversation's is stale and is rebuilt before
    # any metric reads it (analytics/facts.py).
    op.create_table(
        "analytics_facts",
        sa.Column(
            "conversation_id",
            sa.String(64),
            sa.ForeignKey("conversations.id"),
            primary_key=True,
        ),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("mailbox_id", sa.String(64), nullable=False),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("resolved_at", Millis),
        sa.Column("agent_at", Millis),
        sa.Column("handoff_at", Millis),
        sa.Column("first_response_ms", Millis),
        sa.Column("first_reply_kind", sa.SmallInteger()),
        sa.Column("first_human_response_ms", Millis),
        # The current satisfaction rating, copied so that the metrics read
        # one table; a new rating emits an event and so restamps the row.
        sa.Column("rating", sa.SmallInteger()),
        # Count, sum in ms and sum of squares in ms^2 of the conversation's
        # answered waits: every reply, AI-answered only, agent replies only.
        *[
            column
            for prefix in ("reply", "ai", "human")
            for column in (
                sa.Column(f"{prefix}_waits", sa.Integer(), nullable=False, server_default="0"),
                sa.Column(f"{prefix}_ms", Millis, nullable=False, server_default="0"),
                sa.Column(f"{prefix}_squares", sa.Float(), nullable=False, server_default="0"),
            )
        ],
    )
    # Covers every column that the metrics read, so a period is one index
    # range scan with no table lookups.
    op.create_index(
        "ix_analytics_facts_org_created",
        "analytics_facts",
        [
            "org_id",
            "created_at",
            "mailbox_id",
            "conversation_id",
            "resolved_at",
            "agent_at",
            "handoff_at",
            "rating",
            "first_response_ms",
            *[
                f"{prefix}_{kind}"
                for prefix in ("reply", "ai", "human")
                for kind in ("waits", "ms", "squares")
            ],
        ],
    )
    # One row per answered customer wait: series 0 counts AI and agent
    # replies, series 1 agent replies only. created_at is the conversation's.
    op.create_table(
        "analytics_waits",
        sa.Column(
            "conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("mailbox_id", sa.String(64), nullable=False),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("series", sa.SmallInteger(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("reply_kind", sa.SmallInteger(), nullable=False),
        sa.Column("ms", Millis, nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "series", "answered"),
    )
    op.create_index(
        "ix_analytics_waits_org_created",
        "analytics_waits",
        ["org_id", "created_at", "mailbox_id", "series", "reply_kind", "answered", "ms"],
    )
    # Walked from the longest wait down to pick a period's 95th percentile
    # without sorting every wait of the period.
    op.create_index(
        "ix_analytics_waits_org_series_ms",
        "analytics_waits",
        ["org_id", "series", "ms", "created_at", "mailbox_id", "reply_kind", "answered"],
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
    op.drop_table("analytics_waits")
    op.drop_table("analytics_facts")
    op.drop_table("satisfaction_ratings")
