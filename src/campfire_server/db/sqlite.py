"""The embedded engine: SQLite in WAL mode, one writer thread and a few readers."""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from ..errors import ServiceUnavailable
from .database import Database, Work
from .sqlite_checkpoint import WRITER_AUTOCHECKPOINT_PAGES, WalCheckpointer
from .tx import Dialect, Tx
from .writer import GroupWriter

log = logging.getLogger(__name__)

T = TypeVar("T")

# The step in which the writer's busy_timeout follows the budget left, so
# that it changes the setting rarely, not before every group.
BUDGET_STEP_MS = 50


def sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise ValueError(f"invalid SQLite URL {url!r}; expected sqlite:///path/to/file.db")
    path = url[len("sqlite:///") :]
    if path in ("", ":memory:"):
        raise ValueError(
            "an in-memory SQLite database cannot be shared by the writer and reader "
            "connections; give a file path such as sqlite:///campfire.db"
        )
    return path


def _is_busy(error: BaseException) -> bool:
    text = str(error).lower()
    return isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text)


def connect(path: str, busy_timeout_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    conn.execute("PRAGMA journal_mode = WAL")
    # NORMAL keeps every commit across a process crash; only an operating
    # system crash or power loss can lose the last transactions.
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class _SqliteWriteConnection:
    """The writer's connection, which waits for another process's write lock within a budget.

    A request waits at most ``busy_timeout_ms`` in all for the write lock,
    counted from when its work was queued: the time it spent queued behind
    a group that was itself waiting for the lock counts too. A group's
    ``BEGIN IMMEDIATE`` therefore waits only for what is left of its oldest
    work's budget, and a lock still held then is a 503 that names it.
    """

    dialect: Dialect = "sqlite"

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        # The busy_timeout that the connection has now, changed only when the
        # budget left moves to another step of BUDGET_STEP_MS.
        self._current_timeout_ms = busy_timeout_ms
        self._conn = self._connect()
        self.checkpointer = WalCheckpointer(connect(path, busy_timeout_ms))

    def _connect(self) -> sqlite3.Connection:
        conn = connect(self._path, self._busy_timeout_ms)
        self._current_timeout_ms = self._busy_timeout_ms
        # The checkpoint thread copies the WAL into the database, and this
        # bound applies when it falls behind.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}")
        return conn

    def cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def _wait_at_most(self, cursor: sqlite3.Cursor, queued_at: float) -> None:
        """Let SQLite wait for a lock only for the budget left since ``queued_at``."""
        waited_ms = (time.monotonic() - queued_at) * 1000
        left_ms = max(0, int(self._busy_timeout_ms - waited_ms))
        left_ms -= left_ms % BUDGET_STEP_MS
        if left_ms != self._current_timeout_ms:
            cursor.execute(f"PRAGMA busy_timeout = {left_ms}")
            self._current_timeout_ms = left_ms

    def _execute_in_budget(self, cursor: sqlite3.Cursor, statement: str, queued_at: float) -> None:
        self._wait_at_most(cursor, queued_at)
        try:
            cursor.execute(statement)
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
            waited_ms = round((time.monotonic() - queued_at) * 1000)
            log.warning(
                "sqlite write lock held by another process",
                extra={"statement": statement, "waited_ms": waited_ms},
            )
            raise ServiceUnavailable(
                "the SQLite database is locked by another process, which held its write "
                f"lock for longer than CAMPFIRE_SQLITE_BUSY_TIMEOUT_MS ({self._busy_timeout_ms} "
                "ms); retry the request after Retry-After seconds, or stop the other process's "
                "long write",
                details={"waitedMs": waited_ms, "busyTimeoutMs": self._busy_timeout_ms},
                headers={"Retry-After": str(max(1, math.ceil(self._busy_timeout_ms / 1000)))},
            ) from None

    def begin(self, cursor: sqlite3.Cursor, queued_at: float) -> None:
        self._execute_in_budget(cursor, "BEGIN IMMEDIATE", queued_at)

    def commit(self, cursor: sqlite3.Cursor, queued_at: float) -> None:
        self._execute_in_budget(cursor, "COMMIT", queued_at)
        self.checkpointer.notify()

    def rollback(self, cursor: sqlite3.Cursor) -> None:
        if self._conn.in_transaction:
            cursor.execute("ROLLBACK")

    @contextmanager
    def pipeline(self) -> Iterator[None]:
        # Each statement runs at once; there is no round trip to save.
        yield None

    def is_retryable(self, error: BaseException) -> bool:
        return False

    def is_statement_error(self, error: BaseException) -> bool:
        return False

    def is_connection_error(self, error: BaseException) -> bool:
        return False

    def reconnect(self) -> None:
        self._conn.close()
        self._conn = self._connect()

    def close(self) -> None:
        self.checkpointer.stop()
        self._conn.close()


class SqliteDatabase(Database):
    dialect: Dialect = "sqlite"

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000, readers: int = 4) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self._busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sqlite-read")
        self._write_connection = _SqliteWriteConnection(self.path, busy_timeout_ms)
        self._writer = GroupWriter(self._write_connection, name="sqlite-write")

    async def write(self, work: Work[T], *, order_key: str | None = None) -> T:
        return await self._writer.run(work, order_key)

    def write_sync(self, work: Work[T]) -> T:
        return self._writer.run_sync(work)

    def _reader_conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, self._busy_timeout_ms)
            self._local.conn = conn
        return conn

    def read_sync(self, work: Work[T]) -> T:
        cursor = self._reader_conn().cursor()
        cursor.execute("BEGIN")
        try:
            return work(Tx(cursor, "sqlite"))
        finally:
            cursor.execute("COMMIT")

    async def read(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, work)

    async def lookup(self, work: Work[T]) -> T:
        # In WAL mode a reader does not wait for the writer, and a keyed read
        # typically takes tens of microseconds, less than the hop to a reader
        # thread.
        return self.read_sync(work)

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._writer.close)
        self._readers.shutdown(wait=True)

    def __repr__(self) -> str:
        return f"SqliteDatabase({self.path!r})"
