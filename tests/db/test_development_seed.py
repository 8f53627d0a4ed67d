"""The development seed when several servers start together on one database."""

from __future__ import annotations

import asyncio

from campfire_server.auth.keys import DEVELOPMENT_ORG_ID
from campfire_server.db import migrate
from campfire_server.db.database import open_database
from campfire_server.development import (
    DEVELOPMENT_AGENT_ID,
    DEVELOPMENT_MAILBOX_ID,
    seed_development_data,
)
from tests.conftest import create_postgres_database, drop_postgres_database


def fresh_database(backend: str, tmp_path) -> str:  # type: ignore[no-untyped-def]
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'campfire.db'}"
    else:
        url = create_postgres_database()
    migrate.upgrade(url)
    return url


async def test_concurrent_seeds_create_data_once(backend, tmp_path):
    url = fresh_database(backend, tmp_path)
    databases = [open_database(url) for _ in range(3)]
    try:
        await asyncio.gather(*(seed_development_data(database) for database in databases))

        def counts(tx):  # type: ignore[no-untyped-def]
            return {
                "organizations": tx.value(
                    "SELECT COUNT(*) FROM organizations WHERE id = :id", id=DEVELOPMENT_ORG_ID
                ),
                "mailboxes": tx.value(
                    "SELECT COUNT(*) FROM mailboxes WHERE org_id = :org_id AND id = :id",
                    org_id=DEVELOPMENT_ORG_ID,
                    id=DEVELOPMENT_MAILBOX_ID,
                ),
                "agents": tx.value(
                    "SELECT COUNT(*) FROM agents WHERE org_id = :org_id AND id = :id",
                    org_id=DEVELOPMENT_ORG_ID,
                    id=DEVELOPMENT_AGENT_ID,
                ),
            }

        stored = await databases[0].read(counts)
    finally:
        for database in databases:
            await database.close()
        if backend == "postgresql":
            drop_postgres_database(url)

    assert stored["organizations"] == 1
    assert stored["mailboxes"] == 1
    assert stored["agents"] == 1
