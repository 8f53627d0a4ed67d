"""The SQLite owners file replaced under running processes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from campfire_server.db import liveness, migrate
from tests.db.test_liveness import start_holder


@pytest.mark.xfail(
    strict=True,
    reason="a process that opens a new owners file sees every process locked in the "
    "deleted one as exited, and takes over their running claims",
)
def test_deleted_owners_file_keeps_holder_running(tmp_path: Path) -> None:
    path = tmp_path / "campfire.db"
    migrate.upgrade(f"sqlite:///{path}")
    holder, holder_id = start_holder(f"sqlite:///{path}")
    try:
        os.remove(f"{path}-owners")
        own = liveness.FileLockLiveness(str(path))
        try:
            gone = own.is_gone(None, holder_id)  # type: ignore[arg-type]
        finally:
            asyncio.run(own.close())
    finally:
        holder.kill()
        holder.wait(10)

    assert gone is False
