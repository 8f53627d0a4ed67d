"""Wait-length bins, so a series bucket's percentile reads one bin of its waits.

The 95th percentile of each series bucket used to read every wait of the
bucket. Each wait row now carries ``bin``, a log-spaced class of its
length, and ``analytics_wait_bins`` counts the waits per hour of
conversation creation, mailbox and bin. A bucket sums its hours' counts to
find the bin that holds the percentile, then reads that bin's waits alone
through ``ix_analytics_waits_org_series_bin``, which replaces
``ix_analytics_waits_org_series_created``.

Revision ID: 0004_analytics_wait_bins
Revises: 0003_analytics_live
"""

import sqlalchemy as sa
from alembic import op

from campfire_server.analytics import rollups, wait_bins

revision = "0004_analytics_wait_bins"
down_revision = "0003_analytics_live"
branch_labels = None
depends_on = None

Millis = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.drop_index("ix_analytics_waits_org_series_created", table_name="analytics_waits")
    op.add_column("analytics_waits", sa.Column("bin", sa.SmallInteger()))
    op.execute(sa.text(f"UPDATE analytics_waits SET bin = {wait_bins.bin_sql('ms')}"))
    # On SQLite this copies the table into a new one with the column NOT NULL.
    with op.batch_alter_table("analytics_waits") as batch:
        batch.alter_column("bin", existing_type=sa.SmallInteger(), nullable=False)

    # The waits of one bin in one bucket are one range of this index, which
    # covers the query that picks the percentile among them.
    op.create_index(
        "ix_analytics_waits_org_series_bin",
        "analytics_waits",
        ["org_id", "series", "bin", "created_at", "ms", "mailbox_id", "reply_kind", "answered"],
    )

    # Per organization, hour of conversation creation (UTC), mailbox and
    # bin: the number of waits of each set that a duration metric reads.
    op.create_table(
        "analytics_wait_bins",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("slot_start", Millis, nullable=False),
        sa.Column("mailbox_id", sa.String(64), nullable=False),
        sa.Column("bin", sa.SmallInteger(), nullable=False),
        *[
            sa.Column(column, sa.BigInteger(), nullable=False, server_default="0")
            for column in wait_bins.COLUMNS
        ],
        sa.PrimaryKeyConstraint("org_id", "slot_start", "mailbox_id", "bin"),
    )
    op.execute(sa.text(wait_bins.derive_all_statement(rollups.SLOT_MS)))


def downgrade() -> None:
    op.drop_table("analytics_wait_bins")
    op.drop_index("ix_analytics_waits_org_series_bin", table_name="analytics_waits")
    op.create_index(
        "ix_analytics_waits_org_series_created",
        "analytics_waits",
        ["org_id", "series", "created_at", "ms", "mailbox_id", "reply_kind", "answered"],
    )
    with op.batch_alter_table("analytics_waits") as batch:
        batch.drop_column("bin")
