"""Migration 0003_conversation_last_assignee stores who held each conversation last."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from campfire_server.auth.principal import Principal
from campfire_server.conversations import actions as conversation_actions
from campfire_server.conversations.schemas import ConversationCreate
from campfire_server.db import migrate
from campfire_server.db.database import open_database
from campfire_server.routing import actions as routing_actions
from campfire_server.routing.schemas import AgentCreate
from tests.conftest import create_postgres_database, drop_postgres_database, make_tenant

REVISION = "0003_conversation_last_assignee"


def _write_history(tx, org_id: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Create a handed-off and completed conversation, an assigned one and an untouched one."""
    principal = Principal(org_id=org_id, role="admin", kind="secret", subject="test")
    routing_actions.create_agent(
        tx, org_id, AgentCreate(id="agent_alpha", name="Alpha", status="online")
    )
    routing_actions.create_agent(tx, org_id, AgentCreate(id="agent_beta", name="Beta"))
    ids = {}
    for name in ("completed", "assigned", "untouched"):
        created = conversation_actions.create_conversation(
            tx, principal, ConversationCreate(customer_id=f"customer_{name}")
        )
        ids[name] = created.id
    routing_actions.request_handoff(
        tx, org_id=org_id, conversation_id=ids["completed"], reason="needs a person"
    )
    routing_actions.complete_handoff(tx, org_id=org_id, conversation_id=ids["completed"])
    tx.execute(
        "UPDATE conversations SET assigned_agent_id = 'agent_beta' WHERE id = :id",
        id=ids["assigned"],
    )
    return ids


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_migration_fills_last_assignee(
    engine: str, tmp_path: Path, postgres_available: bool
) -> None:
    if engine == "postgresql" and not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = f"sqlite:///{tmp_path / 'last.db'}" if engine == "sqlite" else create_postgres_database()
    try:
        migrate.upgrade(url)
        db = open_database(url)
        tenant = await make_tenant(db)
        ids = await db.write(lambda tx: _write_history(tx, tenant.org_id))
        await db.close()

        config = migrate.alembic_config(url)
        command.downgrade(config, f"{REVISION}@-1")
        heads_below = migrate.current_heads(url)
        migrate.upgrade(url)
        db = open_database(url)
        rows = await db.read(
            lambda tx: tx.all(
                "SELECT id, last_assignee_id FROM conversations WHERE org_id = :org_id",
                org_id=tenant.org_id,
            )
        )
        await db.close()
    finally:
        if engine == "postgresql":
            drop_postgres_database(url)

    assert REVISION not in heads_below
    assert "0004_agent_status_source" in heads_below
    last = {row["id"]: row["last_assignee_id"] for row in rows}
    assert last[ids["completed"]] == "agent_alpha"
    assert last[ids["assigned"]] == "agent_beta"
    assert last[ids["untouched"]] is None
