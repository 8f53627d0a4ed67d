"""In-process fan-out of committed events to the layers that react to them.

Publishing happens only from ``Tx.after_commit`` callbacks (see ``emit``), so
no listener ever hears of a change that rolled back. Listeners are the
realtime broker, the webhook worker's wake-up and the handoff router.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from .records import EventRecord

log = logging.getLogger(__name__)

Listener = Callable[[EventRecord], None | Awaitable[None]]

_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Call ``listener`` for every committed event; return a function that unsubscribes."""
    _listeners.append(listener)

    def unsubscribe() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unsubscribe


def publish(record: EventRecord) -> None:
    import asyncio

    for listener in list(_listeners):
        try:
            result = listener(record)
            # A listener that returns None skips the slower awaitable check.
            if result is not None and inspect.isawaitable(result):
                asyncio.ensure_future(result)
        except Exception:
            log.exception("event listener failed", extra={"event_id": record.id})
