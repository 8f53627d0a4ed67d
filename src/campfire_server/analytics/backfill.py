"""Fill the analytics tables for conversations written without the write path.

Rows loaded straight into the tables (a bulk import, a restore of some
tables) have no facts, because only the ``events.emit`` hook writes them.
``rebuild_facts`` derives them from messages and events in chunks of
conversations, one write transaction per chunk, so other writers wait at
most one chunk.
"""

from __future__ import annotations

import logging
import time

from ..db.database import Database
from . import facts

log = logging.getLogger(__name__)


def rebuild_facts(db: Database, *, only_missing: bool = True, chunk: int = facts.BULK_CHUNK) -> int:
    """Rebuild the facts of conversations without any (or of all); return how many were written.

    Runs ``db.write_sync``, so call it from a thread without an event loop.
    """
    started = time.perf_counter()
    after_id = ""
    written = 0
    while True:
        last_id, count = db.write_sync(
            lambda tx, after_id=after_id: facts.rebuild_after(
                tx, after_id=after_id, limit=chunk, only_missing=only_missing
            )
        )
        if last_id is None:
            break
        after_id = last_id
        written += count

    log.info(
        "analytics facts rebuilt",
        extra={
            "conversations": written,
            "only_missing": only_missing,
            "seconds": round(time.perf_counter() - started, 1),
        },
    )
    return written
