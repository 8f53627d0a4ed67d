"""Failures of the realtime log tail, logged through the outage log."""

from __future__ import annotations

import asyncio
import logging

from campfire_server.db import migrate
from campfire_server.db.database import open_database
from campfire_server.outage_log import OutageLog
from campfire_server.realtime.log_tail import LogTail

LOGGER_NAME = "campfire_server.realtime.log_tail"


class CountingOutageLog(OutageLog):
    """An outage log that counts the failures reported to it."""

    failures = 0

    def failure(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.failures += 1
        return super().failure(*args, **kwargs)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def wait_for_line(caplog, words: str, timeout: float = 10.0) -> logging.LogRecord:
    """Return the first captured record whose message contains ``words``, waiting if needed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        for record in caplog.records:
            if words in record.getMessage():
                return record
        await asyncio.sleep(0.05)
    raise AssertionError(f"no log line contains {words!r}: {caplog.messages}")


async def test_read_failures_summarised_then_recovered(tmp_path, caplog):
    url = f"sqlite:///{tmp_path / 'campfire.db'}"
    # Not migrated yet, so every read of the events table fails.
    db = open_database(url)
    clock = Clock()
    outages = CountingOutageLog(logging.getLogger(LOGGER_NAME), monotonic=clock)
    tail = LogTail(db, lambda record: None, lambda: True, outages=outages)
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    try:
        tail.wake()
        await wait_for_line(caplog, "read failed")
        # The retries back off to one a second, so wait for three of them, however slow.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while outages.failures < 3 and loop.time() < deadline:
            await asyncio.sleep(0.05)
        assert outages.failures >= 3
        assert len(caplog.records) == 1, caplog.messages

        clock.now = 61.0
        summary = await wait_for_line(caplog, "failures in the last 61 s")
        assert summary.levelno == logging.WARNING
        assert summary.failures >= 3
        assert "events" in summary.error

        migrate.upgrade(url)
        clock.now = 70.0
        recovered = await wait_for_line(caplog, "recovered")
        assert recovered.levelno == logging.INFO
        assert recovered.failures >= summary.failures
        assert recovered.outage_seconds == 70.0
        assert len(caplog.records) == 3, caplog.messages
    finally:
        await tail.stop()
        await db.close()
