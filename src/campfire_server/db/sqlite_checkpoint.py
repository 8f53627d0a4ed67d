"""WAL checkpoints of the embedded engine, run beside the writer instead of inside it.

By default SQLite checkpoints from the connection that commits, once the WAL
reaches 1000 pages: that commit then copies the pages into the database file
and syncs both files before it returns. Under the message benchmark this
happened about five times a second and held the writer thread, with every
request of its group, for 10 to 50 ms. Here a thread with its own connection
runs PASSIVE checkpoints shortly after commits. A PASSIVE checkpoint takes
no write lock, so the writer goes on committing while it copies and syncs.

SQLite starts the WAL file over only when a transaction begins after every
frame has been checkpointed. Under continuous writes this thread seldom
finishes between two commits, so the writer keeps an automatic checkpoint at
a larger size. When the WAL reaches it, the thread has already copied all but
the last frames, so the writer's checkpoint copies only those and lets the WAL
start over. In the benchmark such a commit took 5 ms at most, against 10 to 50 ms.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

log = logging.getLogger(__name__)

# WAL size in pages (4 KiB by default) at which the writer checkpoints by
# itself, where SQLite's default is 1000. This bounds the WAL file at about
# 16 MiB unless a long read holds back every checkpoint.
WRITER_AUTOCHECKPOINT_PAGES = 4000

# Seconds between this thread's checkpoints while commits keep coming; each
# one syncs the WAL and the database file once.
CHECKPOINT_INTERVAL_SECONDS = 0.1


class WalCheckpointer:
    """A thread that checkpoints the WAL of ``connection``'s database after commits."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        *,
        interval_seconds: float = CHECKPOINT_INTERVAL_SECONDS,
    ) -> None:
        self._connection = connection
        self._interval = interval_seconds
        self._wake = threading.Event()
        self._stopping = False
        # Checkpoints run, and the WAL's size and checkpointed part in frames
        # after the last one.
        self.checkpoints = 0
        self.wal_frames = 0
        self.checkpointed_frames = 0
        self._failures = 0
        self._thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """Tell the thread that a transaction committed, from any thread."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the thread after its current checkpoint and close its connection."""
        if self._stopping:
            return
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self._connection.close()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            if self._stopping:
                return
            self._wake.clear()
            started = time.monotonic()
            self._checkpoint()

            # Commits that arrive meanwhile wait for the next round, so a
            # busy writer costs one checkpoint per interval, not one per commit.
            remaining = self._interval - (time.monotonic() - started)
            if remaining > 0:
                time.sleep(remaining)

    def _checkpoint(self) -> None:
        try:
            row = self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as error:
            # The writer's own automatic checkpoint still bounds the WAL. One
            # line per run of failures, since this repeats every interval.
            self._failures += 1
            if self._failures == 1:
                log.warning("sqlite checkpoint failed", extra={"error": str(error)[:300]})
            return
        if self._failures:
            log.info("sqlite checkpoint recovered", extra={"failures": self._failures})
            self._failures = 0
        _busy, self.wal_frames, self.checkpointed_frames = row
        self.checkpoints += 1
