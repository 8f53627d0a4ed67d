"""Migration 0004_agent_status_source stores who set each agent's status."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from campfire_server.db import migrate
from campfire_server.db.database import open_database
from campfire_server.routing import actions as routing_actions
from campfire_server.routing.schemas import AgentCreate, AgentUpdate
from tests.conftest import create_postgres_database, drop_postgres_database, make_tenant

REVISION = "0004_agent_status_source"
NOW = 1_767_225_600_000
INDEX_NAMES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'agents'",
    "postgresql": "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'agents'",
}


def _insert_old_agent(tx, org_id: str) -> None:  # type: ignore[no-untyped-def]
    tx.execute(
        "INSERT INTO agents (org_id, id, name, status, created_at, updated_at) "
        "VALUES (:org_id, 'agent_old', 'Old agent', 'online', :now, :now)",
        org_id=org_id,
        now=NOW,
    )


def _set_statuses(tx, org_id: str) -> None:  # type: ignore[no-untyped-def]
    routing_actions.create_agent(tx, org_id, AgentCreate(id="agent_new", name="New agent"))
    routing_actions.update_agent(tx, org_id, "agent_new", AgentUpdate(status="away"))
    routing_actions.set_agent_status(tx, org_id=org_id, agent_id="agent_old", status="online")


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_migration_adds_status_source(
    engine: str, tmp_path: Path, postgres_available: bool
) -> None:
    if engine == "postgresql" and not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = (
        f"sqlite:///{tmp_path / 'agents.db'}" if engine == "sqlite" else create_postgres_database()
    )
    try:
        migrate.upgrade(url)
        config = migrate.alembic_config(url)
        command.downgrade(config, f"{REVISION}@-1")
        db = open_database(url)
        tenant = await make_tenant(db)
        await db.write(lambda tx: _insert_old_agent(tx, tenant.org_id))
        await db.close()

        migrate.upgrade(url)
        db = open_database(url)
        migrated = await db.read(
            lambda tx: tx.all("SELECT id, status, status_source FROM agents ORDER BY id")
        )
        await db.write(lambda tx: _set_statuses(tx, tenant.org_id))
        written = await db.read(
            lambda tx: tx.all("SELECT id, status, status_source FROM agents ORDER BY id")
        )
        await db.close()

        command.downgrade(config, f"{REVISION}@-1")
        db = open_database(url)
        downgraded = await db.read(lambda tx: tx.one("SELECT * FROM agents WHERE id = 'agent_old'"))
        index_names = await db.read(lambda tx: tx.all(INDEX_NAMES[engine]))
        await db.close()
    finally:
        if engine == "postgresql":
            drop_postgres_database(url)

    # A status stored before the column existed is treated as one that sockets set.
    assert [dict(row) for row in migrated] == [
        {"id": "agent_old", "status": "online", "status_source": "sockets"}
    ]
    assert [dict(row) for row in written] == [
        {"id": "agent_new", "status": "away", "status_source": "request"},
        {"id": "agent_old", "status": "online", "status_source": "sockets"},
    ]
    assert downgraded is not None
    assert "status_source" not in downgraded
    assert "ux_agents_org_email" in {row["name"] for row in index_names}
