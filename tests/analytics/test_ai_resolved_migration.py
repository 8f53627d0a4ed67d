"""Revision 0006_analytics_ai_resolved decides stored AI resolutions in stored order."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alembic import command

from campfire_server import clock
from campfire_server.auth.principal import Principal
from campfire_server.conversations import actions
from campfire_server.conversations.schemas import (
    ConversationCreate,
    ConversationUpdate,
    MessageCreate,
)
from campfire_server.db import migrate
from campfire_server.db.database import Database, open_database
from campfire_server.routing import actions as routing_actions
from campfire_server.routing.schemas import AgentCreate
from tests.conftest import create_postgres_database, drop_postgres_database, make_tenant
from tests.helpers import HELPER_AGENT

from .conftest import ms

REVISION = "0006_analytics_ai_resolved"
# Each history ends with two items in one millisecond, in this stored order.
HISTORIES = {
    "agent after resolution": ("ai", "resolved", "agent"),
    "ai after resolution": (None, "resolved", "ai"),
    "ai before resolution": (None, "ai", "resolved"),
}


@pytest.fixture
async def database_url(backend: str, tmp_path) -> AsyncIterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'ai_resolved.db'}"
    else:
        url = create_postgres_database()
    migrate.upgrade(url)
    yield url
    if backend == "postgresql":
        drop_postgres_database(url)


async def write_histories(database: Database, org_id: str, mailbox_id: str) -> dict[str, str]:
    """Write each history through the write path and return its conversation id by name."""
    agent = AgentCreate(id=HELPER_AGENT, name="Helper Agent")
    await database.write(lambda tx: routing_actions.create_agent(tx, org_id, agent))
    principal = Principal(org_id=org_id, role="admin", kind="secret", subject="test")
    frozen = clock.FrozenClock(ms("2024-05-30T09:00:00Z"))
    previous = clock.set_clock(frozen)
    ids = {}
    try:
        for name, (earlier, *tied) in HISTORIES.items():
            frozen.advance(3600)
            conversation = await database.write(
                lambda tx: actions.create_conversation(
                    tx,
                    principal,
                    ConversationCreate(customer_id="customer_ai", mailbox_id=mailbox_id),
                )
            )
            ids[name] = conversation.id
            await apply(database, principal, conversation.id, "customer")
            frozen.advance(10)
            if earlier is not None:
                await apply(database, principal, conversation.id, earlier)
                frozen.advance(10)
            for item in tied:
                await apply(database, principal, conversation.id, item)
    finally:
        clock.set_clock(previous)
    return ids


async def apply(database: Database, principal: Principal, conversation_id: str, item: str) -> None:
    if item == "resolved":
        update = ConversationUpdate(status="resolved")
        await database.write(
            lambda tx: actions.update_conversation(tx, principal, conversation_id, update)
        )
        return
    author_id = HELPER_AGENT if item == "agent" else None
    request = MessageCreate(content=f"{item} message", author_type=item, author_id=author_id)
    await database.write(lambda tx: actions.send_message(tx, principal, conversation_id, request))


async def stored_outcomes(url: str, org_id: str, ids: dict[str, str]) -> tuple[dict, int]:
    """Return ``ai_resolved`` by history name and the organization's rollup total of it."""
    database = open_database(url)
    try:
        flags = await database.read(
            lambda tx: {
                row["conversation_id"]: row["ai_resolved"]
                for row in tx.all("SELECT conversation_id, ai_resolved FROM analytics_facts")
            }
        )
        total = await database.read(
            lambda tx: tx.value(
                "SELECT COALESCE(SUM(ai_resolved), 0) FROM analytics_rollups "
                "WHERE org_id = :org_id",
                org_id=org_id,
            )
        )
    finally:
        await database.close()
    return {name: flags[conversation_id] for name, conversation_id in ids.items()}, int(total)


async def test_ai_resolved_migration_round_trip(database_url):
    database = open_database(database_url)
    try:
        tenant = await make_tenant(database, "AI resolution org")
        ids = await write_histories(database, tenant.org_id, tenant.mailbox_id)
    finally:
        await database.close()
    expected = {"agent after resolution": 1, "ai after resolution": 0, "ai before resolution": 1}
    live, live_total = await stored_outcomes(database_url, tenant.org_id, ids)
    assert live == expected
    assert live_total == 2

    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0005_message_seq")
    assert REVISION not in migrate.current_heads(database_url)

    migrate.upgrade(database_url)
    migrated, migrated_total = await stored_outcomes(database_url, tenant.org_id, ids)
    assert migrated == expected
    assert migrated_total == 2
