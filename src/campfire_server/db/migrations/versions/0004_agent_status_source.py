"""Store who set each agent's status: a request to the API or the agent's sockets.

After Redis loses its keys, the realtime layer marks offline the online or
away agents that no socket lease covers, because their sockets may have died
with a process. An agent whose status a request set (``POST`` or ``PATCH``
``/agents``) may have no socket at all, so it keeps its status. Existing rows
get ``sockets``, which keeps the check as strict for them as before.

Revision ID: 0004_agent_status_source
Revises: 0003_agent_email_unique
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_agent_status_source"
down_revision = "0003_agent_email_unique"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "agents",
        sa.Column("status_source", sa.String(16), nullable=False, server_default="sockets"),
    )


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35 and later) keeps the expression index
    # ux_agents_org_email, which a batch copy of the table would lose.
    op.drop_column("agents", "status_source")
