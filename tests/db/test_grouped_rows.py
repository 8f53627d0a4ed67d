"""Rows that the works of a write group send for one statement go out together."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from typing import Any

import pytest

from campfire_server.db.database import Database
from campfire_server.db.tx import Tx

_INSERT = (
    "WITH input AS (SELECT * FROM unnest(CAST(:keys AS TEXT[])) WITH ORDINALITY "
    "AS input (key, item)), "
    "inserted AS (INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
    "SELECT :scope, key, 'h', 0 FROM input RETURNING key) "
    "SELECT input.item, inserted.key FROM input JOIN inserted ON inserted.key = input.key"
)


class _RecordingMerge:
    """Build the insert for a list of rows and record how many rows each statement took."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def __call__(self, rows: list[Mapping[str, Any]]) -> tuple[str, dict[str, Any]]:
        self.sizes.append(len(rows))
        return _INSERT, {"scope": rows[0]["scope"], "keys": [row["key"] for row in rows]}


def _sender(merge: _RecordingMerge, scope: str, key: str, row_key: str | None = None):  # type: ignore[no-untyped-def]
    def work(tx: Tx) -> Any:
        row = tx.send_grouped(merge, merge_key=scope, row_key=row_key or key, scope=scope, key=key)
        result: dict[str, Any] = {}
        tx.before_commit(lambda: result.update(row=row.get()))
        return result

    return work


async def _one_group(db: Database, works: list) -> list:  # type: ignore[type-arg]
    """Run ``works`` behind a work that keeps the writer busy, so they form one group."""
    release = threading.Event()
    holding = threading.Event()

    def hold(tx: Tx) -> None:
        holding.set()
        release.wait(5)

    first = asyncio.ensure_future(db.write(hold))
    await asyncio.get_running_loop().run_in_executor(None, holding.wait, 5)
    queued = [asyncio.ensure_future(db.write(work)) for work in works]
    await asyncio.sleep(0.05)
    release.set()
    await first
    return await asyncio.gather(*queued, return_exceptions=True)


async def _stored(db: Database, scope: str) -> list[str]:
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT key FROM idempotency_keys WHERE scope = :scope ORDER BY key", scope=scope
        )
    )
    return [row["key"] for row in rows]


@pytest.fixture
def pipelined(db: Database) -> Database:
    if db.dialect != "postgresql":
        pytest.skip("only PostgreSQL's writer sends statements without waiting")
    return db


async def test_grouped_rows_share_statement(pipelined: Database) -> None:
    merge = _RecordingMerge()
    scope = "grouped-share"

    results = await _one_group(
        pipelined, [_sender(merge, scope, key) for key in ("a", "b", "c", "d")]
    )

    assert merge.sizes == [4]
    assert [result["row"] for result in results] == [{"key": key} for key in "abcd"]
    assert await _stored(pipelined, scope) == ["a", "b", "c", "d"]


async def test_grouped_rows_split_repeated_key(pipelined: Database) -> None:
    merge = _RecordingMerge()
    scope = "grouped-repeat"

    results = await _one_group(
        pipelined,
        [
            _sender(merge, scope, "a", row_key="same"),
            _sender(merge, scope, "b"),
            _sender(merge, scope, "c", row_key="same"),
        ],
    )

    assert merge.sizes == [2, 1]
    assert [result["row"] for result in results] == [{"key": key} for key in "abc"]
    assert await _stored(pipelined, scope) == ["a", "b", "c"]


async def test_grouped_rows_follow_earlier_statement(pipelined: Database) -> None:
    """A statement that a later work runs sees the rows that earlier works grouped."""
    merge = _RecordingMerge()
    scope = "grouped-order"

    def count(tx: Tx) -> int:
        return tx.value(
            "SELECT count(*) AS stored FROM idempotency_keys WHERE scope = :scope", scope=scope
        )

    results = await _one_group(
        pipelined,
        [_sender(merge, scope, "a"), _sender(merge, scope, "b"), count, _sender(merge, scope, "c")],
    )

    assert merge.sizes == [2, 1]
    assert results[2] == 2
    assert await _stored(pipelined, scope) == ["a", "b", "c"]


async def test_grouped_row_failure_fails_alone(pipelined: Database) -> None:
    merge = _RecordingMerge()
    scope = "grouped-failure"
    await pipelined.write(_sender(merge, scope, "taken"))

    results = await _one_group(
        pipelined,
        [_sender(merge, scope, "a"), _sender(merge, scope, "taken"), _sender(merge, scope, "b")],
    )

    assert results[0] == {"row": {"key": "a"}}
    assert "duplicate key" in str(results[1])
    assert results[2] == {"row": {"key": "b"}}
    assert await _stored(pipelined, scope) == ["a", "b", "taken"]


async def test_grouped_rows_keep_text_exactly(pipelined: Database) -> None:
    """Array elements keep quotes, backslashes, braces, commas and non-ASCII text."""
    merge = _RecordingMerge()
    scope = "grouped-text"
    keys = ['quote " here', "back\\slash", "{braces}, commas", "NULL", "ünïcode ✓", ""]

    results = await _one_group(pipelined, [_sender(merge, scope, key) for key in keys])

    assert merge.sizes == [len(keys)]
    assert [result["row"] for result in results] == [{"key": key} for key in keys]
    assert sorted(await _stored(pipelined, scope)) == sorted(keys)
