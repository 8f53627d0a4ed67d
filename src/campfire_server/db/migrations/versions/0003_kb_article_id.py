"""Index articles by id alone, for the public help-centre page ``/kb/{articleId}``.

That page names no organization, and the primary key starts with
``org_id``, so without this index each view would scan every article.

Revision ID: 0003_kb_article_id
Revises: 0002_knowledge
"""

from alembic import op

revision = "0003_kb_article_id"
down_revision = "0002_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_kb_articles_id", "kb_articles", ["id"])


def downgrade() -> None:
    op.drop_index("ix_kb_articles_id", table_name="kb_articles")
