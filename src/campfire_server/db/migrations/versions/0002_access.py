"""Per-mailbox identity secret for widget identity verification.

Revision ID: 0002_access
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_access"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The secret is kept in clear because each widget session recomputes an
    # HMAC with it; the API only ever returns its last four characters.
    with op.batch_alter_table("mailboxes") as batch:
        batch.add_column(sa.Column("identity_secret", sa.String(255)))


def downgrade() -> None:
    with op.batch_alter_table("mailboxes") as batch:
        batch.drop_column("identity_secret")
