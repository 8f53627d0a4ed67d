"""Store the agent who held each conversation last, through routing or by hand.

A new handoff of a conversation without an assignee goes back to that agent
when the agent can take it. Before this column, routing looked only at
earlier handoffs, so an agent assigned by hand was never found, and an
earlier handoff's agent won over a later assignee. Existing rows get the
current assignee, else the agent of the latest assigned handoff.

Revision ID: 0003_conversation_last_assignee
Revises: 0002_routing
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_conversation_last_assignee"
down_revision = "0002_routing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("last_assignee_id", sa.String(64)))
    op.execute(
        sa.text(
            "UPDATE conversations SET last_assignee_id = COALESCE(assigned_agent_id, "
            "(SELECT h.agent_id FROM handoffs h WHERE h.conversation_id = conversations.id "
            "AND h.agent_id IS NOT NULL ORDER BY h.assigned_at DESC, h.id DESC LIMIT 1))"
        )
    )


def downgrade() -> None:
    op.drop_column("conversations", "last_assignee_id")
