"""A per-conversation commit sequence on messages, the tie-break of their order.

Messages were ordered by ``(created_at, id)``, and the low bits of an id are
random, so two messages of one millisecond listed in either order, while
the conversation's unread count followed the order they were stored in.
``seq`` numbers a conversation's messages 1, 2, 3 in the order they were
stored (the writer holds the conversation's row lock, or SQLite's write
lock, and takes the conversation's message count plus one), and lists order by
``(created_at, seq)``. Existing messages are numbered by
``(created_at, id)``, the order they were listed in.

Revision ID: 0005_message_seq
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_message_seq"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("seq", sa.Integer()))
    op.execute(
        sa.text(
            "UPDATE messages SET seq = numbered.n FROM ("
            "SELECT id, ROW_NUMBER() OVER (PARTITION BY conversation_id "
            "ORDER BY created_at, id) AS n FROM messages) AS numbered "
            "WHERE messages.id = numbered.id"
        )
    )
    # A new message takes its conversation's message count plus one, so the
    # count must equal the number of messages.
    op.execute(
        sa.text(
            "UPDATE conversations SET message_count = "
            "(SELECT COUNT(*) FROM messages WHERE messages.conversation_id = conversations.id)"
        )
    )
    # On SQLite this copies the table into a new one with the column NOT NULL.
    with op.batch_alter_table("messages") as batch:
        batch.alter_column("seq", existing_type=sa.Integer(), nullable=False)

    op.drop_index("ix_messages_conversation", table_name="messages")
    op.create_index(
        "ix_messages_conversation", "messages", ["conversation_id", "created_at", "seq"]
    )
    # Also the index that finds a conversation's last number for the next message.
    op.create_index(
        "ux_messages_conversation_seq", "messages", ["conversation_id", "seq"], unique=True
    )


def downgrade() -> None:
    op.drop_index("ux_messages_conversation_seq", table_name="messages")
    op.drop_index("ix_messages_conversation", table_name="messages")
    op.create_index("ix_messages_conversation", "messages", ["conversation_id", "created_at", "id"])
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("seq")
