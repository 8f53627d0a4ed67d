"""The transaction handle that domain code writes its SQL against."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Dialect = Literal["sqlite", "postgresql"]

_NAMED_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_pyformat_cache: dict[str, str] = {}


def to_pyformat(sql: str) -> str:
    """Rewrite ``:name`` parameters as psycopg's ``%(name)s`` and escape literal ``%``."""
    converted = _pyformat_cache.get(sql)
    if converted is None:
        converted = _NAMED_PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))
        _pyformat_cache[sql] = converted
    return converted


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

    __slots__ = ("_cursor", "_flush", "_count", "_value", "_ready")

    def __init__(self, cursor: Any, flush: Callable[[], None] | None, *, count: bool) -> None:
        self._cursor = cursor
        self._flush = flush
        self._count = count
        self._value: Any = None
        self._ready = False
        if flush is None:
            self.get()

    def get(self) -> Any:
        if not self._ready:
            if self._count:
                if self._flush is not None and self._cursor.pgresult is None:
                    self._flush()
                self._value = self._cursor.rowcount
            else:
                row = self._cursor.fetchone()
                self._value = None if row is None else next(iter(dict(row).values()))
            self._ready = True
            self._cursor = None
        return self._value


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

    @property
    def for_update(self) -> str:
        return " FOR UPDATE" if self.dialect == "postgresql" else ""

    @property
    def skip_locked(self) -> str:
        return " FOR UPDATE SKIP LOCKED" if self.dialect == "postgresql" else ""

    def _run(self, sql: str, params: Mapping[str, Any]) -> Any:
        if self.dialect == "postgresql":
            return self._cursor.execute(to_pyformat(sql), params)
        return self._cursor.execute(sql, params)

    def execute(self, sql: str, **params: Any) -> int:
        """Run a statement and return the number of rows it changed."""
        self._run(sql, params)
        if self._flush is not None:
            self._flush()
        return self._cursor.rowcount

    def send(self, sql: str, **params: Any) -> None:
        """Run a statement whose row count the work does not read.

        In a pipelined write (PostgreSQL's writer) the statement travels with
        the next one whose result is read, so it costs no round trip of its
        own. Its error, if any, is raised there or at commit, and the writer
        then reruns the group with a savepoint per work to find the culprit.
        """
        self._run(sql, params)

    def send_returning(self, sql: str, **params: Any) -> Deferred:
        """Send a statement whose returned value the work reads only after commit.

        In a pipelined write the statement runs on a cursor of its own, so
        later statements leave its result in place, and it costs no round
        trip. Elsewhere it runs and is read at once.
        """
        return self._defer(sql, params, count=False)

    def send_counted(self, sql: str, **params: Any) -> Deferred:
        """Send a statement whose row count the work reads in a ``before_commit`` callback."""
        return self._defer(sql, params, count=True)

    def _defer(self, sql: str, params: Mapping[str, Any], *, count: bool) -> Deferred:
        deferred = Deferred(self._deferred_cursor(sql, params), self._flush, count=count)
        if self._flush is not None:
            self._deferred.append(deferred)
        return deferred

    def _deferred_cursor(self, sql: str, params: Mapping[str, Any]) -> Any:
        if self._flush is None:
            self._run(sql, params)
            return self._cursor
        cursor = self._cursor.connection.cursor()
        cursor.execute(to_pyformat(sql), params)
        return cursor

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
            callbacks, self._before_commit = self._before_commit, []
            for callback in callbacks:
                callback()

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
