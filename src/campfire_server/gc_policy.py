"""The garbage collector's settings for a serving process.

A full (generation 2) collection walks every container object in the
process, and after start-up there are some 155,000 of them (FastAPI,
pydantic's validators, the routes). Under the message benchmark
(``bench/messages.py``, one process on 2 cores) a full collection ran about
twice a second and took 90 to 200 ms, stopping the event loop and the writer
thread together. So once start-up is done the server collects once and
freezes what is left (``gc.freeze``). Later collections skip frozen objects,
so a full one walks only the objects made since. A larger generation 0
threshold lets the objects of requests in flight die before a collection
promotes them to an older generation.

NOTE: objects made after start-up, such as the knowledge indexes built on
first use, are not frozen, so full collections walk them.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

log = logging.getLogger(__name__)


@contextmanager
def applied(freeze: bool, thresholds: Sequence[int]) -> Iterator[None]:
    """Freeze the objects of start-up and set the collection thresholds until exit.

    ``thresholds`` are ``gc.set_threshold``'s three values; an empty
    sequence keeps the interpreter's. On exit the earlier thresholds come back and frozen
    objects are unfrozen, so a process that builds several applications
    (tests) can still collect the ones it has shut down.
    """
    previous = gc.get_threshold()
    frozen = 0
    if freeze:
        gc.collect()
        gc.freeze()
        frozen = gc.get_freeze_count()
    if thresholds:
        gc.set_threshold(*thresholds)
    log.info(
        "garbage collector configured",
        extra={"frozen_objects": frozen, "thresholds": list(gc.get_threshold())},
    )
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        if freeze:
            gc.unfreeze()
