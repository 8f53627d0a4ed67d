"""A write group that starts while the COMMIT of the group before it is unconfirmed.

On PostgreSQL the writer sends a group's COMMIT without waiting for it and
runs the next group in the same pipeline, so these tests make the first
group's COMMIT fail, or lose the connection, while the second group runs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

from campfire_server.db.database import Database
from campfire_server.db.tx import Tx
from campfire_server.errors import ServiceUnavailable


@pytest.fixture
def pipelined(db: Database) -> Database:
    if db.dialect != "postgresql":
        pytest.skip("only PostgreSQL's writer sends a COMMIT without waiting for it")
    return db


@pytest.fixture
async def deferred_table(pipelined: Database) -> AsyncIterator[str]:
    """A table whose unique key PostgreSQL checks only at COMMIT."""
    name = f"overlap_{threading.get_ident()}"
    url = pipelined.url  # type: ignore[attr-defined]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {name} (key TEXT, "
            f"CONSTRAINT {name}_key UNIQUE (key) DEFERRABLE INITIALLY DEFERRED)"
        )
    yield name
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {name}")


def _send_key(scope: str, key: str) -> Callable[[Tx], str]:
    def work(tx: Tx) -> str:
        tx.send(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
            "VALUES (:scope, :key, 'h', 0)",
            scope=scope,
            key=key,
        )
        return key

    return work


def _execute_key(scope: str, key: str) -> Callable[[Tx], str]:
    def work(tx: Tx) -> str:
        tx.execute(
            "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
            "VALUES (:scope, :key, 'h', 0)",
            scope=scope,
            key=key,
        )
        return key

    return work


async def _keys(db: Database, scope: str) -> list[str]:
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT key FROM idempotency_keys WHERE scope = :scope ORDER BY key", scope=scope
        )
    )
    return [row["key"] for row in rows]


async def _after_held(
    db: Database, first: Callable[[Tx], Any], later: list[Callable[[Tx], Any]]
) -> tuple[Any, list[Any]]:
    """Run ``first`` as a group of its own, and ``later`` as the group after it.

    The writer waits after ``first`` returns, and the later works are
    queued meanwhile, so the writer has them when it sends the COMMIT.
    """
    release = threading.Event()
    holding = threading.Event()

    def held(tx: Tx) -> Any:
        result = first(tx)
        holding.set()
        release.wait(5)
        return result

    head = asyncio.ensure_future(db.write(held))
    await asyncio.get_running_loop().run_in_executor(None, holding.wait, 5)
    queued = [asyncio.ensure_future(db.write(work)) for work in later]
    await asyncio.sleep(0.05)
    release.set()
    results = await asyncio.gather(head, *queued, return_exceptions=True)
    return results[0], list(results[1:])


@pytest.mark.parametrize("later_reads", [False, True])
async def test_overlap_commit_failure_reruns_next(
    pipelined: Database, deferred_table: str, later_reads: bool
) -> None:
    scope = f"overlap-commit-{later_reads}"

    def duplicates(tx: Tx) -> str:
        for _ in range(2):
            tx.send(f"INSERT INTO {deferred_table} (key) VALUES ('same')")
        return "first"

    # A work that reads waits for the pipeline inside the work; one that
    # only sends waits at the group's commit.
    make = _execute_key if later_reads else _send_key
    first, later = await _after_held(pipelined, duplicates, [make(scope, "b"), make(scope, "c")])

    assert isinstance(first, pg_errors.UniqueViolation)
    assert later == ["b", "c"]
    assert await _keys(pipelined, scope) == ["b", "c"]
    stored = await pipelined.read(lambda tx: tx.value(f"SELECT count(*) FROM {deferred_table}"))
    assert stored == 0


async def test_overlap_sent_error_reruns_next(pipelined: Database) -> None:
    scope = "overlap-sent"
    await pipelined.write(_execute_key(scope, "taken"))

    first, later = await _after_held(
        pipelined, _send_key(scope, "taken"), [_send_key(scope, "b"), _execute_key(scope, "c")]
    )

    assert isinstance(first, pg_errors.UniqueViolation)
    assert later == ["b", "c"]
    assert await _keys(pipelined, scope) == ["b", "c", "taken"]


async def test_overlap_later_failure_keeps_first(pipelined: Database) -> None:
    scope = "overlap-later"

    def failing(tx: Tx) -> None:
        _send_key(scope, "failed")(tx)
        raise ValueError("rejected")

    first, later = await _after_held(
        pipelined, _send_key(scope, "a"), [_send_key(scope, "b"), failing]
    )

    assert first == "a"
    assert later[0] == "b"
    assert isinstance(later[1], ValueError)
    assert await _keys(pipelined, scope) == ["a", "b"]


async def test_overlap_connection_loss_fails_first(pipelined: Database) -> None:
    scope = "overlap-lost"
    url = pipelined.url  # type: ignore[attr-defined]
    backend: list[int] = []
    killed: list[int] = []

    def first_work(tx: Tx) -> str:
        backend.append(tx.value("SELECT pg_backend_pid()"))
        return _send_key(scope, "a")(tx)

    def terminate(tx: Tx) -> str:
        # Ends the writer's backend once, after the first group's COMMIT
        # went out and before the writer read its result.
        if not killed:
            with psycopg.connect(url, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s, 5000)", (backend[-1],))
            killed.append(backend[-1])
        return _send_key(scope, "b")(tx)

    first, later = await _after_held(pipelined, first_work, [terminate, _send_key(scope, "c")])

    # The COMMIT may have committed before the backend ended, so its work
    # fails as unknown, and the later group runs again on a new connection.
    assert isinstance(first, ServiceUnavailable)
    assert later == ["b", "c"]
    assert killed
    stored = await _keys(pipelined, scope)
    assert stored[-2:] == ["b", "c"]
    assert set(stored) <= {"a", "b", "c"}
