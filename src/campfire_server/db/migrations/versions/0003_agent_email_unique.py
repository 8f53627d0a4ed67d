"""Make an agent's email unique within its organization, ignoring case.

Sign-in compares emails with ``LOWER`` on both engines, so the unique index
is on the same expression. Two agents of one organization with the same
email could not sign in at all, because neither sign-in with or without an
``orgId`` could tell them apart.

Existing duplicates stop the migration, and nothing is changed: the error
lists each organization, email and agent ids, so an administrator can give
all but one of those agents another email (or none) and migrate again.
Picking a survivor here could lock out the agent who actually uses the
account.

Revision ID: 0003_agent_email_unique
Revises: 0002_routing
"""

import sqlalchemy as sa
from alembic import op

from campfire_server.db.migrate import MigrationBlocked

revision = "0003_agent_email_unique"
down_revision = "0002_routing"
branch_labels = None
depends_on = None

# How many duplicate groups the error names; the rest are counted.
SHOWN_DUPLICATES = 10


def _duplicate_groups() -> list[str]:
    rows = op.get_bind().execute(
        sa.text(
            "SELECT org_id, LOWER(email) AS email, id FROM agents WHERE email IS NOT NULL "
            "ORDER BY org_id, LOWER(email), id"
        )
    )
    groups: dict[tuple[str, str], list[str]] = {}
    for org_id, email, agent_id in rows:
        groups.setdefault((org_id, email), []).append(agent_id)
    return [
        f"{email!r} in {org_id} (agents {', '.join(agent_ids)})"
        for (org_id, email), agent_ids in groups.items()
        if len(agent_ids) > 1
    ]


def upgrade() -> None:
    duplicates = _duplicate_groups()
    if duplicates:
        shown = "; ".join(duplicates[:SHOWN_DUPLICATES])
        more = len(duplicates) - SHOWN_DUPLICATES
        if more > 0:
            shown += f"; and {more} more"
        raise MigrationBlocked(
            f"agent emails must be unique per organization (ignoring case), and "
            f"{len(duplicates)} are shared: {shown}. Give all but one agent of each "
            "email another email or none (PATCH /api/v2/agents/{id} with the previous "
            "version, or UPDATE agents SET email = ... in the database), then migrate again"
        )
    op.execute("CREATE UNIQUE INDEX ux_agents_org_email ON agents (org_id, LOWER(email))")


def downgrade() -> None:
    op.drop_index("ux_agents_org_email", table_name="agents")
