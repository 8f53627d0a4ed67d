"""Fill the metrics that come from other layers' state: at scrape time and from events.

* Open WebSocket connections are read from the realtime hub at each scrape.
* Webhook queue depth and given-up deliveries are counted in the database
  at each scrape, so every process reports the deployment-wide figure.
* Conversations created and handoffs requested or assigned are counted
  from committed events, so the handoff rate is
  ``campfire_handoffs_total{status="requested"} / campfire_conversations_created_total``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from ..events import bus, records
from . import metrics

log = logging.getLogger(__name__)

_HANDOFF_STATUS = {
    records.HANDOFF_REQUESTED: "requested",
    records.HANDOFF_ASSIGNED: "assigned",
    records.HANDOFF_COMPLETED: "completed",
}


def count_event(record: records.EventRecord) -> None:
    if record.type == records.CONVERSATION_CREATED:
        metrics.conversations_created.inc()
    status = _HANDOFF_STATUS.get(record.type)
    if status is not None:
        metrics.handoffs.labels(status=status).inc()


def _webhook_counts(tx: Any) -> dict[str, int]:
    rows = tx.all(
        "SELECT status, COUNT(*) AS n FROM webhook_deliveries "
        "WHERE status IN ('pending', 'delivering', 'failed') GROUP BY status"
    )
    return {row["status"]: int(row["n"]) for row in rows}


async def collect(app: Any) -> None:
    """Refresh the gauges that are read from other layers just before a scrape."""
    realtime = getattr(app.state, "realtime", None)
    hub = getattr(realtime, "hub", None)
    if hub is not None:
        metrics.websocket_connections.set(len(hub.connections))
    try:
        counts = await app.state.db.read(_webhook_counts)
    except Exception as error:  # no webhooks table yet, or the database is down
        log.debug("webhook queue depth unavailable", extra={"error": str(error)[:200]})
        return
    metrics.webhook_queue_depth.set(counts.get("pending", 0) + counts.get("delivering", 0))
    metrics.webhook_deliveries_failed.set(counts.get("failed", 0))


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    unsubscribe = bus.subscribe(count_event)
    try:
        yield
    finally:
        unsubscribe()
