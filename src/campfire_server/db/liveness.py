"""An id for this server process, and a check of whether another process is still running.

An idempotency claim stores the id of the process that made it, so a retry
can tell a claim whose process died, which it takes over at once, from one
whose request is still running, which it waits for. Each process holds a
lock that the operating system or the database server drops when the
process dies, SIGKILL included, and a lock that is free marks its owner as
gone. Nothing is written per request or in the background:

* SQLite: every process of one database file runs on one machine, so each
  holds an exclusive ``fcntl`` lock on one byte of ``<database>-owners``,
  at an offset derived from its id. The kernel drops it when the process
  exits.
* PostgreSQL: each process holds a session advisory lock on a connection of
  its own, which the server drops when that connection closes. The session
  sets TCP keepalives, so the server also notices a machine that vanished
  without closing it, after about 25 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import secrets
import threading
from collections.abc import AsyncIterator
from typing import Any

import psycopg

from ..outage_log import OutageLog
from .database import Database
from .tx import Tx

log = logging.getLogger(__name__)

# The first key of every PostgreSQL advisory lock taken here, "CFPI" in
# ASCII, so these locks collide only with locks of another application that
# uses the same first key.
ADVISORY_LOCK_SPACE = 0x43465049

# How often a process checks its lock: the PostgreSQL lock connection, or that
# the SQLite owners file it locked is still the one at its path.
CHECK_SECONDS = 5.0

# Server-side keepalives of the lock session: 10 s idle, then 3 probes 5 s
# apart, so the server drops a vanished machine's lock after about 25 s.
_KEEPALIVE_OPTIONS = (
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
)


def new_process_id() -> str:
    """Return a random process id: 16 hexadecimal digits."""
    return secrets.token_hex(8)


class ProcessLiveness:
    """The id of this process and a check of whether another process id is still running."""

    def __init__(self, process_id: str) -> None:
        self.process_id = process_id

    def is_gone(self, tx: Tx, process_id: str | None) -> bool:
        """Return True when the process ``process_id`` has certainly exited.

        An unknown or malformed id, or a claim made before ids were stored,
        counts as running, so such a claim is only taken over by age.
        """
        if process_id is None or process_id == self.process_id:
            return False
        try:
            number = int(process_id, 16)
        except ValueError:
            return False
        if len(process_id) != 16:
            return False
        return self._lock_is_free(tx, number)

    def _lock_is_free(self, tx: Tx, number: int) -> bool:
        # A database of another kind holds no process locks, so its claims
        # are only taken over by age.
        return False

    def check(self) -> None:
        """Take this process's lock again where it was lost; called every ``CHECK_SECONDS``."""

    async def close(self) -> None:
        """Drop this process's lock, so other processes see it as gone."""


class FileLockLiveness(ProcessLiveness):
    """Liveness by ``fcntl`` byte locks on a file next to the SQLite database."""

    def __init__(self, database_path: str) -> None:
        self._file = _LockFile.open(f"{database_path}-owners")
        super().__init__(self._file.lock_new_id())

    def _lock_is_free(self, tx: Tx, number: int) -> bool:
        return self._file.is_free(_offset(number))

    def check(self) -> None:
        """Lock again in the file at the owners path if that file was deleted or replaced."""
        self._file.follow_path()

    async def close(self) -> None:
        self._file.release(_offset(int(self.process_id, 16)))


class _LockFile:
    """One process's descriptor of an owners file, shared by every app of the process.

    Closing any descriptor of a file drops all of the process's POSIX locks
    on it, so the process opens the file once and closes it with its last app.
    """

    _open: dict[str, _LockFile] = {}
    _guard = threading.Lock()

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = _open_owners(path)
        self._held: set[int] = set()

    @classmethod
    def open(cls, path: str) -> _LockFile:
        with cls._guard:
            file = cls._open.get(path)
            if file is None:
                file = cls._open[path] = cls(path)
            return file

    def lock_new_id(self) -> str:
        with self._guard:
            for _ in range(8):
                process_id = new_process_id()
                offset = _offset(int(process_id, 16))
                try:
                    fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
                except OSError:
                    # A running process has locked this byte, so another id is drawn.
                    continue
                self._held.add(offset)
                return process_id
        raise RuntimeError(f"no free process lock in {self.path} after 8 random ids")

    def follow_path(self) -> None:
        """Move this process's locks to the file now at ``path``, if it is another file.

        A process that finds no owners file creates a new one, and the
        locks held in a deleted file are invisible to it.
        """
        with self._guard:
            self._follow_path()

    def _follow_path(self) -> None:
        try:
            current = os.stat(self.path)
        except FileNotFoundError:
            current = None
        held = os.fstat(self._fd)
        if current is not None and (current.st_dev, current.st_ino) == (held.st_dev, held.st_ino):
            return
        fd = _open_owners(self.path)
        for offset in self._held:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, offset)
            except OSError:
                log.warning("process lock taken by another process", extra={"path": self.path})
        os.close(self._fd)
        self._fd = fd
        log.warning("process locks moved to a new owners file", extra={"path": self.path})

    def is_free(self, offset: int) -> bool:
        with self._guard:
            if offset in self._held:
                return False
            # NOTE: a process whose owners file was deleted looks gone here until
            # its next check locks it in the new file. A takeover meanwhile fails
            # the running request with a 409, so the message is still written once.
            self._follow_path()
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_SH | fcntl.LOCK_NB, 1, offset)
            except OSError:
                return False
            # The byte is no app's of this process, so unlocking it leaves theirs held.
            fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, offset)
            return True

    def release(self, offset: int) -> None:
        with self._guard:
            self._held.discard(offset)
            fcntl.lockf(self._fd, fcntl.LOCK_UN, 1, offset)
            if not self._held:
                os.close(self._fd)
                del self._open[self.path]


def _open_owners(path: str) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as error:
        raise RuntimeError(
            f"cannot open the process lock file {path}: {error.strerror}; the server "
            "keeps it next to the SQLite database and needs it to be a file it can "
            "create and write"
        ) from None


def _offset(number: int) -> int:
    """Return the lock byte of a 64-bit process id, kept below the largest signed ``off_t``."""
    return number >> 2


_LOCK_HELD = (
    "SELECT 1 AS held FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND classid::bigint = :space AND objid::bigint = :key AND objsubid = 2"
)


class AdvisoryLockLiveness(ProcessLiveness):
    """Liveness by PostgreSQL session advisory locks, one connection per process."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: psycopg.Connection[Any] | None = None
        super().__init__(self._connect_and_lock())

    def _connect_and_lock(self, process_id: str | None = None) -> str:
        """Open the lock session and lock ``process_id``, or a new id when none is given."""
        conn = psycopg.connect(
            self._url, autocommit=True, connect_timeout=3, options=_KEEPALIVE_OPTIONS
        )
        for _ in range(8):
            candidate = process_id or new_process_id()
            row = conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (ADVISORY_LOCK_SPACE, _key(candidate))
            ).fetchone()
            if row is not None and row[0]:
                self._conn = conn
                return candidate
            if process_id is not None:
                break
        conn.close()
        raise RuntimeError(
            f"no free advisory lock ({ADVISORY_LOCK_SPACE}, key) for this process after retries"
        )

    def _lock_is_free(self, tx: Tx, number: int) -> bool:
        return tx.one(_LOCK_HELD, space=ADVISORY_LOCK_SPACE, key=_key_of(number)) is None

    def check(self) -> None:
        """Take the lock again on a new connection if its connection was lost."""
        if self._conn is not None:
            try:
                self._conn.execute("SELECT 1")
                return
            except psycopg.Error as error:
                # NOTE: until the lock is back, other processes take this
                # process's open claims over as if it had died.
                log.warning(
                    "process lock connection lost; locking again",
                    extra={"process_id": self.process_id, "error": str(error)},
                )
                with contextlib.suppress(psycopg.Error):
                    self._conn.close()
                self._conn = None
        self._connect_and_lock(self.process_id)
        log.info("process lock taken again", extra={"process_id": self.process_id})

    async def close(self) -> None:
        if self._conn is not None:
            await asyncio.to_thread(self._conn.close)
            self._conn = None


def _key(process_id: str) -> int:
    return _key_of(int(process_id, 16))


def _key_of(number: int) -> int:
    """Return the second advisory lock key of a process id: its top 31 bits, a positive int4."""
    return number >> 33


async def open_liveness(db: Database) -> ProcessLiveness:
    """Take this process's lock on the database that ``db`` opened."""
    from .postgres import PostgresDatabase
    from .sqlite import SqliteDatabase

    if isinstance(db, SqliteDatabase):
        return FileLockLiveness(db.path)
    if isinstance(db, PostgresDatabase):
        return await asyncio.to_thread(AdvisoryLockLiveness, db.url)
    return ProcessLiveness(new_process_id())


@contextlib.asynccontextmanager
async def held(db: Database) -> AsyncIterator[ProcessLiveness]:
    """Hold this process's lock while the block runs, checking the PostgreSQL session."""
    liveness = await open_liveness(db)
    checker: asyncio.Task[None] | None = None
    if isinstance(liveness, (AdvisoryLockLiveness, FileLockLiveness)):
        checker = asyncio.get_running_loop().create_task(_check_forever(liveness))
    try:
        yield liveness
    finally:
        if checker is not None:
            checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await checker
        await liveness.close()


async def _check_forever(liveness: ProcessLiveness) -> None:
    outages = OutageLog(log)
    while True:
        await asyncio.sleep(CHECK_SECONDS)
        try:
            await asyncio.to_thread(liveness.check)
        except (psycopg.Error, OSError, RuntimeError) as error:
            outages.failure(
                _NOT_LOCKED,
                f"{_NOT_LOCKED}; retrying in {CHECK_SECONDS:g} s",
                extra={"process_id": liveness.process_id, "error": str(error)},
            )
            continue
        outages.recovery(_NOT_LOCKED, "process lock taken again")


_NOT_LOCKED = "process lock not taken again"
