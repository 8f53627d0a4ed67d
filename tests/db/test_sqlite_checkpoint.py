"""WAL checkpoints beside the SQLite writer: the WAL stays bounded and no commit is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from campfire_server.db.sqlite import SqliteDatabase
from campfire_server.db.sqlite_checkpoint import WRITER_AUTOCHECKPOINT_PAGES

# A WAL file is a 32-byte header and frames of a 24-byte header and one page.
WAL_HEADER_BYTES = 32
FRAME_BYTES = 24 + 4096
ROW = "x" * 2000


def _create_table(tx) -> None:  # type: ignore[no-untyped-def]
    tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")


def _insert(tx, number: int) -> int:  # type: ignore[no-untyped-def]
    tx.execute("INSERT INTO notes (id, body) VALUES (:id, :body)", id=number, body=ROW)
    return number


@pytest.fixture
async def sqlite_db(tmp_path: Path) -> AsyncIterator[SqliteDatabase]:
    database = SqliteDatabase(f"sqlite:///{tmp_path / 'notes.db'}")
    await database.write(_create_table)
    yield database
    await database.close()


async def test_checkpoint_thread_keeps_wal_small(sqlite_db: SqliteDatabase) -> None:
    wal = Path(sqlite_db.path + "-wal")
    largest = 0
    for batch in range(40):
        numbers = range(batch * 50, (batch + 1) * 50)
        await asyncio.gather(*(sqlite_db.write(lambda tx, n=n: _insert(tx, n)) for n in numbers))
        largest = max(largest, wal.stat().st_size)
        # Writes arrive in bursts, so the thread gets its turn between them.
        await asyncio.sleep(0.02)

    checkpointer = sqlite_db._write_connection.checkpointer
    assert checkpointer.checkpoints > 0
    # 2,000 rows of 2 KB make about 1,000 pages of table alone, so without
    # the thread the WAL would grow towards the writer's own bound.
    assert largest < WAL_HEADER_BYTES + WRITER_AUTOCHECKPOINT_PAGES * FRAME_BYTES / 2
    count = await sqlite_db.read(lambda tx: tx.value("SELECT COUNT(*) FROM notes"))
    assert count == 2000


async def test_wal_bounded_without_checkpoint_thread(sqlite_db: SqliteDatabase) -> None:
    # With the thread stopped, the writer's automatic checkpoint is the bound.
    sqlite_db._write_connection.checkpointer.stop()
    wal = Path(sqlite_db.path + "-wal")
    largest = 0
    for number in range(3000):
        await sqlite_db.write(lambda tx, n=number: _insert(tx, n))
        largest = max(largest, wal.stat().st_size)

    # One transaction of a few pages may pass the bound before its checkpoint.
    assert largest <= WAL_HEADER_BYTES + (WRITER_AUTOCHECKPOINT_PAGES + 16) * FRAME_BYTES


WRITER_SCRIPT = textwrap.dedent(
    """
    import sys
    from campfire_server.db.sqlite import SqliteDatabase

    db = SqliteDatabase(sys.argv[1])
    db.write_sync(
        lambda tx: tx.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    )
    number = 0
    while True:
        db.write_sync(
            lambda tx: tx.execute(
                "INSERT INTO notes (id, body) VALUES (:id, :body)", id=number, body="x" * 2000
            )
        )
        print(number, flush=True)
        number += 1
    """
)


def test_killed_writer_keeps_acknowledged_rows(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, f"sqlite:///{path}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 60
    # Enough rows for several checkpoints to have run, then a kill mid-write.
    while acknowledged < 3000 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        acknowledged = int(line)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert acknowledged >= 3000, "the writer process stopped before writing 3000 rows"

    import sqlite3

    with sqlite3.connect(path) as conn:
        stored = conn.execute("SELECT COUNT(*), MAX(id) FROM notes").fetchone()
    # Every acknowledged row survives; the row being written at the kill may too.
    assert stored[0] >= acknowledged + 1
    assert stored[1] == stored[0] - 1
