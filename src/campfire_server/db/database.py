"""The two storage engines behind one interface.

Domain code hands a synchronous function of a ``Tx`` to ``Database.write`` or
``Database.read``; the engine runs it inside one transaction on a worker
thread. That costs one thread hop per request instead of one per statement,
which is what kept SQLAlchemy's async layer several times slower than the
drivers on the request hot paths (see DESIGN.md).

* SQLite: one writer thread owns the only write connection and commits
  queued work in groups, each work inside its own savepoint, so one failing
  request rolls back alone. Readers use their own connections in WAL mode.
* PostgreSQL: a psycopg connection pool, one connection per worker thread.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .. import mock
from ..errors import ServiceUnavailable
from .tx import Dialect, Tx

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[Tx], T]

_MAX_GROUP = 64


def _run_callbacks(callbacks: list[Callable[[], Any]]) -> None:
    for callback in callbacks:
        try:
            result = callback()
            if inspect.isawaitable(result):
                asyncio.ensure_future(result)
        except Exception:
            log.exception("after-commit callback failed")


class Database:
    """A transactional store shared by every request of a process.

    In mock mode (see ``campfire_server.mock``) ``write`` runs the work and
    returns its result, then rolls the transaction back and drops its
    after-commit callbacks.
    """

    dialect: Dialect
    url: str

    async def write(self, work: Work[T]) -> T:
        raise NotImplementedError

    async def read(self, work: Work[T]) -> T:
        raise NotImplementedError

    def write_sync(self, work: Work[T]) -> T:
        """Run ``work`` in a write transaction from a thread without an event loop."""
        raise NotImplementedError

    def read_sync(self, work: Work[T]) -> T:
        raise NotImplementedError

    async def ping(self) -> None:
        await self.read(lambda tx: tx.value("SELECT 1 AS ok"))

    async def close(self) -> None:
        raise NotImplementedError


# --- SQLite -----------------------------------------------------------------


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


def _is_busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class SqliteDatabase(Database):
    dialect: Dialect = "sqlite"

    def __init__(self, url: str, *, busy_timeout_ms: int = 5000, readers: int = 4) -> None:
        self.url = url
        self.path = sqlite_path(url)
        self._busy_timeout_ms = busy_timeout_ms
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._local = threading.local()
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="sqlite-read")
        self._writer_conn = self._connect()
        self._writer = threading.Thread(target=self._write_loop, name="sqlite-write", daemon=True)
        self._closed = False
        self._writer.start()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL keeps every commit across a process crash; only an operating
        # system crash or power loss can lose the last transactions.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    # The writer thread ------------------------------------------------------

    def _write_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            while len(group) < _MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                group.append(nxt)
            self._commit_group(group)

    def _begin(self, cursor: sqlite3.Cursor) -> None:
        # Another process may hold the write lock beyond busy_timeout; wait on
        # it a few more times before telling clients to retry.
        for attempt in range(4):
            try:
                cursor.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or attempt == 3:
                    raise
                log.warning("sqlite write lock busy, retrying", extra={"attempt": attempt + 1})
                time.sleep(0.05 * (attempt + 1))

    def _commit_group(
        self, group: list[tuple[Work[Any], asyncio.Future[Any], Any, bool]]
    ) -> None:
        cursor = self._writer_conn.cursor()
        outcomes: list[tuple[bool, Any, list[Callable[[], Any]]]] = []
        try:
            self._begin(cursor)
            for work, _future, _loop, rollback in group:
                tx = Tx(cursor, "sqlite")
                cursor.execute("SAVEPOINT work")
                try:
                    result = work(tx)
                    if rollback:
                        cursor.execute("ROLLBACK TO work")
                        cursor.execute("RELEASE work")
                        outcomes.append((True, result, []))
                        continue
                    cursor.execute("RELEASE work")
                    outcomes.append((True, result, tx.take_after_commit()))
                except BaseException as error:  # noqa: BLE001 - handed to the caller
                    cursor.execute("ROLLBACK TO work")
                    cursor.execute("RELEASE work")
                    outcomes.append((False, error, []))
            self._commit(cursor)
        except sqlite3.Error as error:
            try:
                cursor.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            log.error("sqlite write group failed", extra={"error": str(error)})
            failure = ServiceUnavailable(
                "the database is busy; retry the request shortly",
                headers={"Retry-After": "1"},
            )
            outcomes = [(False, failure, []) for _ in group]

        for (_work, future, loop, _rollback), (ok, value, callbacks) in zip(
            group, outcomes, strict=True
        ):
            loop.call_soon_threadsafe(_settle, future, ok, value, callbacks)

    def _commit(self, cursor: sqlite3.Cursor) -> None:
        for attempt in range(4):
            try:
                cursor.execute("COMMIT")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or attempt == 3:
                    raise
                time.sleep(0.05 * (attempt + 1))

    # Public interface -------------------------------------------------------

    async def write(self, work: Work[T]) -> T:
        if self._closed:
            raise ServiceUnavailable("the server is shutting down; retry the request shortly")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((work, future, loop, mock.is_active()))
        return await future

    def _reader_conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            self._local.conn = conn
        return conn

    def read_sync(self, work: Work[T]) -> T:
        conn = self._reader_conn()
        cursor = conn.cursor()
        cursor.execute("BEGIN")
        try:
            return work(Tx(cursor, "sqlite"))
        finally:
            cursor.execute("COMMIT")

    async def read(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, self.read_sync, work)

    def write_sync(self, work: Work[T]) -> T:
        done = threading.Event()
        box: dict[str, Any] = {}

        class _Future:
            def done(self) -> bool:
                return False

            def set_result(self, value: Any) -> None:
                box["result"] = value
                done.set()

            def set_exception(self, error: BaseException) -> None:
                box["error"] = error
                done.set()

        class _Loop:
            def call_soon_threadsafe(self, fn: Callable[..., Any], *args: Any) -> None:
                future, ok, value, callbacks = args
                fn(future, ok, value, [])

        self._queue.put((work, _Future(), _Loop(), False))
        done.wait()
        if "error" in box:
            raise box["error"]
        return box["result"]

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
        self._writer_conn.close()
        self._readers.shutdown(wait=True)


def _settle(
    future: Any, ok: bool, value: Any, callbacks: list[Callable[[], Any]]
) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
        _run_callbacks(callbacks)
    else:
        future.set_exception(value)


# --- PostgreSQL -------------------------------------------------------------


class PostgresDatabase(Database):
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 16) -> None:
        import psycopg
        from psycopg.rows import dict_row
        from psycopg_pool import ConnectionPool

        self._psycopg = psycopg
        self.url = url
        self._pool = ConnectionPool(
            url,
            min_size=min(4, pool_size),
            max_size=pool_size,
            timeout=5.0,
            kwargs={
                "row_factory": dict_row,
                "connect_timeout": 3,
                "options": "-c statement_timeout=15000",
            },
            open=True,
            name="campfire",
        )
        self._executor = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="pg")

    def _run(self, work: Work[T], *, retries: int, rollback: bool = False) -> T:
        from psycopg import errors as pg_errors
        from psycopg_pool import PoolTimeout

        for attempt in range(retries + 1):
            try:
                with self._pool.connection() as conn:
                    with conn.transaction(force_rollback=rollback):
                        cursor = conn.cursor()
                        tx = Tx(cursor, "postgresql")
                        result = work(tx)
                    callbacks = [] if rollback else tx.take_after_commit()
                    return result, callbacks  # type: ignore[return-value]
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                if attempt == retries:
                    raise ServiceUnavailable(
                        "the request conflicted with concurrent changes; retry it",
                        headers={"Retry-After": "1"},
                    ) from None
                time.sleep(0.01 * (attempt + 1))
            except (self._psycopg.OperationalError, PoolTimeout) as error:
                log.warning("postgresql unavailable", extra={"error": str(error)[:200]})
                raise ServiceUnavailable(
                    "the database is unavailable; retry the request shortly",
                    headers={"Retry-After": "1"},
                ) from None
        raise AssertionError("unreachable")

    async def write(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        rollback = mock.is_active()
        result, callbacks = await loop.run_in_executor(
            self._executor, lambda: self._run(work, retries=3, rollback=rollback)
        )
        _run_callbacks(callbacks)
        return result

    async def read(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        result, _callbacks = await loop.run_in_executor(
            self._executor, lambda: self._run(work, retries=1)
        )
        return result

    def write_sync(self, work: Work[T]) -> T:
        result, _callbacks = self._run(work, retries=3)
        return result

    def read_sync(self, work: Work[T]) -> T:
        result, _callbacks = self._run(work, retries=1)
        return result

    async def close(self) -> None:
        self._pool.close()
        self._executor.shutdown(wait=False)


def open_database(url: str, *, pool_size: int = 16, busy_timeout_ms: int = 5000) -> Database:
    """Open the database that ``url`` names: ``sqlite:///file.db`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        return SqliteDatabase(url, busy_timeout_ms=busy_timeout_ms)
    if url.startswith("postgresql://"):
        return PostgresDatabase(url, pool_size=pool_size)
    raise ValueError(
        f"unsupported database URL {url!r}; use sqlite:///path.db or "
        "postgresql://user@host:5432/dbname"
    )
