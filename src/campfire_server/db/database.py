"""The two storage engines behind one interface.

Domain code hands a synchronous function of a ``Tx`` to ``Database.write`` or
``Database.read``; the engine runs it inside one transaction on a worker
thread. That costs one thread hop per request instead of one per statement,
which is what kept SQLAlchemy's async layer several times slower than the
drivers on the request hot paths (see DESIGN.md).

* SQLite (``sqlite.py``): one writer thread owns the only write connection,
  readers use their own connections in WAL mode.
* PostgreSQL (``postgres.py``): one writer connection per process and a
  pool of reader connections.

Both writers commit queued work in groups (``writer.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .tx import Dialect, Tx

T = TypeVar("T")
Work = Callable[[Tx], T]


class Database:
    """A transactional store shared by every request of a process.

    In mock mode (see ``campfire_server.mock``) ``write`` runs the work and
    returns its result, then rolls the transaction back and drops its
    after-commit callbacks.
    """

    dialect: Dialect
    url: str

    async def write(self, work: Work[T], *, order_key: str | None = None) -> T:
        """Run ``work`` in a write transaction and return its result.

        ``order_key`` names the row the work locks first, built by
        ``lock_order``, so that concurrent transactions lock such rows in
        one order (see ``GroupWriter.submit``).
        """
        raise NotImplementedError

    async def read(self, work: Work[T]) -> T:
        raise NotImplementedError

    async def lookup(self, work: Work[T]) -> T:
        """Run a read of a few rows found by key, such as one conversation by id.

        An engine may run it on the calling thread when a hop to a reader
        thread would cost more than the read, and outside a transaction, so
        each statement sees its own snapshot; anything that scans, or needs
        one snapshot across statements, belongs in ``read``.
        """
        return await self.read(work)

    def write_sync(self, work: Work[T]) -> T:
        """Run ``work`` in a write transaction from a thread without an event loop."""
        raise NotImplementedError

    def read_sync(self, work: Work[T]) -> T:
        raise NotImplementedError

    async def ping(self) -> None:
        await self.read(lambda tx: tx.value("SELECT 1 AS ok"))

    async def close(self) -> None:
        raise NotImplementedError


def open_database(url: str, *, pool_size: int = 16, busy_timeout_ms: int = 5000) -> Database:
    """Open the database that ``url`` names: ``sqlite:///file.db`` or ``postgresql://...``."""
    if url.startswith("sqlite:///"):
        from .sqlite import SqliteDatabase

        return SqliteDatabase(url, busy_timeout_ms=busy_timeout_ms)
    if url.startswith("postgresql://"):
        from .postgres import PostgresDatabase

        return PostgresDatabase(url, pool_size=pool_size)
    raise ValueError(
        f"unsupported database URL {url!r}; use sqlite:///path.db or "
        "postgresql://user@host:5432/dbname"
    )
