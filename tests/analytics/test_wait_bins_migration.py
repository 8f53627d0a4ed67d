"""Revision 0004_analytics_wait_bins fills the bins from stored waits and reverts cleanly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect

from campfire_server import clock
from campfire_server.auth.principal import Principal
from campfire_server.conversations import actions
from campfire_server.conversations.schemas import ConversationCreate, MessageCreate
from campfire_server.db import migrate
from campfire_server.db.database import Database, open_database
from campfire_server.routing import actions as routing_actions
from campfire_server.routing.schemas import AgentCreate
from tests.conftest import create_postgres_database, drop_postgres_database, make_tenant
from tests.helpers import HELPER_AGENT

from .conftest import ms

REVISION = "0004_analytics_wait_bins"
PREVIOUS = "0003_analytics_live"
# The revision that builds on this one and on the messages' seq, so going
# below this one also removes it and leaves its other parent a head.
DEPENDENT = "0006_analytics_ai_resolved"
OTHER_PARENT = "0005_message_seq"


@pytest.fixture
async def database_url(backend: str, tmp_path) -> AsyncIterator[str]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'bins.db'}"
    else:
        url = create_postgres_database()
    migrate.upgrade(url)
    yield url
    if backend == "postgresql":
        drop_postgres_database(url)


async def write_history(database: Database, org_id: str, mailbox_id: str) -> None:
    """Write conversations whose waits fall in several bins, through the write path."""
    agent = AgentCreate(id=HELPER_AGENT, name="Helper Agent")
    await database.write(lambda tx: routing_actions.create_agent(tx, org_id, agent))
    principal = Principal(org_id=org_id, role="admin", kind="secret", subject="test")
    frozen = clock.FrozenClock(ms("2024-05-30T09:30:00Z"))
    previous = clock.set_clock(frozen)
    try:
        for number, wait_seconds in enumerate((0.4, 1, 3, 75, 900, 7_200)):
            frozen.set(ms("2024-05-30T09:30:00Z") + number * 1_234_567)
            conversation = await database.write(
                lambda tx: actions.create_conversation(
                    tx,
                    principal,
                    ConversationCreate(customer_id="customer_bins", mailbox_id=mailbox_id),
                )
            )
            for author, delay in (("customer", 1), ("ai", wait_seconds), ("customer", 5)):
                frozen.advance(delay)
                await send(database, principal, conversation.id, author)
            frozen.advance(wait_seconds * 2)
            await send(database, principal, conversation.id, "agent")
    finally:
        clock.set_clock(previous)


async def send(database: Database, principal: Principal, conversation_id: str, author: str) -> None:
    author_id = HELPER_AGENT if author == "agent" else None
    request = MessageCreate(content=f"{author} message", author_type=author, author_id=author_id)
    await database.write(lambda tx: actions.send_message(tx, principal, conversation_id, request))


async def derived_rows(database: Database, org_id: str) -> tuple[list[Any], list[Any]]:
    def work(tx):  # type: ignore[no-untyped-def]
        waits = tx.all(
            "SELECT conversation_id, series, answered, ms, bin FROM analytics_waits "
            "WHERE org_id = :org_id ORDER BY conversation_id, series, answered",
            org_id=org_id,
        )
        bins = tx.all(
            "SELECT slot_start, mailbox_id, bin, n_reply, n_first, n_ai, n_human "
            "FROM analytics_wait_bins WHERE org_id = :org_id "
            "ORDER BY slot_start, mailbox_id, bin",
            org_id=org_id,
        )
        return waits, bins

    return await database.read(work)


def schema(url: str) -> tuple[set[str], set[str], set[str]]:
    """Return the table names, the columns of analytics_waits and the names of its indexes."""
    engine = create_engine(migrate.sqlalchemy_url(url))
    try:
        inspector = inspect(engine)
        tables = set(inspector.get_table_names())
        columns = {column["name"] for column in inspector.get_columns("analytics_waits")}
        indexes = {index["name"] for index in inspector.get_indexes("analytics_waits")}
        return tables, columns, indexes
    finally:
        engine.dispose()


async def test_bins_migration_round_trip(database_url):
    database = open_database(database_url)
    try:
        tenant = await make_tenant(database, "Bins org")
        await write_history(database, tenant.org_id, tenant.mailbox_id)
        waits, bins = await derived_rows(database, tenant.org_id)
    finally:
        await database.close()
    assert len(waits) == 18
    assert len({int(wait["bin"]) for wait in waits}) >= 5
    assert sum(int(row["n_reply"]) for row in bins) == 12

    config = migrate.alembic_config(database_url)
    command.downgrade(config, f"{REVISION}-1")
    tables, columns, indexes = schema(database_url)
    heads_below = migrate.expected_heads() - {DEPENDENT} | {OTHER_PARENT, PREVIOUS}
    assert migrate.current_heads(database_url) == heads_below
    assert "analytics_wait_bins" not in tables
    assert "bin" not in columns
    assert "ix_analytics_waits_org_series_created" in indexes

    migrate.upgrade(database_url)
    tables, columns, indexes = schema(database_url)
    assert "analytics_wait_bins" in tables
    assert "ix_analytics_waits_org_series_bin" in indexes
    assert "ix_analytics_waits_org_series_created" not in indexes
    database = open_database(database_url)
    try:
        assert await derived_rows(database, tenant.org_id) == (waits, bins)
    finally:
        await database.close()
