"""The embedded engine: SQLite in WAL mode, one writer thread and a few readers."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from .database import Database, Work
from .sqlite_checkpoint import WRITER_AUTOCHECKPOINT_PAGES, WalCheckpointer
from .tx import Dialect, Tx
from .writer import GroupWriter

log = logging.getLogger(__name__)

T = TypeVar("T")


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
    dialect: Dialect = "sqlite"

    def __init__(self, path: str, busy_timeout_ms: int) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._conn = self._connect()
        self.checkpointer = WalCheckpointer(connect(path, busy_timeout_ms))

    def _connect(self) -> sqlite3.Connection:
        conn = connect(self._path, self._busy_timeout_ms)
        # The checkpoint thread copies the WAL into the database, and this
        # bound applies when it falls behind.
        conn.execute(f"PRAGMA wal_autocheckpoint = {WRITER_AUTOCHECKPOINT_PAGES}")
        return conn

    def cursor(self) -> sqlite3.Cursor:
        return self._conn.cursor()

    def _retry_busy(self, cursor: sqlite3.Cursor, statement: str) -> None:
        # Another process may hold the write lock beyond busy_timeout; wait on
        # it a few more times before telling clients to retry.
        for attempt in range(4):
            try:
                cursor.execute(statement)
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or attempt == 3:
                    raise
                log.warning("sqlite write lock busy, retrying", extra={"attempt": attempt + 1})
                time.sleep(0.05 * (attempt + 1))

    def begin(self, cursor: sqlite3.Cursor) -> None:
        self._retry_busy(cursor, "BEGIN IMMEDIATE")

    def commit(self, cursor: sqlite3.Cursor) -> None:
        self._retry_busy(cursor, "COMMIT")
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

    async def write(self, work: Work[T]) -> T:
        return await self._writer.run(work)

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



