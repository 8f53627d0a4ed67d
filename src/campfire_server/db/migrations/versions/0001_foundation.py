"""Organizations, keys, mailboxes, customers, conversations, messages, events.

Revision ID: 0001_foundation
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

# Epoch milliseconds; BIGINT on PostgreSQL, INTEGER (64-bit) on SQLite.
Millis = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("created_at", Millis, nullable=False),
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("org_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("prefix", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(128), nullable=False),
        sa.Column("mailbox_ids", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("allowed_origins", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("last_used_at", Millis),
        sa.Column("revoked_at", Millis),
    )
    op.create_index("ix_api_keys_org", "api_keys", ["org_id", "created_at"])

    op.create_table(
        "mailboxes",
        sa.Column("org_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id"),
    )

    op.create_table(
        "customers",
        sa.Column("org_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(200)),
        sa.Column("email", sa.String(320)),
        sa.Column("metadata", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id"),
    )

    op.create_table(
        "conversations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("org_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("mailbox_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(500)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("assigned_agent_id", sa.String(64)),
        sa.Column("metadata", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("unread_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("message_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("event_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("ai_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("last_message_at", Millis),
        sa.Column("resolved_at", Millis),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
        sa.ForeignKeyConstraint(["org_id", "mailbox_id"], ["mailboxes.org_id", "mailboxes.id"]),
        sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
    )
    op.create_index("ix_conversations_org_created", "conversations", ["org_id", "created_at", "id"])
    op.create_index(
        "ix_conversations_org_status", "conversations", ["org_id", "status", "created_at"]
    )
    op.create_index("ix_conversations_customer", "conversations", ["org_id", "customer_id"])
    op.create_index(
        "ix_conversations_agent", "conversations", ["org_id", "assigned_agent_id", "status"]
    )

    op.create_table(
        "messages",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column(
            "conversation_id", sa.String(64), sa.ForeignKey("conversations.id"), nullable=False
        ),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("author_type", sa.String(16), nullable=False),
        sa.Column("author_id", sa.String(255)),
        sa.Column("metadata", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", Millis, nullable=False),
    )
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "created_at", "id"])

    op.create_table(
        "events",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("conversation_id", sa.String(64)),
        sa.Column("mailbox_id", sa.String(64)),
        sa.Column("sequence", sa.Integer()),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", Millis, nullable=False),
    )
    op.create_index("ix_events_conversation", "events", ["conversation_id", "sequence"])
    op.create_index("ix_events_org_position", "events", ["org_id", "position"])
    op.create_index("ix_events_created", "events", ["created_at"])

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("response_body", sa.LargeBinary()),
        sa.Column("response_headers", sa.Text()),
        sa.Column("created_at", Millis, nullable=False),
        sa.PrimaryKeyConstraint("scope", "key"),
    )
    op.create_index("ix_idempotency_created", "idempotency_keys", ["created_at"])


def downgrade() -> None:
    for table in (
        "idempotency_keys",
        "events",
        "messages",
        "conversations",
        "customers",
        "mailboxes",
        "api_keys",
        "organizations",
    ):
        op.drop_table(table)
