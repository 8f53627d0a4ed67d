"""Queries over webhooks, deliveries and attempts."""

from __future__ import annotations

import json
from typing import Any

from ..auth.principal import Principal
from ..auth.scope import is_limited, manages
from ..clock import to_iso
from ..db.tx import Tx
from ..errors import NotFound
from ..pagination import PageRequest, keyset_clause, order_clause, page_in_memory, pagination
from .schemas import Attempt, Delivery, DeliveryStatus, Webhook
from .signing import mask_secret

WEBHOOK_COLUMNS = (
    "id, org_id, url, events, secret, previous_secret, previous_secret_expires_at, enabled, "
    "disabled_reason, failing_since, mailbox_ids, created_at, updated_at"
)
DELIVERY_COLUMNS = (
    "id, webhook_id, org_id, event_id, event_type, status, attempts, next_attempt_at, "
    "last_status_code, last_error, delivered_at, created_at"
)


def get_webhook_row(tx: Tx, org_id: str, webhook_id: str, *, lock: bool = False) -> dict[str, Any]:
    """Return the webhook's row, or raise ``NotFound`` (also for another organization's id)."""
    row = tx.one(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = :id AND org_id = :org_id"
        + (tx.for_update if lock else ""),
        id=webhook_id,
        org_id=org_id,
    )
    if row is None:
        raise NotFound.for_id("webhook", webhook_id, field="webhookId")
    return row


def find_webhook_row(
    tx: Tx, principal: Principal, webhook_id: str, *, lock: bool = False
) -> dict[str, Any]:
    """Return the webhook as ``principal`` may manage it; one beyond its mailboxes is not found."""
    row = get_webhook_row(tx, principal.org_id, webhook_id, lock=lock)
    if not manages(principal, json.loads(row["mailbox_ids"])):
        raise NotFound.for_id("webhook", webhook_id, field="webhookId")
    return row


def webhook_from_row(row: dict[str, Any], *, now_ms: int, reveal_secret: bool = False) -> Webhook:
    """Build the public form; the secret is masked unless ``reveal_secret``."""
    expires_at = row["previous_secret_expires_at"]
    in_grace = row["previous_secret"] is not None and expires_at is not None and expires_at > now_ms
    return Webhook(
        id=row["id"],
        url=row["url"],
        events=json.loads(row["events"]),
        mailbox_ids=json.loads(row["mailbox_ids"]),
        secret=row["secret"] if reveal_secret else mask_secret(row["secret"]),
        enabled=bool(row["enabled"]),
        disabled_reason=row["disabled_reason"],
        failing_since=to_iso(row["failing_since"]),
        previous_secret_expires_at=to_iso(expires_at) if in_grace else None,
        created_at=to_iso(row["created_at"]) or "",
        updated_at=to_iso(row["updated_at"]) or "",
    )


def list_webhooks(
    tx: Tx, principal: Principal, request: PageRequest
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Return one page of the webhooks ``principal`` may manage, oldest first, as raw rows."""
    org_id = principal.org_id
    if is_limited(principal):
        return _list_managed_webhooks(tx, principal, request)
    params: dict[str, Any] = {"org_id": org_id}
    total = int(tx.value("SELECT COUNT(*) AS n FROM webhooks WHERE org_id = :org_id", **params))
    where = "org_id = :org_id" + keyset_clause(request, "asc", params)
    rows = tx.all(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE {where}" + order_clause(request, "asc"),
        **params,
    )
    return pagination(request, rows, total)


def _list_managed_webhooks(
    tx: Tx, principal: Principal, request: PageRequest
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Page a limited credential's webhooks in Python, because the mailbox list is JSON text.

    An organization has few webhooks, so reading all of its rows is cheap.
    """
    rows = tx.all(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE org_id = :org_id ORDER BY created_at, id",
        org_id=principal.org_id,
    )
    rows = [row for row in rows if manages(principal, json.loads(row["mailbox_ids"]))]
    return page_in_memory(request, rows)


def get_delivery_row(
    tx: Tx, org_id: str, webhook_id: str, delivery_id: str, *, lock: bool = False
) -> dict[str, Any]:
    row = tx.one(
        f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = :id "
        "AND webhook_id = :webhook_id AND org_id = :org_id" + (tx.for_update if lock else ""),
        id=delivery_id,
        webhook_id=webhook_id,
        org_id=org_id,
    )
    if row is None:
        raise NotFound.for_id("delivery", delivery_id, field="deliveryId")
    return row


def _attempts_by_delivery(tx: Tx, delivery_ids: list[str]) -> dict[str, list[Attempt]]:
    found: dict[str, list[Attempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    if not delivery_ids:
        return found
    names = {f"d{index}": delivery_id for index, delivery_id in enumerate(delivery_ids)}
    placeholders = ", ".join(f":{name}" for name in names)
    rows = tx.all(
        "SELECT delivery_id, attempt, attempted_at, status_code, duration_ms, response_excerpt, "
        f"error, next_retry_at FROM webhook_attempts WHERE delivery_id IN ({placeholders}) "
        "ORDER BY id",
        **names,
    )
    for row in rows:
        found[row["delivery_id"]].append(
            Attempt(
                attempt=row["attempt"],
                attempted_at=to_iso(row["attempted_at"]) or "",
                status_code=row["status_code"],
                duration_ms=row["duration_ms"],
                response_excerpt=row["response_excerpt"],
                error=row["error"],
                next_retry_at=to_iso(row["next_retry_at"]),
            )
        )
    return found


def _delivery(row: dict[str, Any], attempts: list[Attempt]) -> Delivery:
    pending = row["status"] == "pending"
    return Delivery(
        id=row["id"],
        webhook_id=row["webhook_id"],
        event_id=row["event_id"],
        event_type=row["event_type"],
        status=row["status"],
        attempt_count=row["attempts"],
        next_attempt_at=to_iso(row["next_attempt_at"]) if pending else None,
        last_status_code=row["last_status_code"],
        last_error=row["last_error"],
        delivered_at=to_iso(row["delivered_at"]),
        created_at=to_iso(row["created_at"]) or "",
        attempts=attempts,
    )


def delivery_with_attempts(tx: Tx, row: dict[str, Any]) -> Delivery:
    return _delivery(row, _attempts_by_delivery(tx, [row["id"]])[row["id"]])


def list_deliveries(
    tx: Tx,
    org_id: str,
    webhook_id: str,
    request: PageRequest,
    status: DeliveryStatus | None = None,
) -> tuple[list[Delivery], dict[str, Any]]:
    """Return one page of a webhook's deliveries, newest first, each with its attempts."""
    get_webhook_row(tx, org_id, webhook_id)
    params: dict[str, Any] = {"webhook_id": webhook_id}
    where = "webhook_id = :webhook_id"
    if status is not None:
        where += " AND status = :status"
        params["status"] = status
    total = int(tx.value(f"SELECT COUNT(*) AS n FROM webhook_deliveries WHERE {where}", **params))
    where += keyset_clause(request, "desc", params)
    rows = tx.all(
        f"SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE {where}"
        + order_clause(request, "desc"),
        **params,
    )
    rows, meta = pagination(request, rows, total)
    attempts = _attempts_by_delivery(tx, [row["id"] for row in rows])
    return [_delivery(row, attempts[row["id"]]) for row in rows], meta
