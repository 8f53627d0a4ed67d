"""The SQLite owners file deleted or unusable under running processes."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from campfire_server.db import liveness, migrate

# A process that holds its lock the way a server does, checking it every
# 0.2 s, prints its id and waits until it is killed.
CHECKED_HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from campfire_server.db import liveness
    from campfire_server.db.database import open_database

    liveness.CHECK_SECONDS = 0.2

    async def main():
        async with liveness.held(open_database(sys.argv[1])) as held:
            print(held.process_id, flush=True)
            await asyncio.sleep(600)

    asyncio.run(main())
    """
)


def test_deleted_owners_file_keeps_holder_running(tmp_path: Path) -> None:
    path = tmp_path / "campfire.db"
    migrate.upgrade(f"sqlite:///{path}")
    holder = subprocess.Popen(
        [sys.executable, "-c", CHECKED_HOLDER, f"sqlite:///{path}"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    holder_id = holder.stdout.readline().strip()
    try:
        os.remove(f"{path}-owners")
        own = liveness.FileLockLiveness(str(path))
        try:
            # The holder finds the new file at its next check and locks again there.
            deadline = time.monotonic() + 5
            gone = own.is_gone(None, holder_id)  # type: ignore[arg-type]
            while gone and time.monotonic() < deadline:
                time.sleep(0.05)
                gone = own.is_gone(None, holder_id)  # type: ignore[arg-type]
            holder.kill()
            holder.wait(10)
            after_kill = own.is_gone(None, holder_id)  # type: ignore[arg-type]
        finally:
            asyncio.run(own.close())
    finally:
        holder.kill()
        holder.wait(10)

    assert len(holder_id) == 16
    assert gone is False
    assert after_kill is True


def test_unusable_owners_file_named_at_start(tmp_path: Path) -> None:
    path = tmp_path / "campfire.db"
    os.mkdir(f"{path}-owners")

    with pytest.raises(RuntimeError) as raised:
        liveness.FileLockLiveness(str(path))

    assert f"{path}-owners" in str(raised.value)
    assert "next to the SQLite database" in str(raised.value)
