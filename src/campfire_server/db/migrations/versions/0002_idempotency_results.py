"""Record the results of an idempotent request's writes with the writes.

``write_results`` holds, as JSON, the result of each write the request
committed, in order, so a retry after a crash between a write and the
stored response replays the writes instead of running them again.

Revision ID: 0002_idempotency_results
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_idempotency_results"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("idempotency_keys", sa.Column("write_results", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("idempotency_keys") as batch:
        batch.drop_column("write_results")
