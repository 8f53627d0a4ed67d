"""Migration 0005_webhook_disabled_periods keeps a disabled webhook from receiving unread events."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from campfire_server.db import migrate
from campfire_server.db.database import open_database
from campfire_server.events import records
from campfire_server.events.emit import emit
from campfire_server.webhooks.delivery import fan_out_all
from tests.conftest import create_postgres_database, drop_postgres_database, make_tenant

NOW = 1_767_225_600_000


def _insert_webhooks(tx, org_id: str) -> None:  # type: ignore[no-untyped-def]
    for webhook_id, enabled in (("wh_on", True), ("wh_off", False)):
        tx.execute(
            "INSERT INTO webhooks (id, org_id, url, events, secret, enabled, created_at, "
            "updated_at) VALUES (:id, :org_id, 'http://127.0.0.1:9/hook', '[\"*\"]', "
            "'whsec_dGVzdA==', :enabled, :now, :now)",
            id=webhook_id,
            org_id=org_id,
            enabled=enabled,
            now=NOW,
        )


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_disabled_webhook_stays_off_after_migration(
    engine: str, tmp_path: Path, postgres_available: bool
) -> None:
    if engine == "postgresql" and not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    sqlite_url = f"sqlite:///{tmp_path / 'periods.db'}"
    url = sqlite_url if engine == "sqlite" else create_postgres_database()
    try:
        migrate.upgrade(url)
        command.downgrade(migrate.alembic_config(url), "0004_webhook_mailboxes")
        db = open_database(url)
        tenant = await make_tenant(db)
        await db.write(lambda tx: _insert_webhooks(tx, tenant.org_id))
        await db.close()

        migrate.upgrade(url)
        db = open_database(url)
        event = await db.write(
            lambda tx: emit(tx, org_id=tenant.org_id, type=records.MESSAGE_SENT, data={})
        )
        await fan_out_all(db)
        rows = await db.read(
            lambda tx: tx.all("SELECT webhook_id, event_id FROM webhook_deliveries")
        )
        periods = await db.read(
            lambda tx: tx.all("SELECT id, disabled_periods FROM webhooks ORDER BY id")
        )
        await db.close()
    finally:
        if engine == "postgresql":
            drop_postgres_database(url)

    assert [(row["webhook_id"], row["event_id"]) for row in rows] == [("wh_on", event.id)]
    assert [(row["id"], row["disabled_periods"]) for row in periods] == [
        ("wh_off", '[{"from":null,"to":null}]'),
        ("wh_on", "[]"),
    ]
