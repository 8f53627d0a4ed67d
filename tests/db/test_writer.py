"""Group commit: a failing work is undone alone, on both engines."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from campfire_server import mock
from campfire_server.db import lock_order
from campfire_server.db.database import Database
from campfire_server.errors import ServiceUnavailable


def _insert(tx, scope: str, key: str) -> str:  # type: ignore[no-untyped-def]
    tx.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
        "VALUES (:scope, :key, 'h', 0)",
        scope=scope,
        key=key,
    )
    return key


def _keys(tx, scope: str) -> list[str]:  # type: ignore[no-untyped-def]
    rows = tx.all("SELECT key FROM idempotency_keys WHERE scope = :scope ORDER BY key", scope=scope)
    return [row["key"] for row in rows]


async def _held_group(db: Database, works: list) -> list:  # type: ignore[type-arg]
    """Queue ``works`` behind a work that keeps the writer busy, so they form one group."""
    release = threading.Event()
    holding = threading.Event()

    def hold(tx):  # type: ignore[no-untyped-def]
        holding.set()
        release.wait(5)

    first = asyncio.ensure_future(db.write(hold))
    await asyncio.get_running_loop().run_in_executor(None, holding.wait, 5)
    queued = [asyncio.ensure_future(work()) for work in works]
    await asyncio.sleep(0.05)
    release.set()
    await first
    return await asyncio.gather(*queued, return_exceptions=True)


async def test_writer_failing_work_rolls_back_alone(db: Database) -> None:
    scope = f"writer-{id(db)}-alone"

    def failing(tx):  # type: ignore[no-untyped-def]
        _insert(tx, scope, "k05")
        raise ValueError("refused")

    works = []
    for index in range(10):
        key = f"k{index:02d}"
        if key == "k05":
            works.append(lambda: db.write(failing))
        else:
            works.append(lambda key=key: db.write(lambda tx: _insert(tx, scope, key)))
    results = await _held_group(db, works)

    assert isinstance(results[5], ValueError)
    assert [r for i, r in enumerate(results) if i != 5] == [
        f"k{i:02d}" for i in range(10) if i != 5
    ]
    stored = await db.read(lambda tx: _keys(tx, scope))
    assert stored == [f"k{i:02d}" for i in range(10) if i != 5]


async def test_writer_mock_work_leaves_nothing(db: Database) -> None:
    scope = f"writer-{id(db)}-mock"

    async def mocked() -> str:
        with mock.activated():
            return await db.write(lambda tx: _insert(tx, scope, "mocked"))

    results = await _held_group(
        db,
        [
            lambda: db.write(lambda tx: _insert(tx, scope, "real-1")),
            mocked,
            lambda: db.write(lambda tx: _insert(tx, scope, "real-2")),
        ],
    )

    assert results == ["real-1", "mocked", "real-2"]
    assert await db.read(lambda tx: _keys(tx, scope)) == ["real-1", "real-2"]


async def test_writer_lone_failure_runs_once(db: Database) -> None:
    calls = []

    def failing(tx):  # type: ignore[no-untyped-def]
        calls.append(1)
        raise LookupError("no such row")

    with pytest.raises(LookupError):
        await db.write(failing)
    assert len(calls) == 1


async def test_writer_constraint_violation_spares_others(db: Database) -> None:
    # On PostgreSQL a failed statement aborts the whole transaction, so the
    # group must run again for the others to commit.
    scope = f"writer-{id(db)}-unique"
    results = await _held_group(
        db,
        [
            lambda: db.write(lambda tx: _insert(tx, scope, "same")),
            lambda: db.write(lambda tx: _insert(tx, scope, "same")),
            lambda: db.write(lambda tx: _insert(tx, scope, "other")),
        ],
    )

    assert results[0] == "same"
    assert results[2] == "other"
    assert isinstance(results[1], Exception)
    assert await db.read(lambda tx: _keys(tx, scope)) == ["other", "same"]


async def test_writer_sent_statement_error_finds_its_work(db: Database) -> None:
    # A statement sent without waiting fails only at a later read or at
    # commit, possibly inside another work; the rerun must blame the sender.
    scope = f"writer-{id(db)}-sent"

    def send_insert(key: str):  # type: ignore[no-untyped-def]
        def work(tx):  # type: ignore[no-untyped-def]
            tx.send(
                "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
                "VALUES (:scope, :key, 'h', 0)",
                scope=scope,
                key=key,
            )
            return key

        return lambda: db.write(work)

    await db.write(lambda tx: _insert(tx, scope, "taken"))
    results = await _held_group(
        db,
        [
            send_insert("first"),
            send_insert("taken"),
            lambda: db.write(lambda tx: _keys(tx, scope)),
            send_insert("last"),
        ],
    )

    assert results[0] == "first"
    assert isinstance(results[1], Exception)
    assert results[2] == ["first", "taken"]
    assert results[3] == "last"
    assert await db.read(lambda tx: _keys(tx, scope)) == ["first", "last", "taken"]


async def test_writer_lone_sent_error_fails_its_work(db: Database) -> None:
    scope = f"writer-{id(db)}-lone-sent"
    await db.write(lambda tx: _insert(tx, scope, "taken"))

    def duplicate(tx):  # type: ignore[no-untyped-def]
        tx.send(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
            "VALUES (:scope, 'taken', 'h', 0)",
            scope=scope,
        )
        return "claimed"

    with pytest.raises(Exception) as raised:
        await db.write(duplicate)
    assert "duplicate" in str(raised.value).lower() or "unique" in str(raised.value).lower()
    assert await db.read(lambda tx: _keys(tx, scope)) == ["taken"]


async def test_writer_sent_error_not_503(db: Database) -> None:
    # On PostgreSQL the read that collects the failed insert aborts the
    # pipeline; that is the work's error, not a lost connection.
    scope = f"writer-{id(db)}-own-read"
    await db.write(lambda tx: _insert(tx, scope, "taken"))

    def duplicate_then_read(tx):  # type: ignore[no-untyped-def]
        tx.send(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
            "VALUES (:scope, 'taken', 'h', 0)",
            scope=scope,
        )
        return _keys(tx, scope)

    for _ in range(2):
        with pytest.raises(Exception) as raised:
            await db.write(duplicate_then_read)
        assert not isinstance(raised.value, ServiceUnavailable)
    assert await db.write(lambda tx: _keys(tx, scope)) == ["taken"]


def _send_counted_insert(scope: str, key: str, counts: list[int]):  # type: ignore[no-untyped-def]
    """Return a work that inserts ``key`` unless taken and records the row count before commit."""

    def work(tx):  # type: ignore[no-untyped-def]
        inserted = tx.send_counted(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
            "VALUES (:scope, :key, 'h', 0) ON CONFLICT (scope, key) DO NOTHING",
            scope=scope,
            key=key,
        )
        tx.before_commit(lambda: counts.append(inserted.get()))
        return key

    return work


async def test_writer_before_commit_reads_row_counts(db: Database) -> None:
    scope = f"writer-{id(db)}-counted"
    await db.write(lambda tx: _insert(tx, scope, "taken"))
    counts: list[int] = []

    results = await _held_group(
        db,
        [
            lambda: db.write(_send_counted_insert(scope, "new", counts)),
            lambda: db.write(_send_counted_insert(scope, "taken", counts)),
        ],
    )

    assert results == ["new", "taken"]
    assert counts == [1, 0]
    assert await db.read(lambda tx: _keys(tx, scope)) == ["new", "taken"]


async def test_writer_before_commit_failure_fails_its_work(db: Database) -> None:
    scope = f"writer-{id(db)}-callback"

    def refused(tx):  # type: ignore[no-untyped-def]
        _insert(tx, scope, "refused")

        def check() -> None:
            raise ValueError("the check failed")

        tx.before_commit(check)
        return "refused"

    def writes_in_callback(tx):  # type: ignore[no-untyped-def]
        tx.before_commit(lambda: _insert(tx, scope, "from-callback"))
        return "callback"

    results = await _held_group(
        db,
        [
            lambda: db.write(lambda tx: _insert(tx, scope, "before")),
            lambda: db.write(refused),
            lambda: db.write(writes_in_callback),
        ],
    )

    assert results[0] == "before"
    assert isinstance(results[1], ValueError)
    assert results[2] == "callback"
    assert await db.read(lambda tx: _keys(tx, scope)) == ["before", "from-callback"]


async def test_writer_returned_value_after_commit(db: Database) -> None:
    scope = f"writer-{id(db)}-returning"
    seen: list[str] = []

    def work(tx):  # type: ignore[no-untyped-def]
        returned = tx.send_returning(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
            "VALUES (:scope, 'returned', 'h', 0) RETURNING key",
            scope=scope,
        )
        _insert(tx, scope, "later")
        tx.after_commit(lambda: seen.append(returned.get()))
        return "ok"

    results = await _held_group(db, [lambda: db.write(work), lambda: db.write(work)])

    assert isinstance(results[1], Exception)
    assert results[0] == "ok"
    assert seen == ["returned"]


async def test_writer_logs_once_per_commit(db: Database, caplog) -> None:  # type: ignore[no-untyped-def]
    scope = f"writer-{id(db)}-logs"
    logger = logging.getLogger("tests.writer")

    def logged(key: str):  # type: ignore[no-untyped-def]
        def work(tx):  # type: ignore[no-untyped-def]
            _insert(tx, scope, key)
            tx.log(logger.info, "key stored", extra={"key": key})
            return key

        return work

    def failing(tx):  # type: ignore[no-untyped-def]
        _insert(tx, scope, "k-failing")
        tx.log(logger.info, "key stored", extra={"key": "k-failing"})
        tx.log(logger.warning, "key refused", when="failed", extra={"key": "k-failing"})
        raise ValueError("refused")

    async def mocked() -> str:
        with mock.activated():
            return await db.write(logged("k-mocked"))

    with caplog.at_level(logging.INFO, logger="tests.writer"):
        # The failing work makes the group run twice: without and then with savepoints.
        results = await _held_group(
            db,
            [
                lambda: db.write(logged("k1")),
                lambda: db.write(failing),
                lambda: db.write(logged("k2")),
                mocked,
            ],
        )

    assert results[0] == "k1"
    assert isinstance(results[1], ValueError)
    stored = [(record.getMessage(), record.key) for record in caplog.records]
    assert sorted(stored) == [
        ("key refused", "k-failing"),
        ("key stored", "k1"),
        ("key stored", "k2"),
    ]


async def test_read_logs_at_once(db: Database, caplog) -> None:  # type: ignore[no-untyped-def]
    logger = logging.getLogger("tests.writer")

    def work(tx):  # type: ignore[no-untyped-def]
        tx.log(logger.info, "read ran")
        return tx.value("SELECT 1 AS one")

    with caplog.at_level(logging.INFO, logger="tests.writer"):
        await db.read(work)

    assert [record.getMessage() for record in caplog.records] == ["read ran"]


@pytest.mark.parametrize("with_failure", [False, True], ids=["one-run", "rerun-with-savepoints"])
async def test_writer_before_commit_logs_once(  # type: ignore[no-untyped-def]
    db: Database, caplog, with_failure: bool
) -> None:
    scope = f"writer-{id(db)}-callback-logs-{with_failure}"
    logger = logging.getLogger("tests.writer")
    published: list[str] = []

    def checked(key: str):  # type: ignore[no-untyped-def]
        def work(tx):  # type: ignore[no-untyped-def]
            inserted = tx.send_counted(
                "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
                "VALUES (:scope, :key, 'h', 0) ON CONFLICT (scope, key) DO NOTHING",
                scope=scope,
                key=key,
            )

            def check() -> None:
                tx.log(logger.info, "key checked", extra={"key": key, "rows": inserted.get()})
                tx.after_commit(lambda: published.append(key))

            tx.before_commit(check)
            return key

        return work

    def rejected_in_callback(tx):  # type: ignore[no-untyped-def]
        _insert(tx, scope, "rejected")

        def check() -> None:
            rejection = {"key": "rejected", "rows": 0}
            tx.log(logger.warning, "key rejected", when="failed", extra=rejection)
            raise ValueError("the check failed")

        tx.before_commit(check)
        return "rejected"

    works = [lambda: db.write(checked("a")), lambda: db.write(checked("b"))]
    if with_failure:
        works.insert(1, lambda: db.write(rejected_in_callback))
    with caplog.at_level(logging.INFO, logger="tests.writer"):
        results = await _held_group(db, works)

    assert [result for result in results if not isinstance(result, Exception)] == ["a", "b"]
    assert published == ["a", "b"]
    logged = sorted((record.getMessage(), record.key, record.rows) for record in caplog.records)
    expected = [("key checked", "a", 1), ("key checked", "b", 1)]
    if with_failure:
        assert isinstance(results[1], ValueError)
        expected.append(("key rejected", "rejected", 0))
    assert logged == sorted(expected)
    assert await db.read(lambda tx: _keys(tx, scope)) == ["a", "b"]


async def test_writer_reruns_group_after_deadlock(db: Database) -> None:
    """Two writers lock two rows in opposite orders; PostgreSQL aborts one and it runs again."""
    if db.dialect != "postgresql":
        pytest.skip("only PostgreSQL has writers in several processes")
    from campfire_server.db.database import open_database

    other = open_database(db.url, pool_size=1)
    scope = f"deadlock-{threading.get_ident()}"
    await db.write(lambda tx: [_insert(tx, scope, "a"), _insert(tx, scope, "b")])
    both_hold_first_row = threading.Barrier(2, timeout=5)

    def crossing(first: str, second: str, runs: list[int]):  # type: ignore[no-untyped-def]
        def work(tx):  # type: ignore[no-untyped-def]
            runs.append(1)
            for key in (first, second):
                tx.execute(
                    "UPDATE idempotency_keys SET request_hash = :hash "
                    "WHERE scope = :scope AND key = :key",
                    hash=f"{first}{len(runs)}",
                    scope=scope,
                    key=key,
                )
                if key == first and len(runs) == 1:
                    both_hold_first_row.wait()
            return len(runs)

        return work

    runs_forward: list[int] = []
    runs_backward: list[int] = []
    try:
        results = await asyncio.gather(
            db.write(crossing("a", "b", runs_forward)),
            other.write(crossing("b", "a", runs_backward)),
        )
    finally:
        await other.close()

    # Both committed, and the one PostgreSQL chose as the deadlock victim ran twice.
    assert sorted(results) == [1, 2]
    assert len(runs_forward) + len(runs_backward) == 3
    assert await db.read(lambda tx: _keys(tx, scope)) == ["a", "b"]


def _record(order: list[str], name: str):  # type: ignore[no-untyped-def]
    def work(tx):  # type: ignore[no-untyped-def]
        order.append(name)
        return name

    return work


async def test_group_sort_needs_every_key(db: Database) -> None:
    keyed: list[str] = []
    await _held_group(
        db,
        [
            lambda: db.write(_record(keyed, "b1"), order_key="conv_b"),
            lambda: db.write(_record(keyed, "a1"), order_key="conv_a"),
            lambda: db.write(_record(keyed, "b2"), order_key="conv_b"),
        ],
    )
    mixed: list[str] = []
    await _held_group(
        db,
        [
            lambda: db.write(_record(mixed, "b1"), order_key="conv_b"),
            lambda: db.write(_record(mixed, "unkeyed")),
            lambda: db.write(_record(mixed, "a1"), order_key="conv_a"),
        ],
    )

    assert keyed == ["a1", "b1", "b2"]
    assert mixed == ["b1", "unkeyed", "a1"]


async def test_group_takes_lock_kinds_in_order(db: Database) -> None:
    order: list[str] = []
    await _held_group(
        db,
        [
            lambda: db.write(
                _record(order, "claim"), order_key=lock_order.idempotency("scope", "key")
            ),
            lambda: db.write(
                _record(order, "new conversation"), order_key=lock_order.customer("org_a", None)
            ),
            lambda: db.write(
                _record(order, "message"), order_key=lock_order.conversation("conv_z")
            ),
            lambda: db.write(_record(order, "handoff"), order_key=lock_order.routing("org_a")),
        ],
    )

    # Routing locks come before any conversation, then customers, then idempotency rows.
    assert order == ["handoff", "message", "new conversation", "claim"]


def _keyed_callback_work(scope: str, key: str, counts: list[int]):  # type: ignore[no-untyped-def]
    """Return a work whose ``before_commit`` callback bumps ``key`` with a keyed statement.

    The callback sends a keyed insert of a row of its own and a keyed
    update of ``key``, and a second round records the update's row count.
    """

    def work(tx):  # type: ignore[no-untyped-def]
        def bump() -> None:
            tx.send(
                "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
                "VALUES (:scope, :key, 'h', 0)",
                row_key=f"{key}-{len(counts)}-{id(tx)}",
                scope=f"{scope}-log",
                key=f"{key}-{id(tx)}",
            )
            bumped = tx.send_counted(
                "UPDATE idempotency_keys SET created_at = created_at + 1 "
                "WHERE scope = :scope AND key = :key",
                row_key=key,
                scope=scope,
                key=key,
            )
            tx.before_commit(lambda: counts.append(bumped.get()))

        tx.before_commit(bump)
        return key

    return work


async def _bump_counts(db: Database, scope: str) -> dict[str, int]:
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT key, created_at FROM idempotency_keys WHERE scope = :scope", scope=scope
        )
    )
    return {row["key"]: row["created_at"] for row in rows}


async def test_writer_keyed_sends_merge_across_works(db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from campfire_server.db import tx as tx_module

    merged_sizes: list[int] = []
    merge = tx_module.merged_statement

    def recording_merge(pending):  # type: ignore[no-untyped-def]
        merged_sizes.append(len(pending))
        return merge(pending)

    monkeypatch.setattr(tx_module, "merged_statement", recording_merge)
    scope = f"writer-{id(db)}-keyed"
    for key in ("a", "b", "c"):
        await db.write(lambda tx, key=key: _insert(tx, scope, key))
    counts: list[int] = []

    # "a" appears twice, so its second update must see the first.
    keys = ["a", "b", "a", "c"]
    results = await _held_group(
        db, [lambda key=key: db.write(_keyed_callback_work(scope, key, counts)) for key in keys]
    )

    assert results == keys
    assert counts == [1, 1, 1, 1]
    assert await _bump_counts(db, scope) == {"a": 2, "b": 1, "c": 1}
    assert len(await _bump_counts(db, f"{scope}-log")) == 4
    if db.dialect == "postgresql":
        # Works 1 and 2 share one merged statement, which the second
        # update of "a" cuts.
        assert max(merged_sizes) >= 4


async def test_writer_keyed_send_failure_fails_its_work(db: Database) -> None:
    scope = f"writer-{id(db)}-keyed-failure"
    for key in ("a", "b", "c"):
        await db.write(lambda tx, key=key: _insert(tx, scope, key))

    def insert_in_callback(key: str):  # type: ignore[no-untyped-def]
        def work(tx):  # type: ignore[no-untyped-def]
            tx.before_commit(
                lambda: tx.send(
                    "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
                    "VALUES (:scope, :key, 'h', 0)",
                    row_key=key,
                    scope=scope,
                    key=key,
                )
            )
            return key

        return lambda: db.write(work)

    results = await _held_group(
        db, [insert_in_callback("d"), insert_in_callback("b"), insert_in_callback("e")]
    )

    assert results[0] == "d"
    assert isinstance(results[1], Exception)
    assert results[2] == "e"
    assert await db.read(lambda tx: _keys(tx, scope)) == ["a", "b", "c", "d", "e"]
