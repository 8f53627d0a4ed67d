"""Knowledge-base articles and the per-organization index version.

Revision ID: 0002_knowledge
Revises: 0001_foundation
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_knowledge"
down_revision = "0001_foundation"
branch_labels = ("knowledge",)
depends_on = None

Millis = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "kb_articles",
        sa.Column("org_id", sa.String(64), sa.ForeignKey("organizations.id"), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("url", sa.String(2048)),
        sa.Column("tags", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("mailbox_ids", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("external_id", sa.String(255)),
        sa.Column("created_at", Millis, nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id"),
    )
    op.create_index(
        "ux_kb_articles_external_id", "kb_articles", ["org_id", "external_id"], unique=True
    )
    op.create_index("ix_kb_articles_url", "kb_articles", ["org_id", "url"])
    op.create_index("ix_kb_articles_created", "kb_articles", ["org_id", "created_at", "id"])

    # One row per organization; ``version`` grows on every article write so that
    # each process can tell that its in-memory search index is stale.
    op.create_table(
        "kb_versions",
        sa.Column("org_id", sa.String(64), sa.ForeignKey("organizations.id"), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", Millis, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kb_versions")
    op.drop_index("ix_kb_articles_created", table_name="kb_articles")
    op.drop_index("ix_kb_articles_url", table_name="kb_articles")
    op.drop_index("ux_kb_articles_external_id", table_name="kb_articles")
    op.drop_table("kb_articles")
