"""Which sent statements join one merged PostgreSQL statement."""

from __future__ import annotations

from campfire_server.db.batch import MAX_MERGED, StatementBatch, shape_of

_UPDATE = "UPDATE facts SET n = n + 1 WHERE id = :id"
_INSERT = "INSERT INTO log (id, note) VALUES (:id, :note)"
_READ_FACTS = "INSERT INTO log (id, note) SELECT id, 'x' FROM facts WHERE id = :id"


def _add(batch: StatementBatch, sql: str, row_key: str | None) -> bool:
    shape = shape_of(sql)
    accepted = batch.accepts(shape, row_key)
    if accepted:
        batch.add(sql, {}, shape, "none", None, row_key)
    return accepted


def test_batch_keyed_rows_of_one_table_merge() -> None:
    batch = StatementBatch()

    assert _add(batch, _UPDATE, "a")
    assert _add(batch, _INSERT, "log-1")
    assert _add(batch, _UPDATE, "b")
    assert _add(batch, _INSERT, "log-2")


def test_batch_same_row_key_cuts_run() -> None:
    batch = StatementBatch()
    _add(batch, _UPDATE, "a")

    assert not _add(batch, _UPDATE, "a")


def test_batch_unkeyed_write_excludes_keyed() -> None:
    batch = StatementBatch()
    _add(batch, _UPDATE, None)

    assert not _add(batch, _UPDATE, "b")


def test_batch_keyed_write_excludes_unkeyed() -> None:
    batch = StatementBatch()
    _add(batch, _UPDATE, "a")

    assert not _add(batch, _UPDATE, None)
    # A statement that reads a table the run wrote never joins, keyed or not.
    assert not _add(batch, _READ_FACTS, "log-3")


def test_batch_run_length_is_bounded() -> None:
    batch = StatementBatch()
    for number in range(MAX_MERGED):
        assert _add(batch, _INSERT, f"log-{number}")

    assert not _add(batch, _INSERT, "one-more")
    assert len(batch.take()) == MAX_MERGED
    assert _add(batch, _INSERT, "one-more")
