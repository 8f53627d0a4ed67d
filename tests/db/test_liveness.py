"""Process locks that tell a running server process from one that exited."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from campfire_server.db import liveness
from campfire_server.db.database import Database

# A process that takes its lock on the database at argv[1], prints its id and
# waits until it is killed.
HOLDER = textwrap.dedent(
    """
    import asyncio, sys, time
    from campfire_server.db import liveness
    from campfire_server.db.database import open_database

    held = asyncio.run(liveness.open_liveness(open_database(sys.argv[1])))
    print(held.process_id, flush=True)
    time.sleep(600)
    """
)


def start_holder(url: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, url], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    process_id = process.stdout.readline().strip()
    assert len(process_id) == 16, f"the holder printed {process_id!r}"
    return process, process_id


async def test_killed_process_is_gone(db: Database) -> None:
    own = await liveness.open_liveness(db)
    holder, holder_id = start_holder(db.url)
    try:
        running = await db.read(lambda tx: own.is_gone(tx, holder_id))
        holder.kill()
        holder.wait(10)
        # PostgreSQL ends the killed process's session as soon as it reads the closed socket.
        deadline = time.monotonic() + 5
        exited = await db.read(lambda tx: own.is_gone(tx, holder_id))
        while not exited and time.monotonic() < deadline:
            time.sleep(0.05)
            exited = await db.read(lambda tx: own.is_gone(tx, holder_id))
    finally:
        holder.kill()
        holder.wait(10)
        await own.close()

    assert running is False
    assert exited is True


async def test_own_and_sibling_ids_are_running(db: Database) -> None:
    first = await liveness.open_liveness(db)
    second = await liveness.open_liveness(db)
    try:
        own = await db.read(lambda tx: first.is_gone(tx, first.process_id))
        sibling = await db.read(lambda tx: first.is_gone(tx, second.process_id))
        await second.close()
        # The second closed its lock, although both ran in this one process.
        closed = await db.read(lambda tx: first.is_gone(tx, second.process_id))
        still_own = await db.read(lambda tx: first.is_gone(tx, first.process_id))
    finally:
        await first.close()

    assert first.process_id != second.process_id
    assert own is False
    assert sibling is False
    assert closed is True
    assert still_own is False


async def test_unknown_ids_are_running(db: Database) -> None:
    own = await liveness.open_liveness(db)
    try:
        results = {
            value: await db.read(lambda tx, value=value: own.is_gone(tx, value))
            for value in (None, "", "not-hex-at-all!!", "abc")
        }
    finally:
        await own.close()

    assert results == {None: False, "": False, "not-hex-at-all!!": False, "abc": False}
