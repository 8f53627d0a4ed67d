"""Record which server process holds an open idempotency claim.

``owner`` is the id of the process that made or took over the claim. A
retry takes over at once a claim whose process has exited, and waits for
one whose process still runs. Claims made before this column existed have
no owner and are taken over a minute after they were made, as before.

Revision ID: 0003_idempotency_owner
Revises: 0002_idempotency_results
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_idempotency_owner"
down_revision = "0002_idempotency_results"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("owner", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("owner")
