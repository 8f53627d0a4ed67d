"""Whether a conversation's first resolution was the AI's, decided in stored order.

An AI resolution is a first resolution after a public AI reply and before
any agent message and handoff request. The facts row kept only the times of
those firsts, so an item in the resolution's millisecond counted as before
it whether it was stored before or after. ``analytics_facts.ai_resolved``
now stores the outcome in the order the items were stored (messages by
``seq``, a resolution or handoff request after the messages stored before
it), and the rollups are derived again from it.

Revision ID: 0006_analytics_ai_resolved
Revises: 0004_analytics_wait_bins, 0005_message_seq
"""

import sqlalchemy as sa
from alembic import op

from campfire_server.analytics import facts, rollups

revision = "0006_analytics_ai_resolved"
down_revision = ("0004_analytics_wait_bins", "0005_message_seq")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("analytics_facts", sa.Column("ai_resolved", sa.SmallInteger()))
    op.execute(sa.text(facts.fill_ai_resolved_statement()))
    op.execute(sa.text("DELETE FROM analytics_rollups"))
    op.execute(sa.text(rollups.derive_all_statement()))


def downgrade() -> None:
    with op.batch_alter_table("analytics_facts") as batch:
        batch.drop_column("ai_resolved")
    op.execute(sa.text("DELETE FROM analytics_rollups"))
    op.execute(sa.text(rollups.derive_all_statement(with_ai_resolved=False)))
