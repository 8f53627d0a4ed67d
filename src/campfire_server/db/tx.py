"""The transaction handle that domain code writes its SQL against."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from psycopg import RawCursor

from .batch import BatchResult, Reading, StatementBatch, can_merge, merged_statement, shape_of
from .grouped import MergeRows, RowGroup
from .parameters import to_pyformat

Dialect = Literal["sqlite", "postgresql"]


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A log call held back until its transaction commits."""

    emit: Callable[..., None]
    message: str
    kwargs: dict[str, Any]
    when: Literal["committed", "failed"]

    def write(self) -> None:
        self.emit(self.message, **self.kwargs)


class Deferred:
    """The result of a statement sent without waiting for it.

    ``get`` returns the first column of the first row, or the row count for a
    statement sent with ``Tx.send_counted``. In a pipelined write the result
    arrives with the next statement whose result is read, or at commit, so
    calling ``get`` before then costs a round trip of its own.
    """

    __slots__ = ("_tx", "_read", "_value", "_ready")

    def __init__(self, tx: Tx) -> None:
        self._tx: Tx | None = tx
        self._read: Callable[[], Any] | None = None
        self._value: Any = None
        self._ready = False

    def bind(self, read: Callable[[], Any]) -> None:
        """Set the function that reads the result, once the statement has been sent."""
        self._read = read

    def settle(self, value: Any) -> None:
        self._value = value
        self._ready = True
        self._tx = None

    def get(self) -> Any:
        if not self._ready:
            if self._read is None and self._tx is not None:
                # The statement still waits in its transaction's batch.
                self._tx.send_batch()
            assert self._read is not None
            self.settle(self._read())
            self._read = None
        return self._value


def _first_column(row: Any) -> Any:
    return None if row is None else next(iter(dict(row).values()))


def _dict_or_none(row: Any) -> dict[str, Any] | None:
    return None if row is None else dict(row)


class Tx:
    """One open transaction on either engine.

    SQL uses ``:name`` parameters and the subset of SQL that SQLite 3.35+ and
    PostgreSQL 13+ share (``RETURNING``, ``ON CONFLICT``, window functions).
    ``for_update`` and ``skip_locked`` are empty on SQLite, whose single
    writer already serialises every write transaction.
    """

    def __init__(
        self,
        cursor: Any,
        dialect: Dialect,
        flush: Callable[[], None] | None = None,
        *,
        defer_logs: bool = False,
    ) -> None:
        self._cursor = cursor
        self.dialect: Dialect = dialect
        self._flush = flush
        self._after_commit: list[Callable[[], Any]] = []
        self._defer_logs = defer_logs
        self._logs: list[LogEntry] = []
        self._before_commit: list[Callable[[], None]] = []
        self._deferred: list[Deferred] = []
        # Only a pipelined write merges sent statements and groups rows.
        self._batch = StatementBatch() if flush is not None else None
        self._rows = RowGroup() if flush is not None else None

    @property
    def pipelined(self) -> bool:
        """Whether sent statements wait for the next read (PostgreSQL's writer) or run at once."""
        return self._flush is not None

    @property
    def for_update(self) -> str:
        return " FOR UPDATE" if self.dialect == "postgresql" else ""

    @property
    def skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""

    def _run(self, sql: str, params: Mapping[str, Any]) -> Any:
        if self.dialect == "postgresql":
            if self._batch or self._rows:
                self.send_batch()
            return self._cursor.execute(to_pyformat(sql), params)
        return self._cursor.execute(sql, params)

    def execute(self, sql: str, **params: Any) -> int:
        """Run a statement and return the number of rows it changed."""
        self._run(sql, params)
        if self._flush is not None:
            self._flush()
        return self._cursor.rowcount

    def send(self, sql: str, *, row_key: str | None = None, **params: Any) -> None:
        """Run a statement whose row count the work does not read.

        In a pipelined write (PostgreSQL's writer) the statement travels with
        the next one whose result is read, so it costs no round trip of its
        own, and joins the other statements sent since then in one merged
        statement where it can (``db/batch.py``). Its error, if any, is
        raised there or at commit, and the writer then reruns the group with
        a savepoint per work to find the culprit.

        ``row_key`` promises that the statement reads and writes only the
        rows of its target table that the key names (a primary key, say),
        and lets it join a merged statement that wrote other rows of that
        table. ``row_key`` is therefore not a name for an SQL parameter.
        """
        if self._flush is None:
            self._run(sql, params)
        else:
            self._queue(sql, params, "none", None, row_key)

    def send_returning(self, sql: str, **params: Any) -> Deferred:
        """Send a statement whose returned value the work reads only after commit.

        In a pipelined write the statement costs no round trip, and its
        result stays readable whatever runs after it. Elsewhere it runs and
        is read at once.
        """
        return self._defer(sql, params, "value")

    def send_counted(self, sql: str, *, row_key: str | None = None, **params: Any) -> Deferred:
        """Send a statement whose row count the work reads in a ``before_commit`` callback.

        ``row_key`` is as for ``send``.
        """
        return self._defer(sql, params, "count", row_key)

    def send_row(self, sql: str, **params: Any) -> Deferred:
        """Send a statement whose first row, a dict or ``None``, a ``before_commit`` callback reads.

        Elsewhere than in a pipelined write it runs and is read at once.
        """
        return self._defer(sql, params, "row")

    def _defer(
        self,
        sql: str,
        params: Mapping[str, Any],
        reading: Reading,
        row_key: str | None = None,
    ) -> Deferred:
        deferred = Deferred(self)
        if self._flush is None:
            self._run(sql, params)
            if reading == "count":
                deferred.settle(self._cursor.rowcount)
            elif reading == "row":
                deferred.settle(_dict_or_none(self._cursor.fetchone()))
            else:
                deferred.settle(_first_column(self._cursor.fetchone()))
            return deferred

        self._deferred.append(deferred)
        self._queue(sql, params, reading, deferred, row_key)
        return deferred

    def _queue(
        self,
        sql: str,
        params: Mapping[str, Any],
        reading: Reading,
        deferred: Deferred | None,
        row_key: str | None = None,
    ) -> None:
        if self._rows:
            self._rows.send(self._cursor.connection)
        shape = shape_of(sql)
        if not can_merge(shape, reading):
            self.send_batch()
            self._send_alone(sql, params, reading, deferred)
            return
        assert self._batch is not None
        if not self._batch.accepts(shape, row_key):
            self.send_batch()
        self._batch.add(sql, params, shape, reading, deferred, row_key)

    def send_grouped(
        self, merge: MergeRows, *, merge_key: Hashable, row_key: Hashable, **params: Any
    ) -> Deferred:
        """Send one row for a statement that ``merge`` builds for many rows (``db/grouped.py``).

        In a pipelined write the row waits for the rows that the next works
        of the group send for the same ``merge`` and ``merge_key``, and they go out
        as one statement, before any other statement. ``row_key`` promises
        that the row reads and writes only what the key names, and a row
        whose key is already queued starts a new statement. The result is
        the row's result row, a dict or ``None``, which a ``before_commit``
        callback reads. Elsewhere the statement runs for this row at once.
        """
        deferred = Deferred(self)
        if self._rows is None:
            sql, merged = merge([params])
            self._run(sql, merged)
            row = _dict_or_none(self._cursor.fetchone())
            if row is not None:
                row.pop("item")
            deferred.settle(row)
            return deferred

        if self._batch:
            self.send_batch()
        if not self._rows.accepts(merge, merge_key, row_key):
            self._rows.send(self._cursor.connection)
        self._rows.add(merge, merge_key, row_key, params, deferred)
        self._deferred.append(deferred)
        return deferred

    def share_rows(self, rows: RowGroup) -> None:
        """Queue this transaction's grouped rows in ``rows``, which other works' handles share.

        The writer shares one ``RowGroup`` among the works of a group, so
        the rows that consecutive works send go out as one statement. Only
        a pipelined write groups rows, so elsewhere this does nothing.
        """
        if self._rows is not None and self._rows is not rows:
            assert not self._rows, "rows still wait in the group being replaced"
            self._rows = rows

    def share_batch(self, batch: StatementBatch) -> None:
        """Queue this transaction's sent statements in ``batch``, which other works' handles share.

        The writer shares one batch among the works of a group while it runs
        their ``before_commit`` callbacks, so the statements of many works
        can go out as one merged statement. Only a pipelined write has a
        batch; elsewhere this does nothing.
        """
        if self._batch is not None and self._batch is not batch:
            assert not self._batch, "statements still wait in the batch being replaced"
            self._batch = batch

    def send_batch(self, *, rows: bool = True) -> None:
        """Send the statements queued for merging, as one statement when there are several.

        The writer calls it when a work or a ``before_commit`` callback
        returns; a statement whose result is read calls it first. Without
        ``rows`` the grouped rows stay queued for the next works' rows to
        join (``send_grouped``). Any other statement sent since a grouped
        row was queued has sent that row first, so this keeps their order.
        """
        if rows and self._rows:
            self._rows.send(self._cursor.connection)
        if not self._batch:
            return
        pending = self._batch.take()
        if len(pending) == 1:
            item = pending[0]
            self._send_alone(item.sql, item.params, item.reading, item.deferred)
            return

        sql, params = merged_statement(pending)
        cursor = RawCursor(self._cursor.connection)
        cursor.execute(sql, params)
        if all(item.deferred is None for item in pending):
            return
        result = BatchResult(cursor)
        for index, item in enumerate(pending):
            if item.deferred is not None:
                item.deferred.bind(partial(result.column, f"r{index}"))

    def _send_alone(
        self, sql: str, params: Mapping[str, Any], reading: Reading, deferred: Deferred | None
    ) -> None:
        if deferred is None:
            self._cursor.execute(to_pyformat(sql), params)
            return

        # A cursor of its own keeps the result in place while later
        # statements run on the shared one.
        cursor = self._cursor.connection.cursor()
        cursor.execute(to_pyformat(sql), params)
        if reading == "count":
            flush = self._flush

            def read_count() -> int:
                if cursor.pgresult is None and flush is not None:
                    flush()
                return cursor.rowcount

            deferred.bind(read_count)
        elif reading == "row":
            deferred.bind(lambda: _dict_or_none(cursor.fetchone()))
        else:
            deferred.bind(lambda: _first_column(cursor.fetchone()))

    def before_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` in this transaction once the results sent so far have arrived.

        A pipelined write (PostgreSQL's writer) runs it after the last work of
        its group, or at the end of the work when the group reruns with a
        savepoint per work. It may run statements of its own. Elsewhere it
        runs at once. An error it raises fails the work that registered it.
        """
        if self._flush is None:
            callback()
        else:
            self._before_commit.append(callback)

    def has_before_commit(self) -> bool:
        return bool(self._before_commit)

    def run_before_commit(self) -> None:
        """Run the ``before_commit`` callbacks, including any that they register."""
        while self._before_commit:
            self.run_before_commit_round()

    def run_before_commit_round(self, *, send: bool = True) -> None:
        """Run the ``before_commit`` callbacks registered so far, but not those they register.

        The writer runs the callbacks of a whole group round by round, with
        one sync before each round, so a callback that reads what an earlier
        callback sent costs the group one round trip rather than one per work.
        Without ``send`` the statements that the callbacks sent stay in the
        batch, for the writer to send with those of the group's other works.
        """
        callbacks, self._before_commit = self._before_commit, []
        for callback in callbacks:
            callback()
        if send:
            self.send_batch()

    def read_deferred(self) -> None:
        """Read every deferred result, once the writer has received them all.

        The writer calls it after commit, so after-commit callbacks find plain
        values and never touch the connection from another thread.
        """
        for deferred in self._deferred:
            deferred.get()
        self._deferred.clear()

    def one(self, sql: str, **params: Any) -> dict[str, Any] | None:
        self._run(sql, params)
        row = self._cursor.fetchone()
        return None if row is None else dict(row)

    def all(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        self._run(sql, params)
        return [dict(row) for row in self._cursor.fetchall()]

    def value(self, sql: str, **params: Any) -> Any:
        self._run(sql, params)
        row = self._cursor.fetchone()
        if row is None:
            return None
        return next(iter(dict(row).values()))

    def after_commit(self, callback: Callable[[], Any]) -> None:
        """Run ``callback`` on the event loop once this transaction has committed.

        The callback may return a coroutine, which is then scheduled as a task.
        It never runs when the transaction rolls back.
        """
        self._after_commit.append(callback)

    def take_after_commit(self) -> list[Callable[[], Any]]:
        callbacks, self._after_commit = self._after_commit, []
        return callbacks

    def log(
        self,
        emit: Callable[..., None],
        message: str,
        *,
        when: Literal["committed", "failed"] = "committed",
        **kwargs: Any,
    ) -> None:
        """Log once what this work did: ``tx.log(log.info, "agent created", extra=...)``.

        A write group reruns its works after a failure and undoes a mock
        write, so a line logged directly inside a work could repeat or
        describe a change that never happened. In a write the writer emits
        the line once it has settled the work: after the commit, or with
        ``when="failed"`` after the work's final failure. In a read it is
        emitted at once.
        """
        if self._defer_logs:
            self._logs.append(LogEntry(emit, message, kwargs, when))
        else:
            emit(message, **kwargs)

    def take_logs(self, outcome: Literal["committed", "failed"]) -> list[LogEntry]:
        """Return and clear the lines logged for ``outcome``; the others are dropped."""
        entries, self._logs = self._logs, []
        return [entry for entry in entries if entry.when == outcome]
