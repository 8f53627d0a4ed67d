"""The scaled engine: PostgreSQL through psycopg.

Writes go through one writer connection per process with group commit, so
requests that touch the same conversation share a transaction and a disk
flush instead of queueing on its row lock one flush at a time. Reads use a
pool of connections on worker threads.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.rows import dict_row

from ..errors import ServiceUnavailable
from ..outage_log import OutageLog
from .database import Database, Work
from .tx import Dialect, Tx
from .writer import GroupWriter

log = logging.getLogger(__name__)

# The log message, and outage key, of reads that fail while PostgreSQL is down.
_UNAVAILABLE = "postgresql unavailable"

T = TypeVar("T")

CONNECT_OPTIONS: dict[str, Any] = {
    "row_factory": dict_row,
    "connect_timeout": 3,
    "options": "-c statement_timeout=15000",
}


class _PostgresWriteConnection:
    dialect: Dialect = "postgresql"

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self._url, autocommit=True, **CONNECT_OPTIONS)
        return self._conn

    def cursor(self) -> Any:
        return self._connection().cursor()

    def begin(self, cursor: Any, queued_at: float) -> None:
        cursor.execute("BEGIN")

    def commit(self, cursor: Any, queued_at: float) -> None:
        cursor.execute("COMMIT")

    def rollback(self, cursor: Any) -> None:
        if self._conn is not None and not self._conn.closed:
            cursor.execute("ROLLBACK")

    @contextmanager
    def pipeline(self) -> Iterator[Callable[[], None]]:
        # Pipeline mode sends a statement without waiting for its result
        # (``Tx.send``) and waits only when a result is read.
        with self._connection().pipeline() as pipeline:
            yield pipeline.sync

    def is_retryable(self, error: BaseException) -> bool:
        return isinstance(error, (pg_errors.SerializationFailure, pg_errors.DeadlockDetected))

    def is_statement_error(self, error: BaseException) -> bool:
        return isinstance(error, psycopg.Error) and not self.is_connection_error(error)

    def is_connection_error(self, error: BaseException) -> bool:
        # A statement skipped after another failed in the same pipeline is an
        # OperationalError too, but the connection is fine.
        if isinstance(error, pg_errors.PipelineAborted):
            return self._conn is not None and self._conn.closed
        return isinstance(error, psycopg.OperationalError) or (
            self._conn is not None and self._conn.closed
        )

    def reconnect(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


class _ReaderPool:
    """Reader connections, opened on demand and dropped as soon as one breaks.

    A pool that reconnects in the background with growing delays kept the
    API failing for over ten seconds after PostgreSQL came back; opening a
    replacement at the moment of need recovers on the first request.
    """

    def __init__(self, url: str, size: int) -> None:
        self._url = url
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        if not self._slots.acquire(timeout=5):
            raise ServiceUnavailable(
                "every database connection is busy; retry the request shortly",
                headers={"Retry-After": "1"},
            )
        conn = None
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = psycopg.connect(self._url, **CONNECT_OPTIONS)
            yield conn
        except BaseException:
            if conn is not None:
                conn.close()
                conn = None
            raise
        finally:
            if conn is not None:
                if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
                    with self._lock:
                        self._idle.append(conn)
                else:
                    conn.close()
            self._slots.release()

    def close(self) -> None:
        with self._lock:
            for conn in self._idle:
                conn.close()
            self._idle.clear()


class PostgresDatabase(Database):
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 16) -> None:
        self.url = url
        self._pool = _ReaderPool(url, pool_size)
        self._executor = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="pg-read")
        self._writer = GroupWriter(_PostgresWriteConnection(url), name="pg-write")
        # Failed reads during an outage, so each read does not log a line.
        self._read_outages = OutageLog(log)

    async def write(self, work: Work[T], *, order_key: str | None = None) -> T:
        return await self._writer.run(work, order_key)

    def write_sync(self, work: Work[T]) -> T:
        return self._writer.run_sync(work)

    def read_sync(self, work: Work[T]) -> T:
        return self._read_sync(work, snapshot=True)

    def _read_sync(self, work: Work[T], *, snapshot: bool) -> T:
        """Run ``work`` on a reader connection, in one transaction when ``snapshot``.

        Without a snapshot each statement commits alone, which saves the
        BEGIN and COMMIT round trips of a single keyed read.
        """
        for attempt in range(2):
            try:
                with self._pool.connection() as conn:
                    if not snapshot:
                        conn.autocommit = True
                        try:
                            result = work(Tx(conn.cursor(), "postgresql"))
                        finally:
                            conn.autocommit = False
                    else:
                        with conn.transaction():
                            result = work(Tx(conn.cursor(), "postgresql"))
            except psycopg.OperationalError as error:
                if attempt == 0:
                    continue
                self._read_outages.failure(
                    _UNAVAILABLE, _UNAVAILABLE, extra={"error": str(error)[:200]}
                )
                raise ServiceUnavailable(
                    "the database is unavailable; retry the request shortly",
                    headers={"Retry-After": "1"},
                ) from None
            self._read_outages.recovery(_UNAVAILABLE, "postgresql available again")
            return result
        raise AssertionError("unreachable")

    async def read(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.read_sync, work)

    async def lookup(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, lambda: self._read_sync(work, snapshot=False)
        )

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._writer.close)
        self._pool.close()
        self._executor.shutdown(wait=False)

    def __repr__(self) -> str:
        return "PostgresDatabase(...)"
