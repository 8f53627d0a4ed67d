"""Migration 0005 numbers existing messages per conversation in their listed order."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from campfire_server.db import migrate
from campfire_server.db.database import open_database
from tests.conftest import create_postgres_database, drop_postgres_database, make_tenant

NOW = 1_767_225_600_000

# (conversation, message id, created_at): two messages share a millisecond,
# so their ids order them, as lists did before the column existed.
MESSAGES = [
    ("conv_a", "msg_a3", NOW + 5),
    ("conv_a", "msg_a1", NOW),
    ("conv_a", "msg_a2z", NOW + 1),
    ("conv_a", "msg_a2b", NOW + 1),
    ("conv_b", "msg_b1", NOW + 1),
]


def _insert_old_rows(tx, org_id: str) -> None:  # type: ignore[no-untyped-def]
    tx.execute(
        "INSERT INTO customers (org_id, id, metadata, created_at, updated_at) "
        "VALUES (:org_id, 'customer_m', '{}', :now, :now)",
        org_id=org_id,
        now=NOW,
    )
    for conversation_id in ("conv_a", "conv_b"):
        tx.execute(
            "INSERT INTO conversations (id, org_id, mailbox_id, customer_id, status, priority, "
            "metadata, created_at, updated_at) VALUES (:id, :org_id, 'mailbox_test_1', "
            "'customer_m', 'open', 'medium', '{}', :now, :now)",
            id=conversation_id,
            org_id=org_id,
            now=NOW,
        )
    for conversation_id, message_id, created_at in MESSAGES:
        tx.execute(
            "INSERT INTO messages (id, org_id, conversation_id, content, author_type, metadata, "
            "private, created_at) VALUES (:id, :org_id, :conversation_id, 'text', 'customer', "
            "'{}', :private, :created_at)",
            id=message_id,
            org_id=org_id,
            conversation_id=conversation_id,
            private=False,
            created_at=created_at,
        )


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_migration_numbers_messages_in_listed_order(
    engine: str, tmp_path: Path, postgres_available: bool
) -> None:
    if engine == "postgresql" and not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = f"sqlite:///{tmp_path / 'seq.db'}" if engine == "sqlite" else create_postgres_database()
    try:
        migrate.upgrade(url)
        config = migrate.alembic_config(url)
        # Revision 0006_analytics_ai_resolved builds on this one, so it goes first.
        command.downgrade(config, "0005_message_seq")
        command.downgrade(config, "0005_message_seq@-1")
        db = open_database(url)
        tenant = await make_tenant(db)
        await db.write(lambda tx: _insert_old_rows(tx, tenant.org_id))
        await db.close()

        migrate.upgrade(url)
        db = open_database(url)
        rows = await db.read(
            lambda tx: tx.all("SELECT id, seq FROM messages ORDER BY conversation_id, seq")
        )
        counts = await db.read(
            lambda tx: tx.all("SELECT id, message_count FROM conversations ORDER BY id")
        )
        await db.close()
    finally:
        if engine == "postgresql":
            drop_postgres_database(url)

    assert [(row["id"], row["seq"]) for row in rows] == [
        ("msg_a1", 1),
        ("msg_a2b", 2),
        ("msg_a2z", 3),
        ("msg_a3", 4),
        ("msg_b1", 1),
    ]
    # The next message takes the count plus one, so the count is set to match.
    assert [(row["id"], row["message_count"]) for row in counts] == [("conv_a", 4), ("conv_b", 1)]
