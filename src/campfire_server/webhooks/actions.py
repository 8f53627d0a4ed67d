"""State changes of webhooks: subscriptions, the outbox and delivery bookkeeping.

Delivery rows are queued by the fan-out (``fanout``) from committed event
rows. Workers then claim due rows, send them and record each attempt here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import clock, ids
from ..db.tx import Tx
from ..errors import Conflict, ValidationFailed
from ..events.cursor import Snapshot, current_snapshot
from ..events.records import CATALOG
from ..organizations import service as organizations
from . import service
from .fanout import CURSOR as FANOUT_CURSOR
from .fanout import DISABLED_ERROR
from .schemas import Delivery, Webhook, WebhookCreate, WebhookUpdate
from .signing import check_secret, generate_secret
from .subscriptions import WILDCARD, DisabledPeriod, Marker, dump_periods, parse_periods

log = logging.getLogger(__name__)

PING = "ping"
MAX_EVENTS = len(CATALOG) + 1
EVENTS_EXPECTED = f'a non-empty list of event types from {list(CATALOG)}, or ["*"] for all'

# Called after a transaction that made deliveries due has committed; the
# delivery worker of this process installs its wake-up here.
wake_listeners: list[Callable[[], None]] = []
# Called after a transaction that changed which events a webhook receives
# has committed; the worker's wake-up index is dropped here.
change_listeners: list[Callable[[], None]] = []


def _wake() -> None:
    for listener in list(wake_listeners):
        listener()


def _subscriptions_changed(tx: Tx) -> None:
    """Raise the subscription revision, so every process reloads its wake-up index."""
    tx.execute("UPDATE webhook_revisions SET revision = revision + 1 WHERE id = 1")

    def notify() -> None:
        for listener in list(change_listeners):
            listener()

    tx.after_commit(notify)


def _stream_start(tx: Tx) -> dict[str, Any]:
    """Return where a webhook created now starts receiving events.

    SQLite commits events in position order, so the last position is the
    boundary. On PostgreSQL the boundary is the current snapshot: events of
    transactions that are still running, this one included, commit later
    and are received.
    """
    position = tx.value("SELECT COALESCE(MAX(position), 0) AS p FROM events")
    snapshot = str(current_snapshot(tx)) if tx.dialect == "postgresql" else None
    return {"start_position": int(position), "start_snapshot": snapshot}


def _marker(tx: Tx) -> Marker:
    """Return the current point of the event log, as ``_stream_start`` finds it.

    On PostgreSQL the caller must hold the webhook's row lock, so that a
    fan-out reading the webhook either committed before the marker or waits
    for the transaction that takes it.
    """
    start = _stream_start(tx)
    snapshot = start["start_snapshot"]
    return Marker(start["start_position"], Snapshot.parse(snapshot) if snapshot else None)


def _fanned_out(tx: Tx, period: DisabledPeriod) -> bool:
    """Tell whether the fan-out has read every event that ``period`` covers."""
    if period.end is None:
        return False
    row = tx.one(
        "SELECT position, consumed_snapshot FROM event_cursors WHERE name = :name",
        name=FANOUT_CURSOR,
    )
    if row is None:
        return False
    if tx.dialect == "postgresql":
        if period.end.snapshot is None:
            # Such a period covers no event of this database (see Marker).
            return True
        if row["consumed_snapshot"] is None:
            return False
        return Snapshot.parse(row["consumed_snapshot"]).covers(period.end.snapshot)
    return int(row["position"]) >= period.end.position


def _disabled_periods(tx: Tx, webhook_id: str, *, enabled: bool) -> str:
    """Return the webhook's disabled periods after it was disabled, or enabled again, now.

    Periods whose events the fan-out has all read are dropped, because no
    event still unread can fall in them.
    """
    text = tx.value("SELECT disabled_periods FROM webhooks WHERE id = :id", id=webhook_id)
    marker = _marker(tx)
    periods = []
    for period in parse_periods(text):
        if period.end is None and enabled:
            period = DisabledPeriod(period.start, marker)
        if not _fanned_out(tx, period):
            periods.append(period)
    if not enabled:
        periods.append(DisabledPeriod(marker, None))
    return dump_periods(periods)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def check_events(events: list[str], field: str = "events") -> list[str]:
    """Validate an event filter and return it without duplicates, in the given order."""
    if not events:
        raise ValidationFailed(
            f"{field} is empty", field=field, value=events, expected=EVENTS_EXPECTED
        )
    unique: list[str] = []
    for index, name in enumerate(events):
        if name != WILDCARD and name not in CATALOG:
            raise ValidationFailed(
                f"{field}[{index}] {name!r} is not a known event type",
                field=f"{field}[{index}]",
                value=name,
                expected=EVENTS_EXPECTED,
            )
        if name not in unique:
            unique.append(name)
    return unique


# Subscriptions ------------------------------------------------------------------


def create_webhook(
    tx: Tx, org_id: str, request: WebhookCreate, mailbox_ids: list[str] | None = None
) -> Webhook:
    """Insert a webhook and return it with its full secret, the only time it is shown.

    ``mailbox_ids`` overrides ``request.mailbox_ids`` once the caller has
    narrowed it to its own scope.
    """
    if mailbox_ids is None:
        mailbox_ids = request.mailbox_ids
    organizations.require_mailboxes(tx, org_id, mailbox_ids)
    events = check_events(request.events)
    secret = check_secret(request.secret) if request.secret is not None else generate_secret()
    webhook_id = ids.new("webhook")
    now = clock.now_ms()
    tx.execute(
        "INSERT INTO webhooks (id, org_id, url, events, secret, enabled, mailbox_ids, "
        "start_position, start_snapshot, created_at, updated_at) VALUES (:id, :org_id, :url, "
        ":events, :secret, :enabled, :mailbox_ids, :start_position, :start_snapshot, :now, :now)",
        id=webhook_id,
        org_id=org_id,
        url=request.url,
        events=_json(events),
        mailbox_ids=_json(mailbox_ids),
        secret=secret,
        enabled=True,
        now=now,
        **_stream_start(tx),
    )
    _subscriptions_changed(tx)
    tx.log(log.info, "webhook created", extra={"webhook_id": webhook_id, "organization_id": org_id})
    row = service.get_webhook_row(tx, org_id, webhook_id)
    return service.webhook_from_row(row, now_ms=now, reveal_secret=True)


def update_webhook(tx: Tx, org_id: str, webhook_id: str, request: WebhookUpdate) -> Webhook:
    """Change the URL, the event filter or the enabled flag.

    Disabling fails the pending deliveries (they can be replayed later), and
    enabling clears the reason and the failure run.
    """
    row = service.get_webhook_row(tx, org_id, webhook_id, lock=True)
    requested = request.model_dump(exclude_unset=True, by_alias=False)
    if not requested:
        raise ValidationFailed(
            "the request changes nothing; send at least one of url, events, enabled",
            field="body",
            value={},
            expected="an object with at least one of url, events, enabled",
        )
    now = clock.now_ms()
    assignments: dict[str, Any] = {"updated_at": now}
    if request.url is not None:
        assignments["url"] = request.url
    if request.events is not None:
        assignments["events"] = _json(check_events(request.events))
    if request.enabled is True and not row["enabled"]:
        assignments.update(enabled=True, disabled_reason=None, failing_since=None)
        assignments["disabled_periods"] = _disabled_periods(tx, webhook_id, enabled=True)
    elif request.enabled is False and row["enabled"]:
        assignments.update(enabled=False, disabled_reason="disabled through the API")
        assignments["disabled_periods"] = _disabled_periods(tx, webhook_id, enabled=False)
        _fail_pending(tx, webhook_id, DISABLED_ERROR, now)
    sets = ", ".join(f"{column} = :{column}" for column in assignments)
    tx.execute(
        f"UPDATE webhooks SET {sets} WHERE id = :webhook_id", webhook_id=webhook_id, **assignments
    )
    if "events" in assignments or "enabled" in assignments:
        _subscriptions_changed(tx)
    return service.webhook_from_row(service.get_webhook_row(tx, org_id, webhook_id), now_ms=now)


def delete_webhook(tx: Tx, org_id: str, webhook_id: str) -> None:
    """Delete a webhook with its deliveries and their attempts."""
    service.get_webhook_row(tx, org_id, webhook_id, lock=True)
    # Wait for workers recording an attempt, so their attempt rows are
    # committed, and therefore visible to the next statement, before the delete.
    tx.all(
        "SELECT id FROM webhook_deliveries WHERE webhook_id = :webhook_id" + tx.for_update,
        webhook_id=webhook_id,
    )
    tx.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN "
        "(SELECT id FROM webhook_deliveries WHERE webhook_id = :webhook_id)",
        webhook_id=webhook_id,
    )
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE webhook_id = :webhook_id", webhook_id=webhook_id
    )
    tx.execute("DELETE FROM webhooks WHERE id = :webhook_id", webhook_id=webhook_id)
    _subscriptions_changed(tx)
    tx.log(log.info, "webhook deleted", extra={"webhook_id": webhook_id, "organization_id": org_id})


def rotate_secret(
    tx: Tx, org_id: str, webhook_id: str, new_secret: str | None, grace_ms: int
) -> Webhook:
    """Replace the secret; the old one keeps signing, beside the new one, for ``grace_ms``.

    Only one previous secret is kept: rotating again inside the grace window
    retires the oldest secret at once.
    """
    row = service.get_webhook_row(tx, org_id, webhook_id, lock=True)
    secret = check_secret(new_secret) if new_secret is not None else generate_secret()
    if secret == row["secret"]:
        raise ValidationFailed(
            "secret is the current secret; a rotation needs a different one",
            field="secret",
            value="<hidden>",
            expected="a secret different from the current one, or no secret to generate one",
        )
    now = clock.now_ms()
    tx.execute(
        "UPDATE webhooks SET secret = :secret, previous_secret = :previous, "
        "previous_secret_expires_at = :expires_at, updated_at = :now WHERE id = :id",
        secret=secret,
        previous=row["secret"] if grace_ms > 0 else None,
        expires_at=now + grace_ms if grace_ms > 0 else None,
        now=now,
        id=webhook_id,
    )
    tx.log(
        log.info, "webhook secret rotated", extra={"webhook_id": webhook_id, "grace_ms": grace_ms}
    )
    row = service.get_webhook_row(tx, org_id, webhook_id)
    return service.webhook_from_row(row, now_ms=now, reveal_secret=True)


# The outbox ------------------------------------------------------------------------


def _insert_delivery(
    tx: Tx,
    *,
    webhook_id: str,
    org_id: str,
    event_id: str,
    event_type: str,
    payload: str,
    now: int,
    delivery_id: str | None = None,
) -> str:
    delivery_id = delivery_id or ids.new("delivery")
    tx.execute(
        "INSERT INTO webhook_deliveries (id, webhook_id, org_id, event_id, event_type, payload, "
        "status, attempts, next_attempt_at, created_at, updated_at) VALUES (:id, :webhook_id, "
        ":org_id, :event_id, :event_type, :payload, 'pending', 0, :now, :now, :now)",
        id=delivery_id,
        webhook_id=webhook_id,
        org_id=org_id,
        event_id=event_id,
        event_type=event_type,
        payload=payload,
        now=now,
    )
    return delivery_id


def send_test(tx: Tx, org_id: str, webhook_id: str) -> Delivery:
    """Queue a ``ping`` event for one webhook, whatever its event filter."""
    row = service.get_webhook_row(tx, org_id, webhook_id)
    _require_enabled(row)
    now = clock.now_ms()
    event_id = ids.new("event")
    payload = {
        "id": event_id,
        "type": PING,
        "data": {"webhookId": webhook_id, "url": row["url"]},
        "timestamp": clock.to_iso(now),
    }
    delivery_id = _insert_delivery(
        tx,
        webhook_id=webhook_id,
        org_id=org_id,
        event_id=event_id,
        event_type=PING,
        payload=_json(payload),
        now=now,
    )
    tx.after_commit(_wake)
    return service.delivery_with_attempts(
        tx, service.get_delivery_row(tx, org_id, webhook_id, delivery_id)
    )


def retry_delivery(tx: Tx, org_id: str, webhook_id: str, delivery_id: str) -> Delivery:
    """Make a delivery due now, with a fresh retry window; succeeded ones are sent again."""
    webhook = service.get_webhook_row(tx, org_id, webhook_id)
    row = service.get_delivery_row(tx, org_id, webhook_id, delivery_id, lock=True)
    _require_enabled(webhook)
    if row["status"] == "delivering":
        raise Conflict(
            f"delivery {delivery_id!r} is being attempted right now; retry after it finishes",
            code="DELIVERY_IN_FLIGHT",
            details={"field": "deliveryId", "value": delivery_id},
        )
    now = clock.now_ms()
    tx.execute(
        "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = :now, "
        "window_started_at = NULL, updated_at = :now WHERE id = :id",
        now=now,
        id=delivery_id,
    )
    tx.after_commit(_wake)
    return service.delivery_with_attempts(
        tx, service.get_delivery_row(tx, org_id, webhook_id, delivery_id)
    )


def _require_enabled(webhook: dict[str, Any]) -> None:
    if not webhook["enabled"]:
        raise Conflict(
            f"webhook {webhook['id']!r} is disabled ({webhook['disabled_reason']}); enable it "
            'with PATCH {"enabled": true} first',
            code="WEBHOOK_DISABLED",
            details={"field": "webhookId", "value": webhook["id"]},
        )


def _fail_pending(tx: Tx, webhook_id: str, reason: str, now: int) -> None:
    tx.execute(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, "
        "last_error = :reason, updated_at = :now WHERE webhook_id = :webhook_id "
        "AND status = 'pending'",
        reason=reason,
        now=now,
        webhook_id=webhook_id,
    )


# Worker bookkeeping -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    """One claimed delivery with what an attempt needs to sign and send it."""

    delivery_id: str
    webhook_id: str
    org_id: str
    event_id: str
    payload: str
    attempts: int
    window_started_at: int
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: int | None
    enabled: bool


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of one attempt; ``next_retry_at`` is None when no retry follows."""

    succeeded: bool
    duration_ms: int
    status_code: int | None = None
    response_excerpt: str | None = None
    error: str | None = None
    next_retry_at: int | None = None


def next_due_at(tx: Tx) -> int | None:
    """Return when the earliest pending or leased delivery is due, in epoch ms."""
    value = tx.value(
        "SELECT MIN(next_attempt_at) AS due FROM webhook_deliveries "
        "WHERE status IN ('pending', 'delivering')"
    )
    return None if value is None else int(value)


# The error of an attempt row from its claim until its outcome is recorded.
ATTEMPT_IN_FLIGHT = "in flight; the outcome is recorded when the attempt ends"
# The error of an attempt whose worker stopped before recording its outcome.
ATTEMPT_LOST = (
    "the worker stopped before it recorded the outcome; the request may have been sent, "
    "and the delivery was sent again with the same webhook-id"
)


def claim_due(tx: Tx, *, worker_id: str, now: int, lease_ms: int, limit: int) -> list[Job]:
    """Lease up to ``limit`` due deliveries to ``worker_id`` and log an attempt of each.

    A leased row's ``next_attempt_at`` is its lease expiry, so a delivery
    whose worker died becomes due again once the lease runs out. On
    PostgreSQL the inner SELECT skips rows another worker is claiming; on
    SQLite the write lock serialises claims.

    The attempt is counted and logged here, before the request is sent,
    so an attempt whose worker dies is counted too. Its row's error is
    ``ATTEMPT_IN_FLIGHT`` until ``record_attempt`` fills in the outcome,
    and ``ATTEMPT_LOST`` once another worker claims the delivery again.
    """
    lease_until = now + lease_ms
    rows = tx.all(
        "UPDATE webhook_deliveries SET status = 'delivering', claimed_by = :worker_id, "
        "attempts = attempts + 1, "
        "locked_until = :lease_until, next_attempt_at = :lease_until, "
        "window_started_at = COALESCE(window_started_at, :now), updated_at = :now "
        "WHERE id IN (SELECT id FROM webhook_deliveries WHERE status IN ('pending', "
        "'delivering') AND next_attempt_at <= :now ORDER BY next_attempt_at LIMIT :limit"
        f"{tx.skip_locked}) RETURNING id, webhook_id, org_id, event_id, payload, attempts, "
        "window_started_at",
        worker_id=worker_id,
        lease_until=lease_until,
        now=now,
        limit=limit,
    )
    if not rows:
        return []
    webhook_ids = sorted({row["webhook_id"] for row in rows})
    names = {f"w{index}": webhook_id for index, webhook_id in enumerate(webhook_ids)}
    placeholders = ", ".join(f":{name}" for name in names)
    webhooks = {
        row["id"]: row
        for row in tx.all(
            "SELECT id, url, secret, previous_secret, previous_secret_expires_at, enabled "
            f"FROM webhooks WHERE id IN ({placeholders})",
            **names,
        )
    }
    delivery_names = {f"d{index}": row["id"] for index, row in enumerate(rows)}
    tx.execute(
        "UPDATE webhook_attempts SET error = :lost WHERE error = :in_flight AND delivery_id IN "
        f"({', '.join(f':{name}' for name in delivery_names)})",
        lost=ATTEMPT_LOST,
        in_flight=ATTEMPT_IN_FLIGHT,
        **delivery_names,
    )
    jobs = []
    for row in rows:
        tx.send(
            "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, duration_ms, "
            "error, worker_id) VALUES (:delivery_id, :attempt, :attempted_at, 0, :error, "
            ":worker_id)",
            delivery_id=row["id"],
            attempt=row["attempts"],
            attempted_at=now,
            error=ATTEMPT_IN_FLIGHT,
            worker_id=worker_id,
        )
        webhook = webhooks[row["webhook_id"]]
        jobs.append(
            Job(
                delivery_id=row["id"],
                webhook_id=row["webhook_id"],
                org_id=row["org_id"],
                event_id=row["event_id"],
                payload=row["payload"],
                # The attempts before this one.
                attempts=row["attempts"] - 1,
                window_started_at=row["window_started_at"],
                url=webhook["url"],
                secret=webhook["secret"],
                previous_secret=webhook["previous_secret"],
                previous_secret_expires_at=webhook["previous_secret_expires_at"],
                enabled=bool(webhook["enabled"]),
            )
        )
    return jobs


def drop_disabled(tx: Tx, job: Job, worker_id: str) -> None:
    """Fail a claimed delivery whose webhook was disabled after it was queued.

    Nothing was sent, so the attempt that the claim logged is taken back.
    """
    changed = tx.execute(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, "
        "attempts = attempts - 1, claimed_by = NULL, locked_until = NULL, "
        "last_error = :reason, updated_at = :now WHERE id = :id AND claimed_by = :worker_id",
        reason="the webhook was disabled",
        now=clock.now_ms(),
        id=job.delivery_id,
        worker_id=worker_id,
    )
    if changed:
        tx.execute(
            "DELETE FROM webhook_attempts WHERE delivery_id = :id AND attempt = :attempt",
            id=job.delivery_id,
            attempt=job.attempts + 1,
        )


def record_attempt(
    tx: Tx, job: Job, outcome: Outcome, *, worker_id: str, disable_after_ms: int
) -> bool:
    """Log one attempt, settle the delivery and track the webhook's failure run.

    Returns whether the webhook was disabled by this attempt. A webhook that
    has failed without a single success for ``disable_after_ms`` is disabled,
    and its pending deliveries fail with the reason.
    """
    now = clock.now_ms()
    if outcome.succeeded:
        status = "succeeded"
    elif outcome.next_retry_at is not None:
        status = "pending"
    else:
        status = "failed"
    changed = tx.execute(
        "UPDATE webhook_deliveries SET status = :status, "
        "next_attempt_at = :next_attempt_at, last_status_code = :status_code, "
        "last_error = :error, claimed_by = NULL, locked_until = NULL, "
        "delivered_at = CASE WHEN :succeeded THEN :now ELSE delivered_at END, "
        "updated_at = :now WHERE id = :id AND claimed_by = :worker_id AND status = 'delivering'",
        status=status,
        next_attempt_at=outcome.next_retry_at,
        status_code=outcome.status_code,
        error=outcome.error,
        succeeded=outcome.succeeded,
        now=now,
        id=job.delivery_id,
        worker_id=worker_id,
    )
    if not changed:
        # The lease ran out and another worker took the row, or the webhook
        # was deleted. The attempt still happened, so log it if the row exists.
        tx.log(
            log.warning,
            "webhook delivery lease lost before the attempt was recorded",
            extra={"delivery_id": job.delivery_id, "webhook_id": job.webhook_id},
        )
        if (
            tx.value("SELECT 1 AS found FROM webhook_deliveries WHERE id = :id", id=job.delivery_id)
            is None
        ):
            return False
    attempt = {
        "delivery_id": job.delivery_id,
        "attempt": job.attempts + 1,
        "attempted_at": now - outcome.duration_ms,
        "status_code": outcome.status_code,
        "duration_ms": outcome.duration_ms,
        "excerpt": outcome.response_excerpt,
        "error": outcome.error,
        "next_retry_at": outcome.next_retry_at,
        "worker_id": worker_id,
    }
    # The claim logged the attempt. Its row is filled in even when another
    # worker marked it lost meanwhile, because the outcome is now known.
    filled = tx.execute(
        "UPDATE webhook_attempts SET attempted_at = :attempted_at, status_code = :status_code, "
        "duration_ms = :duration_ms, response_excerpt = :excerpt, error = :error, "
        "next_retry_at = :next_retry_at, worker_id = :worker_id "
        "WHERE delivery_id = :delivery_id AND attempt = :attempt",
        **attempt,
    )
    if not filled:
        tx.execute(
            "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, "
            "duration_ms, response_excerpt, error, next_retry_at, worker_id) VALUES "
            "(:delivery_id, :attempt, :attempted_at, :status_code, :duration_ms, :excerpt, "
            ":error, :next_retry_at, :worker_id)",
            **attempt,
        )

    if outcome.succeeded:
        tx.execute(
            "UPDATE webhooks SET failing_since = NULL WHERE id = :id AND failing_since IS NOT NULL",
            id=job.webhook_id,
        )
        return False
    tx.execute(
        "UPDATE webhooks SET failing_since = :now WHERE id = :id AND failing_since IS NULL",
        now=now,
        id=job.webhook_id,
    )
    webhook = tx.one(
        "SELECT enabled, failing_since FROM webhooks WHERE id = :id", id=job.webhook_id
    )
    if webhook is None or not webhook["enabled"]:
        return False
    if now - webhook["failing_since"] < disable_after_ms:
        return False
    hours = disable_after_ms / 3_600_000
    reason = (
        f"every delivery attempt failed for {hours:g} hours since "
        f"{clock.to_iso(webhook['failing_since'])}; last error: "
        f"{outcome.error or f'HTTP {outcome.status_code}'}"
    )
    # The row lock comes before the marker, as in update_webhook.
    tx.value("SELECT id FROM webhooks WHERE id = :id" + tx.for_update, id=job.webhook_id)
    tx.execute(
        "UPDATE webhooks SET enabled = :enabled, disabled_reason = :reason, "
        "disabled_periods = :periods, updated_at = :now WHERE id = :id",
        enabled=False,
        reason=reason[:1000],
        periods=_disabled_periods(tx, job.webhook_id, enabled=False),
        now=now,
        id=job.webhook_id,
    )
    _fail_pending(tx, job.webhook_id, "the webhook was disabled after failing for too long", now)
    _subscriptions_changed(tx)
    tx.log(
        log.warning,
        "webhook disabled",
        extra={"webhook_id": job.webhook_id, "organization_id": job.org_id, "reason": reason},
    )
    return True


def release_claims(tx: Tx, worker_id: str) -> int:
    """Hand this worker's leased deliveries back, due at once; return how many.

    Their attempts stay counted and are marked lost, because a cancelled
    attempt may have sent its request.
    """
    now = clock.now_ms()
    tx.execute(
        "UPDATE webhook_attempts SET error = :lost WHERE error = :in_flight "
        "AND worker_id = :worker_id AND delivery_id IN (SELECT id FROM webhook_deliveries "
        "WHERE claimed_by = :worker_id AND status = 'delivering')",
        lost=ATTEMPT_LOST,
        in_flight=ATTEMPT_IN_FLIGHT,
        worker_id=worker_id,
    )
    return tx.execute(
        "UPDATE webhook_deliveries SET status = 'pending', claimed_by = NULL, "
        "locked_until = NULL, next_attempt_at = :now, updated_at = :now "
        "WHERE claimed_by = :worker_id AND status = 'delivering'",
        now=now,
        worker_id=worker_id,
    )
