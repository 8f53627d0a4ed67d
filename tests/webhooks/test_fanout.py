"""The fan-out from the event log: late commits, crashes mid-batch, competing workers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from campfire_server.db import migrate
from campfire_server.db.database import Database, open_database
from campfire_server.db.tx import Tx
from campfire_server.events import cursor, records
from campfire_server.events.cursor import Snapshot
from campfire_server.events.emit import emit
from campfire_server.realtime.service import prune_events
from campfire_server.webhooks import actions, fanout, subscriptions
from campfire_server.webhooks.delivery import DeliveryWorker, fan_out_all, new_http_client
from campfire_server.webhooks.schemas import WebhookCreate, WebhookUpdate
from campfire_server.webhooks.subscriptions import WakeIndex
from tests.conftest import (
    Tenant,
    create_postgres_database,
    drop_postgres_database,
    make_tenant,
)

from .conftest import closed_port, fast_settings

UNUSED_URL = f"http://127.0.0.1:{closed_port()}/hook"


@pytest.fixture
async def org(db: Database) -> AsyncIterator[Tenant]:
    """A tenant whose webhooks and deliveries are deleted after the test."""
    await fan_out_all(db)
    tenant = await make_tenant(db, "Fan-out org")
    yield tenant

    def forget(tx: Tx) -> None:
        tx.execute(
            "DELETE FROM webhook_attempts WHERE delivery_id IN "
            "(SELECT id FROM webhook_deliveries WHERE org_id = :org)",
            org=tenant.org_id,
        )
        tx.execute("DELETE FROM webhook_deliveries WHERE org_id = :org", org=tenant.org_id)
        tx.execute("DELETE FROM webhooks WHERE org_id = :org", org=tenant.org_id)

    await db.write(forget)


async def _webhook(db: Database, org_id: str, events: list[str] | None = None) -> str:
    created = await db.write(
        lambda tx: actions.create_webhook(
            tx, org_id, WebhookCreate(url=UNUSED_URL, events=events or ["*"])
        )
    )
    return created.id


async def _emit(db: Database, org_id: str, n: int = 0) -> str:
    record = await db.write(
        lambda tx: emit(tx, org_id=org_id, type=records.MESSAGE_SENT, data={"n": n})
    )
    return record.id


async def _queued(db: Database, webhook_id: str) -> list[str]:
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT event_id FROM webhook_deliveries WHERE webhook_id = :id ORDER BY event_id",
            id=webhook_id,
        )
    )
    return [row["event_id"] for row in rows]


async def test_emit_queues_nothing_until_fan_out(db, org):
    webhook_id = await _webhook(db, org.org_id)
    event_id = await _emit(db, org.org_id)

    assert await _queued(db, webhook_id) == []
    assert await fan_out_all(db) == 1
    assert await _queued(db, webhook_id) == [event_id]
    assert await fan_out_all(db) == 0
    assert await _queued(db, webhook_id) == [event_id]


async def test_webhook_created_after_event_skips_it(db, org, caplog):
    before = await _emit(db, org.org_id, 1)
    webhook_id = await _webhook(db, org.org_id)
    after = await _emit(db, org.org_id, 2)

    with caplog.at_level(logging.INFO, logger="campfire_server.webhooks.fanout"):
        await fan_out_all(db)

    assert await _queued(db, webhook_id) == [after]
    assert before != after
    skipped = [
        record
        for record in caplog.records
        if record.getMessage() == "webhook fan-out skipped events"
    ]
    assert len(skipped) == 1
    assert skipped[0].reason == "the event committed before the webhook was created"
    assert skipped[0].skipped == 1
    assert skipped[0].pairs == [{"position": await _position(db, before), "webhook_id": webhook_id}]


async def test_deleted_webhook_gets_nothing(db, org):
    deleted = await _webhook(db, org.org_id)
    kept = await _webhook(db, org.org_id, ["message.sent"])
    ignored = await _webhook(db, org.org_id, ["conversation.created"])
    event_id = await _emit(db, org.org_id)
    await db.write(lambda tx: actions.delete_webhook(tx, org.org_id, deleted))

    await fan_out_all(db)

    assert await _queued(db, deleted) == []
    assert await _queued(db, ignored) == []
    assert await _queued(db, kept) == [event_id]


async def _set_enabled(db: Database, org_id: str, webhook_id: str, enabled: bool) -> None:
    await db.write(
        lambda tx: actions.update_webhook(tx, org_id, webhook_id, WebhookUpdate(enabled=enabled))
    )


async def _deliveries(db: Database, webhook_id: str) -> dict[str, tuple[str, str | None]]:
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT event_id, status, last_error FROM webhook_deliveries WHERE webhook_id = :id",
            id=webhook_id,
        )
    )
    return {row["event_id"]: (row["status"], row["last_error"]) for row in rows}


async def test_event_follows_webhook_state_when_written(db, org):
    webhook_id = await _webhook(db, org.org_id)
    while_enabled = await _emit(db, org.org_id, 1)
    await _set_enabled(db, org.org_id, webhook_id, False)
    while_disabled = await _emit(db, org.org_id, 2)
    await _set_enabled(db, org.org_id, webhook_id, True)
    enabled_again = await _emit(db, org.org_id, 3)

    # Every event is read after the last change.
    await fan_out_all(db)

    deliveries = await _deliveries(db, webhook_id)
    assert set(deliveries) == {while_enabled, enabled_again}
    assert deliveries[while_enabled] == ("pending", None)
    assert deliveries[enabled_again] == ("pending", None)
    assert while_disabled not in deliveries


async def test_disabled_webhook_gets_earlier_event_as_failed(db, org):
    webhook_id = await _webhook(db, org.org_id)
    other = await _webhook(db, org.org_id)
    before = await _emit(db, org.org_id, 1)
    await _set_enabled(db, org.org_id, webhook_id, False)
    after = await _emit(db, org.org_id, 2)

    await fan_out_all(db)

    deliveries = await _deliveries(db, webhook_id)
    assert deliveries == {before: ("failed", fanout.DISABLED_ERROR)}
    assert set(await _queued(db, other)) == {before, after}


async def test_fan_out_between_changes_matches_late_one(db, org):
    # The same events read after each change get the same deliveries.
    webhook_id = await _webhook(db, org.org_id)
    first = await _emit(db, org.org_id, 1)
    await fan_out_all(db)
    await _set_enabled(db, org.org_id, webhook_id, False)
    second = await _emit(db, org.org_id, 2)
    await fan_out_all(db)
    await _set_enabled(db, org.org_id, webhook_id, True)
    third = await _emit(db, org.org_id, 3)
    await fan_out_all(db)

    deliveries = await _deliveries(db, webhook_id)
    assert set(deliveries) == {first, third}
    # Disabling failed the first delivery, which was pending by then.
    assert deliveries[first] == ("failed", fanout.DISABLED_ERROR)
    assert deliveries[third] == ("pending", None)
    assert second not in deliveries


async def test_read_periods_are_dropped(db, org):
    webhook_id = await _webhook(db, org.org_id)
    for _ in range(3):
        await _set_enabled(db, org.org_id, webhook_id, False)
        await _emit(db, org.org_id)
        await _set_enabled(db, org.org_id, webhook_id, True)
        await fan_out_all(db)
    await _set_enabled(db, org.org_id, webhook_id, False)

    periods = await db.read(
        lambda tx: tx.value("SELECT disabled_periods FROM webhooks WHERE id = :id", id=webhook_id)
    )
    parsed = subscriptions.parse_periods(periods)
    # The closed periods were read, and only the open one is kept.
    assert len(parsed) == 1
    assert parsed[0].end is None


async def test_crash_mid_batch_repeats_it_once(db, org, monkeypatch):
    webhook_id = await _webhook(db, org.org_id)

    def emit_batch(tx: Tx) -> list[str]:
        return [
            emit(tx, org_id=org.org_id, type=records.MESSAGE_SENT, data={"n": n}).id
            for n in range(25)
        ]

    event_ids = await db.write(emit_batch)
    real_advance = cursor.advance
    calls = {"n": 0}

    def advance_then_crash(tx: Tx, batch: cursor.Batch) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the worker died before its fan-out committed")
        real_advance(tx, batch)

    monkeypatch.setattr(cursor, "advance", advance_then_crash)
    first = await db.write(lambda tx: fanout.fan_out(tx, limit=10))
    with pytest.raises(RuntimeError, match="died"):
        await db.write(lambda tx: fanout.fan_out(tx, limit=10))
    after_crash = await _queued(db, webhook_id)
    monkeypatch.setattr(cursor, "advance", real_advance)
    while not (await db.write(lambda tx: fanout.fan_out(tx, limit=10))).caught_up:
        pass
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT event_id, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = :id "
            "GROUP BY event_id",
            id=webhook_id,
        )
    )

    assert first is not None
    assert first.deliveries == 10
    assert len(after_crash) == 10
    assert {row["event_id"] for row in rows} == set(event_ids)
    assert all(row["n"] == 1 for row in rows)


async def test_rewound_cursor_queues_nothing_twice(db, org):
    webhook_id = await _webhook(db, org.org_id)
    event_id = await _emit(db, org.org_id)
    state = await db.read(
        lambda tx: tx.one(
            "SELECT position, resume_tx_id, consumed_snapshot, target_snapshot "
            "FROM event_cursors WHERE name = 'webhooks'"
        )
    )
    assert await fan_out_all(db) == 1

    # A rewound cursor (a database copy rebuilds it conservatively) reads the
    # range again. The repeated read inserts nothing twice.
    await db.write(
        lambda tx: tx.execute(
            "UPDATE event_cursors SET position = :position, resume_tx_id = :resume_tx_id, "
            "consumed_snapshot = :consumed_snapshot, target_snapshot = :target_snapshot "
            "WHERE name = 'webhooks'",
            **state,
        )
    )
    assert await fan_out_all(db) == 0
    assert await _queued(db, webhook_id) == [event_id]


async def test_manual_worker_run_once_fans_out(db, org):
    await _webhook(db, org.org_id)
    await _emit(db, org.org_id)
    settings = fast_settings(db.url, webhook_worker=False)
    sender = new_http_client(settings)
    try:
        worker = DeliveryWorker(db, settings, sender)
        attempted = await worker.run_once()
    finally:
        await sender.aclose()

    assert attempted >= 1


async def test_wake_index_follows_other_processes(db, org):
    settings = fast_settings(db.url, webhook_worker=False)
    sender = new_http_client(settings)
    try:
        worker = DeliveryWorker(db, settings, sender)
        await worker.refresh_index()
        before = worker.index.wants(org.org_id, records.MESSAGE_SENT)
        # Written without this worker's in-process listener, as another process would.
        webhook_id = await _webhook(db, org.org_id, ["message.sent"])
        await worker.refresh_index()
        after = worker.index.wants(org.org_id, records.MESSAGE_SENT)
        other_type = worker.index.wants(org.org_id, records.CONVERSATION_CREATED)
        await db.write(lambda tx: actions.delete_webhook(tx, org.org_id, webhook_id))
        await worker.refresh_index()
        deleted = worker.index.wants(org.org_id, records.MESSAGE_SENT)
    finally:
        await sender.aclose()

    assert before is False
    assert after is True
    assert other_type is False
    assert deleted is False


def test_wake_index_wakes_until_loaded():
    index = WakeIndex()
    assert index.wants("org_x", "message.sent") is True
    index.load([{"org_id": "org_y", "events": '["*"]'}], revision=3)
    assert index.wants("org_x", "message.sent") is False
    assert index.wants("org_y", "handoff.completed") is True
    index.invalidate()
    assert index.wants("org_x", "message.sent") is True


def test_snapshot_visibility():
    snapshot = Snapshot.parse("100:110:102,105")
    assert snapshot.visible(99)
    assert snapshot.visible(101)
    assert not snapshot.visible(102)
    assert not snapshot.visible(110)
    assert str(snapshot) == "100:110:102,105"
    running = snapshot.with_running(107)
    assert not running.visible(107)
    assert running.visible(106)
    assert str(Snapshot.parse("5:5:")) == "5:5:"


def test_with_running_lists_unfinished_ids():
    # Transactions 100 to 102 had not finished when a snapshot with xmax 100
    # was taken, so counting 103 as running must not mark them finished.
    snapshot = Snapshot.parse("100:100:")
    running = snapshot.with_running(103)
    assert running.visible(99)
    assert not running.visible(100)
    assert not running.visible(101)
    assert not running.visible(102)
    assert not running.visible(103)
    assert not running.visible(104)
    assert str(running) == "100:104:100,101,102,103"


# PostgreSQL: transactions that commit out of position order ----------------------


def _require_postgres(db: Database) -> None:
    if db.dialect != "postgresql":
        pytest.skip("positions commit out of order only on PostgreSQL")


def _open_transaction(url: str) -> tuple[Any, Tx]:
    conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
    handle = conn.cursor()
    handle.execute("BEGIN")
    return conn, Tx(handle, "postgresql")


async def _position(db: Database, event_id: str) -> int:
    # ``emit`` returns the record before the writer has read its position.
    return await db.read(
        lambda tx: tx.value("SELECT position FROM events WHERE id = :id", id=event_id)
    )


async def test_late_commit_is_not_skipped(db, org):
    _require_postgres(db)
    webhook_id = await _webhook(db, org.org_id)
    conn, late_tx = _open_transaction(db.url)
    try:
        late = emit(late_tx, org_id=org.org_id, type=records.MESSAGE_SENT, data={"late": True})
        early = await db.write(
            lambda tx: emit(tx, org_id=org.org_id, type=records.MESSAGE_SENT, data={})
        )
        await fan_out_all(db)
        while_open = await _queued(db, webhook_id)
        late_tx.execute("COMMIT")
    finally:
        conn.close()
    await fan_out_all(db)

    assert await _position(db, late.id) < await _position(db, early.id)
    assert while_open == [early.id]
    assert sorted(await _queued(db, webhook_id)) == sorted([early.id, late.id])


async def test_current_snapshot_sees_older_running(db):
    _require_postgres(db)
    older_conn, older = _open_transaction(db.url)
    newer_conn, newer = _open_transaction(db.url)
    try:
        older_id = int(older.value("SELECT pg_current_xact_id()::text AS xid"))
        newer_id = int(newer.value("SELECT pg_current_xact_id()::text AS xid"))
        snapshot = cursor.current_snapshot(newer)
    finally:
        older_conn.close()
        newer_conn.close()

    assert older_id < newer_id
    assert not snapshot.visible(older_id)
    assert not snapshot.visible(newer_id)


async def test_out_of_order_commits_both_fanned_out(db, org):
    # The late transaction takes the older transaction id and position, and
    # a fan-out runs while it is open, before any newer transaction commits.
    _require_postgres(db)
    webhook_id = await _webhook(db, org.org_id)
    conn, late_tx = _open_transaction(db.url)
    try:
        late = emit(late_tx, org_id=org.org_id, type=records.MESSAGE_SENT, data={"late": True})
        await db.write(fanout.fan_out)
        early = await db.write(
            lambda tx: emit(tx, org_id=org.org_id, type=records.MESSAGE_SENT, data={})
        )
        await db.write(fanout.fan_out)
        while_open = await _queued(db, webhook_id)
        late_tx.execute("COMMIT")
    finally:
        conn.close()
    await fan_out_all(db)
    await fan_out_all(db)

    assert await _position(db, late.id) < await _position(db, early.id)
    assert while_open == [early.id]
    assert sorted(await _queued(db, webhook_id)) == sorted([early.id, late.id])


async def test_late_commit_counts_for_new_webhook(db, org):
    _require_postgres(db)
    conn, late_tx = _open_transaction(db.url)
    try:
        late = emit(late_tx, org_id=org.org_id, type=records.MESSAGE_SENT, data={"late": True})
        webhook_id = await _webhook(db, org.org_id)
        late_tx.execute("COMMIT")
    finally:
        conn.close()
    await fan_out_all(db)

    # The event committed after the webhook was created, so the webhook gets it.
    assert await _queued(db, webhook_id) == [late.id]


async def test_rolled_back_event_is_never_queued(db, org):
    _require_postgres(db)
    webhook_id = await _webhook(db, org.org_id)
    conn, doomed_tx = _open_transaction(db.url)
    try:
        emit(doomed_tx, org_id=org.org_id, type=records.MESSAGE_SENT, data={"doomed": True})
        kept = await _emit(db, org.org_id)
        await fan_out_all(db)
        doomed_tx.execute("ROLLBACK")
    finally:
        conn.close()
    await fan_out_all(db)

    assert await _queued(db, webhook_id) == [kept]


async def test_second_worker_skips_held_cursor(db, org):
    _require_postgres(db)
    webhook_id = await _webhook(db, org.org_id)
    event_id = await _emit(db, org.org_id)
    conn, holder = _open_transaction(db.url)
    try:
        held = fanout.fan_out(holder)
        skipped = await db.write(fanout.fan_out)
        holder.execute("COMMIT")
    finally:
        conn.close()

    assert held is not None
    assert held.deliveries == 1
    assert skipped is None
    assert await _queued(db, webhook_id) == [event_id]


# Pruning keeps what the cursor has not read -----------------------------------------


@pytest.fixture
async def fresh_db(backend: str, tmp_path) -> AsyncIterator[Database]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'prune.db'}"
    else:
        url = create_postgres_database()
    migrate.upgrade(url)
    database = open_database(url)
    try:
        yield database
    finally:
        await database.close()
        if backend == "postgresql":
            drop_postgres_database(url)


async def test_prune_keeps_unread_events(fresh_db):
    tenant = await make_tenant(fresh_db, "Prune org")
    await _webhook(fresh_db, tenant.org_id)
    for n in range(3):
        await _emit(fresh_db, tenant.org_id, n)
    far_future = 2**62
    total = await fresh_db.read(lambda tx: tx.value("SELECT COUNT(*) AS n FROM events"))

    unread_pruned = await fresh_db.write(lambda tx: prune_events(tx, cutoff_ms=far_future, keep=1))
    await fan_out_all(fresh_db)
    read_pruned = await fresh_db.write(lambda tx: prune_events(tx, cutoff_ms=far_future, keep=1))

    assert total >= 3
    assert unread_pruned == 0
    # The newest event of the organization stays whatever its age.
    assert read_pruned == total - 1


# Copying a database keeps the fan-out where it was ----------------------------------


async def test_copy_to_postgres_keeps_unread_events(tmp_path, postgres_available):
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    from campfire_server.db.copy import copy_database

    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    migrate.upgrade(source_url)
    source = open_database(source_url)
    try:
        tenant = await make_tenant(source, "Copy org")
        webhook_id = await _webhook(source, tenant.org_id)
        read_before_copy = await _emit(source, tenant.org_id, 1)
        await fan_out_all(source)
        unread = {await _emit(source, tenant.org_id, n) for n in (2, 3)}
    finally:
        await source.close()

    target_url = create_postgres_database()
    try:
        copy_database(source_url, target_url)
        target = open_database(target_url)
        try:
            queued = await fan_out_all(target)
            rows = await target.read(
                lambda tx: tx.all(
                    "SELECT event_id, COUNT(*) AS n FROM webhook_deliveries WHERE webhook_id = :id "
                    "GROUP BY event_id",
                    id=webhook_id,
                )
            )
            later = await _emit(target, tenant.org_id, 4)
            await fan_out_all(target)
            after = await _queued(target, webhook_id)
        finally:
            await target.close()
    finally:
        drop_postgres_database(target_url)

    assert queued == 2
    assert {row["event_id"] for row in rows} == unread | {read_before_copy}
    assert all(row["n"] == 1 for row in rows)
    assert later in after
    assert len(after) == 4


def test_snapshot_covers_finished_transactions():
    earlier = Snapshot.parse("100:105:100,103")
    assert Snapshot.parse("100:108:100,106").covers(earlier)
    assert Snapshot.parse("107:110:").covers(earlier)
    # 101 had finished in the earlier snapshot but is running in this one.
    assert not Snapshot.parse("101:110:101").covers(earlier)
    # 104 had finished earlier; a snapshot that ends before it never saw it.
    assert not Snapshot.parse("100:104:100").covers(earlier)


async def test_commit_after_disable_is_not_delivered(db, org):
    # The event's transaction took its position before the webhook was
    # disabled but committed after, so it happened while it was disabled.
    _require_postgres(db)
    webhook_id = await _webhook(db, org.org_id)
    conn, late_tx = _open_transaction(db.url)
    try:
        late = emit(late_tx, org_id=org.org_id, type=records.MESSAGE_SENT, data={"late": True})
        await _set_enabled(db, org.org_id, webhook_id, False)
        late_tx.execute("COMMIT")
    finally:
        conn.close()
    await _set_enabled(db, org.org_id, webhook_id, True)
    await fan_out_all(db)

    assert late.id not in await _deliveries(db, webhook_id)


async def test_commit_after_enable_is_delivered(db, org):
    _require_postgres(db)
    webhook_id = await _webhook(db, org.org_id)
    await _set_enabled(db, org.org_id, webhook_id, False)
    conn, late_tx = _open_transaction(db.url)
    try:
        late = emit(late_tx, org_id=org.org_id, type=records.MESSAGE_SENT, data={"late": True})
        await _set_enabled(db, org.org_id, webhook_id, True)
        late_tx.execute("COMMIT")
    finally:
        conn.close()
    await fan_out_all(db)

    assert await _deliveries(db, webhook_id) == {late.id: ("pending", None)}


async def test_copy_to_postgres_keeps_disabled_state(tmp_path, postgres_available):
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    from campfire_server.db.copy import copy_database

    source_url = f"sqlite:///{tmp_path / 'source.db'}"
    migrate.upgrade(source_url)
    source = open_database(source_url)
    try:
        tenant = await make_tenant(source, "Copy org")
        toggled = await _webhook(source, tenant.org_id)
        await _set_enabled(source, tenant.org_id, toggled, False)
        await _set_enabled(source, tenant.org_id, toggled, True)
        disabled = await _webhook(source, tenant.org_id)
        await _set_enabled(source, tenant.org_id, disabled, False)
    finally:
        await source.close()

    target_url = create_postgres_database()
    try:
        copy_database(source_url, target_url)
        target = open_database(target_url)
        try:
            event_id = await _emit(target, tenant.org_id)
            await fan_out_all(target)
            toggled_deliveries = await _queued(target, toggled)
            disabled_deliveries = await _queued(target, disabled)
        finally:
            await target.close()
    finally:
        drop_postgres_database(target_url)

    assert toggled_deliveries == [event_id]
    assert disabled_deliveries == []
