"""Analytics facts kept current by every write, with AI replies and open waits.

The facts used to be rebuilt by the first metrics request that found them
stale. Writes now keep them current (``analytics/live.py``), which needs
the state of each conversation's open waits and its last stream position,
and the AI resolution needs the first AI reply. Both derived tables are
created again and filled from messages and events, and hourly rollups of
the facts are added so that a period reads one row per mailbox and hour.

The covering indexes on messages and events served only those rebuilds
and cost every message and event insert; the foundation's indexes serve
the rare rebuild of one conversation.

Revision ID: 0003_analytics_live
Revises: 0002_analytics
"""

import sqlalchemy as sa
from alembic import op

from campfire_server.analytics import facts, rollups

revision = "0003_analytics_live"
down_revision = "0002_analytics"
branch_labels = None
depends_on = None

Millis = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

WAIT_SUMS = ("reply", "ai", "human")


def upgrade() -> None:
    op.drop_index("ix_events_analytics", table_name="events")
    op.drop_index("ix_messages_analytics", table_name="messages")
    op.drop_table("analytics_waits")
    op.drop_table("analytics_facts")

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
        # The first resolution, public AI reply, agent message (private
        # notes included) and handoff request.
        sa.Column("resolved_at", Millis),
        sa.Column("ai_at", Millis),
        sa.Column("agent_at", Millis),
        sa.Column("handoff_at", Millis),
        sa.Column("first_response_ms", Millis),
        sa.Column("first_reply_kind", sa.SmallInteger()),
        sa.Column("first_human_response_ms", Millis),
        # The current satisfaction rating, copied so that the metrics read one table.
        sa.Column("rating", sa.SmallInteger()),
        # Count, sum in ms and sum of squares in ms^2 of the conversation's
        # answered waits: every reply, AI-answered only, agent replies only.
        *[
            column
            for prefix in WAIT_SUMS
            for column in (
                sa.Column(f"{prefix}_waits", sa.Integer(), nullable=False, server_default="0"),
                sa.Column(f"{prefix}_ms", Millis, nullable=False, server_default="0"),
                sa.Column(f"{prefix}_squares", sa.Float(), nullable=False, server_default="0"),
            )
        ],
        # Where the open wait of each series started (NULL when none is
        # open), and the last ordered stream item as created_at * 8 + kind.
        sa.Column("reply_wait_from", Millis),
        sa.Column("human_wait_from", Millis),
        sa.Column("stream_position", sa.BigInteger()),
    )
    # Only columns that never change, so the update that every message makes
    # rewrites the row alone (a HOT update on PostgreSQL).
    op.create_index("ix_analytics_facts_org_created", "analytics_facts", ["org_id", "created_at"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE analytics_facts SET (fillfactor = 80)")

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
    # A series bucket's waits are one range of this index, which covers the
    # bucket's percentile query.
    op.create_index(
        "ix_analytics_waits_org_series_created",
        "analytics_waits",
        ["org_id", "series", "created_at", "ms", "mailbox_id", "reply_kind", "answered"],
    )
    # Walked from the longest wait down to pick a period's 95th percentile
    # without sorting every wait of the period.
    op.create_index(
        "ix_analytics_waits_org_series_ms",
        "analytics_waits",
        ["org_id", "series", "ms", "created_at", "mailbox_id", "reply_kind", "answered"],
    )

    # Per organization, hour of conversation creation (UTC) and mailbox: the
    # sums of the facts rows, so a period reads one row per hour and mailbox.
    op.create_table(
        "analytics_rollups",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("slot_start", Millis, nullable=False),
        sa.Column("mailbox_id", sa.String(64), nullable=False),
        *[
            sa.Column(
                column,
                sa.Float() if column.startswith("squares_") else sa.BigInteger(),
                nullable=False,
                server_default="0",
            )
            for column in rollups.COLUMNS
        ],
        sa.PrimaryKeyConstraint("org_id", "slot_start", "mailbox_id"),
    )

    # NOTE: this runs the derivation of the installed code, so it assumes
    # that later migrations have not changed the tables it reads. The waits'
    # bin column comes with revision 0004_analytics_wait_bins, the messages'
    # seq column with revision 0005_message_seq, which may run later, and the
    # facts' ai_resolved column with revision 0006_analytics_ai_resolved.
    for statement in facts.derive_all_statements(
        with_bin=False, with_seq=False, with_ai_resolved=False
    ):
        op.execute(sa.text(statement))
    op.execute(sa.text(rollups.derive_all_statement(with_ai_resolved=False)))


def downgrade() -> None:
    op.drop_table("analytics_rollups")
    op.drop_table("analytics_waits")
    op.drop_table("analytics_facts")
    op.create_index(
        "ix_messages_analytics",
        "messages",
        ["conversation_id", "created_at", "author_type", "private"],
    )
    op.create_index("ix_events_analytics", "events", ["conversation_id", "type", "created_at"])
    # NOTE: the tables of revision 0002_analytics come back empty; its
    # requests rebuild every conversation's facts on first read.
    _create_previous_tables()


def _create_previous_tables() -> None:
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
        sa.Column("rating", sa.SmallInteger()),
        *[
            column
            for prefix in WAIT_SUMS
            for column in (
                sa.Column(f"{prefix}_waits", sa.Integer(), nullable=False, server_default="0"),
                sa.Column(f"{prefix}_ms", Millis, nullable=False, server_default="0"),
                sa.Column(f"{prefix}_squares", sa.Float(), nullable=False, server_default="0"),
            )
        ],
    )
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
            *[f"{prefix}_{kind}" for prefix in WAIT_SUMS for kind in ("waits", "ms", "squares")],
        ],
    )
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
    op.create_index(
        "ix_analytics_waits_org_series_ms",
        "analytics_waits",
        ["org_id", "series", "ms", "created_at", "mailbox_id", "reply_kind", "answered"],
    )
