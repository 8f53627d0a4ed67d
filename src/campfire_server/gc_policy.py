"""The garbage collector's settings for a serving process.

A full (generation 2) collection walks every container object in the
process. After start-up that is some 155,000 objects (FastAPI, pydantic's
validators, the routes, the OpenAPI models), and under load a full
collection ran every half second for 90 to 200 ms, stopping the event loop
and the writer thread together (``bench/messages.py``, one process on 2
cores). So once start-up is done the server collects once and freezes what
is left (``gc.freeze``): frozen objects are never walked again, which makes a
full collection cost only the objects made since. A larger generation 0
threshold lets the objects of requests in flight die before a collection
promotes them to an older generation.
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
