"""The delivery worker: fan events out, claim due deliveries, sign, send, and retry.

Each round first turns the committed events that the ``webhooks`` cursor
has not read into deliveries (``fanout``), then sends what is due. The
worker wakes when an event that some webhook of this process's index wants
commits here, and otherwise polls every ``webhook_poll_seconds``.

Delivery is at least once. A worker leases rows (see ``actions.claim_due``)
and records each attempt after it finishes. A worker that dies mid-attempt
leaves its rows leased until the lease runs out, and then another worker
sends them again with the same ``webhook-id``. Any number of workers may run
against one database: in-process in ``campfire serve`` and as
``campfire worker`` processes.

Retry policy: connection errors, timeouts, 408, 425, 429 and 5xx are retried
with exponential backoff (base ``webhook_retry_base_seconds``, doubling, at
most ``webhook_retry_max_delay_seconds``, plus or minus 20% jitter) until
``webhook_retry_window_seconds`` after the first attempt, with one last
attempt at the end of the window. A ``Retry-After`` on 429 or 503 is
honoured when it asks for a longer wait, up to the end of the window. Every other status fails the
delivery at once.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import secrets
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from .. import __version__, clock
from ..config import Settings
from ..db.database import Database
from ..db.tx import Tx
from ..events import bus
from ..events.records import EventRecord
from ..logs import log_retried_failure
from ..monitoring import metrics
from ..outage_log import OutageLog
from . import actions, fanout
from .actions import Job, Outcome
from .guard import DestinationRejected, ResolutionFailed, check_destination
from .signing import headers_for, signing_key
from .subscriptions import WakeIndex

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = frozenset({408, 425, 429})
EXCERPT_CHARS = 500
EXCERPT_BYTES = 4096
JITTER = 0.2
USER_AGENT = f"Campfire-Webhooks/{__version__}"

# Messages of the worker's steps that fail and run again, and the keys of their outages.
_FAN_OUT_FAILED = "webhook worker could not fan events out"
_OUTBOX_READ_FAILED = "webhook worker could not read the outbox"
_CLAIM_FAILED = "webhook worker could not claim deliveries"
_DELIVERY_CRASHED = "webhook delivery crashed"


# Retry policy ---------------------------------------------------------------------


def is_retryable_status(status: int) -> bool:
    return status in RETRYABLE_STATUSES or 500 <= status <= 599


def parse_retry_after(value: str | None, now_ms: int) -> float | None:
    """Return the wait that a ``Retry-After`` header requests, in seconds, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now_ms / 1000)


def backoff_seconds(attempt: int, settings: Settings, rng: random.Random | None = None) -> float:
    """Return the wait after failed attempt number ``attempt`` (1-based), with jitter."""
    base = settings.webhook_retry_base_seconds * 2 ** min(attempt - 1, 40)
    delay = min(base, settings.webhook_retry_max_delay_seconds)
    spread = (rng or random).uniform(1 - JITTER, 1 + JITTER)
    return delay * spread


def schedule_retry(
    job: Job, now_ms: int, settings: Settings, retry_after: float | None = None
) -> int | None:
    """Return when the next attempt is due, or None when the retry window is spent."""
    delay = backoff_seconds(job.attempts + 1, settings)
    if retry_after is not None:
        # The wait may exceed the usual maximum; the window end still bounds it.
        delay = max(delay, retry_after)
    window_end = job.window_started_at + int(settings.webhook_retry_window_seconds * 1000)
    due = now_ms + int(delay * 1000)
    if due <= window_end:
        return due
    # One last attempt at the end of the window, unless this was it.
    return window_end if now_ms < window_end else None


# Sending -----------------------------------------------------------------------------


def _signing_keys(job: Job, now_ms: int) -> list[bytes]:
    keys = [signing_key(job.secret)]
    expires = job.previous_secret_expires_at
    if job.previous_secret and expires is not None and expires > now_ms:
        keys.append(signing_key(job.previous_secret))
    return keys


def _pinned_request(url: str, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """Point ``url`` at the checked ``address`` while keeping its Host and TLS name."""
    original = httpx.URL(url)
    host_header = original.host if original.port is None else f"{original.host}:{original.port}"
    if ":" in original.host:
        host_header = f"[{original.host}]" + ("" if original.port is None else f":{original.port}")
    pinned = original.copy_with(host=address)
    extensions: dict[str, Any] = {}
    if original.scheme == "https":
        extensions["sni_hostname"] = original.host
    return pinned, {"Host": host_header}, extensions


def without_query(url: str) -> str:
    """Return ``url`` with its query string replaced by ``?...``, for logs and errors."""
    parts = urlsplit(url)
    return parts._replace(query="...").geturl() if parts.query else url


def _hide_query(text: str, url: str) -> str:
    query = urlsplit(url).query
    return text.replace("?" + query, "?...") if query else text


def _excerpt(raw: bytes) -> str | None:
    if not raw:
        return None
    return raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]


async def _post_to_first(
    client: httpx.AsyncClient,
    url: str,
    addresses: list[str],
    body: bytes,
    signed: dict[str, str],
    timeout: float,
) -> tuple[httpx.Response, bytes]:
    """POST ``body`` to the first of the checked ``addresses`` that accepts a connection.

    Returns the response and the start of its body. Only the checked
    addresses are connected to, so the address check holds for the
    connection that carries the request.
    """
    for index, address in enumerate(addresses):
        pinned, headers, extensions = _pinned_request(url, address)
        headers.update(signed)
        headers["Content-Type"] = "application/json"
        headers["User-Agent"] = USER_AGENT
        request = client.build_request(
            "POST", pinned, content=body, headers=headers, extensions=extensions, timeout=timeout
        )
        try:
            response = await client.send(request, stream=True, follow_redirects=False)
        except httpx.ConnectError:
            if index == len(addresses) - 1:
                raise
            continue
        try:
            raw = b""
            async for chunk in response.aiter_raw():
                raw += chunk
                if len(raw) >= EXCERPT_BYTES:
                    break
        finally:
            await response.aclose()
        return response, raw
    raise ValueError(
        f"no checked address to send {without_query(url)!r} to; check_destination returned none"
    )


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """An attempt's outcome, whether it may be retried, and any Retry-After in seconds."""

    outcome: Outcome
    retryable: bool = False
    retry_after: float | None = None


async def attempt_delivery(
    client: httpx.AsyncClient, job: Job, settings: Settings
) -> AttemptResult:
    """Send one signed attempt of ``job``; the caller schedules any retry."""
    body = job.payload.encode("utf-8")
    started = time.monotonic()

    def failed(retryable: bool, error: str) -> AttemptResult:
        duration = int((time.monotonic() - started) * 1000)
        # The error is logged, and the query string may contain a secret.
        error = _hide_query(error, job.url)
        return AttemptResult(Outcome(False, duration, error=error), retryable)

    try:
        addresses = await check_destination(job.url, settings)
    except DestinationRejected as error:
        return failed(False, f"blocked: {error.message}")
    except ResolutionFailed as error:
        return failed(True, str(error))

    now_ms = clock.now_ms()
    signed = headers_for(_signing_keys(job, now_ms), job.event_id, now_ms // 1000, body)
    timeout = settings.webhook_timeout_seconds
    try:
        async with asyncio.timeout(timeout):
            response, raw = await _post_to_first(client, job.url, addresses, body, signed, timeout)
    except (TimeoutError, httpx.TimeoutException):
        return failed(True, f"timed out after {timeout:g} s")
    except (httpx.TransportError, OSError) as error:
        return failed(True, f"{type(error).__name__}: {error}"[:500])

    status = response.status_code
    duration = int((time.monotonic() - started) * 1000)
    excerpt = _excerpt(raw)
    if 200 <= status <= 299:
        return AttemptResult(Outcome(True, duration, status_code=status, response_excerpt=excerpt))
    if is_retryable_status(status):
        retry_after = None
        if status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("retry-after"), clock.now_ms())
        outcome = Outcome(
            False, duration, status_code=status, response_excerpt=excerpt, error=f"HTTP {status}"
        )
        return AttemptResult(outcome, True, retry_after)
    error = f"HTTP {status}; not retried"
    if 300 <= status <= 399:
        error = f"HTTP {status}; redirects are not followed, so point the webhook at the final URL"
    outcome = Outcome(False, duration, status_code=status, response_excerpt=excerpt, error=error)
    return AttemptResult(outcome)


# The worker ----------------------------------------------------------------------


def _revision(tx: Tx) -> int:
    return int(tx.value("SELECT revision FROM webhook_revisions WHERE id = 1") or 0)


def _enabled_subscriptions(tx: Tx) -> tuple[int, list[dict[str, Any]]]:
    revision = _revision(tx)
    rows = tx.all("SELECT org_id, events FROM webhooks WHERE enabled = :enabled", enabled=True)
    return revision, rows


async def fan_out_all(db: Database) -> int:
    """Queue the deliveries of the committed events not read yet; return how many.

    Stops early when another worker has the cursor locked, since that worker
    reads the same events. A read first skips the write when nothing is unread.
    """
    if not await db.read(fanout.has_unread):
        return 0
    queued = 0
    while True:
        result = await db.write(fanout.fan_out)
        if result is None:
            return queued
        queued += result.deliveries
        if result.caught_up:
            return queued


class DeliveryWorker:
    """Fans events out, then claims and sends deliveries, until stopped.

    ``run_once`` fans out every committed event, claims what is due now and
    sends it. Tests call it directly under a frozen clock. ``run`` repeats
    it, sleeping until a wanted event or a queued delivery wakes it or the
    next delivery is due (at most ``webhook_poll_seconds``).
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        client: httpx.AsyncClient,
        *,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.client = client
        self.worker_id = worker_id or f"wrk_{socket.gethostname()[:24]}_{secrets.token_hex(4)}"
        self._wake = asyncio.Event()
        self._stopping = False
        self._slots = asyncio.Semaphore(settings.webhook_concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()
        self.index = WakeIndex()
        self._index_checked_at = 0.0
        self._fanned_out_at = 0.0
        self._events_pending = False
        # Failed attempts per webhook id, and failed steps of the loop per message.
        self.endpoint_outages = OutageLog(log)
        self.step_outages = OutageLog(log)

    def wake(self) -> None:
        self._wake.set()

    def on_event(self, record: EventRecord) -> None:
        """Wake the worker for a committed event that a webhook may want (a bus listener)."""
        if self.index.wants(record.org_id, record.type):
            self._events_pending = True
            self._wake.set()

    async def fan_out(self) -> int:
        """Queue the deliveries of the committed events not read yet; return how many."""
        return await fan_out_all(self.db)

    async def refresh_index(self) -> None:
        """Reload the wake-up index when webhooks changed in any process."""
        self._index_checked_at = time.monotonic()
        if self.index.loaded and await self.db.read(_revision) == self.index.revision:
            return
        revision, rows = await self.db.read(_enabled_subscriptions)
        self.index.load(rows, revision)

    async def _maintain(self) -> None:
        """Refresh the index and fan out when a wanted event arrived or a poll interval passed.

        Rounds that only send deliveries skip both, so a backlog of
        deliveries does not pay a read of the log per round.
        """
        poll = self.settings.webhook_poll_seconds
        now = time.monotonic()
        try:
            if not self.index.loaded or now - self._index_checked_at >= poll:
                await self.refresh_index()
            if self._events_pending or now - self._fanned_out_at >= poll:
                self._events_pending = False
                self._fanned_out_at = now
                await self.fan_out()
        except Exception as error:
            log_retried_failure(
                log,
                _FAN_OUT_FAILED,
                error,
                retry=f"the fan-out in {poll:g} s",
                outages=self.step_outages,
            )
            return
        self.step_outages.recovery(_FAN_OUT_FAILED, "webhook worker fans events out again")

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def run_once(self) -> int:
        """Fan out, claim the due deliveries that fit the free slots, send them and wait."""
        await self.fan_out()
        jobs = await self._claim(self.settings.webhook_concurrency)
        await asyncio.gather(*(self._deliver(job) for job in jobs))
        return len(jobs)

    async def _claim(self, limit: int, *, known_due: bool = False) -> list[Job]:
        """Lease up to ``limit`` due deliveries; a read first skips the write when none is due."""
        now = clock.now_ms()
        if limit <= 0:
            return []
        if not known_due:
            due = await self.db.read(actions.next_due_at)
            if due is None or due > now:
                return []
        lease_ms = int(self.settings.webhook_lease_seconds * 1000)
        return await self.db.write(
            lambda tx: actions.claim_due(
                tx, worker_id=self.worker_id, now=now, lease_ms=lease_ms, limit=limit
            )
        )

    async def _deliver(self, job: Job) -> None:
        if not job.enabled:
            await self.db.write(lambda tx: actions.drop_disabled(tx, job, self.worker_id))
            return
        result = await attempt_delivery(self.client, job, self.settings)
        outcome = result.outcome
        if result.retryable:
            next_retry_at = schedule_retry(job, clock.now_ms(), self.settings, result.retry_after)
            outcome = replace(outcome, next_retry_at=next_retry_at)
        disable_after_ms = int(self.settings.webhook_disable_after_seconds * 1000)
        await self.db.write(
            lambda tx: actions.record_attempt(
                tx, job, outcome, worker_id=self.worker_id, disable_after_ms=disable_after_ms
            )
        )
        if outcome.succeeded:
            log.debug("webhook delivered", extra={"delivery_id": job.delivery_id})
            self.endpoint_outages.recovery(
                job.webhook_id,
                "webhook endpoint recovered",
                extra={"delivery_id": job.delivery_id, "webhook_id": job.webhook_id},
            )
            return
        metrics.webhook_delivery_failures.inc()
        # A receiver that is down fails every delivery of every event, so the
        # log keeps the first failure of each webhook's outage and then one
        # summary a minute, each with the latest failure's ids and error.
        self.endpoint_outages.failure(
            job.webhook_id,
            "webhook attempt failed",
            extra={
                "delivery_id": job.delivery_id,
                "webhook_id": job.webhook_id,
                "attempt": job.attempts + 1,
                "status_code": outcome.status_code,
                "error": outcome.error,
                "next_retry_at": clock.to_iso(outcome.next_retry_at),
            },
        )

    async def _run_job(self, job: Job) -> None:
        try:
            await self._deliver(job)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log_retried_failure(
                log,
                _DELIVERY_CRASHED,
                error,
                retry=f"the delivery when its lease ends (at most {self._lease_text()})",
                extra={"delivery_id": job.delivery_id},
                outages=self.step_outages,
            )
        else:
            self.step_outages.recovery(_DELIVERY_CRASHED, "webhook deliveries run again")
        finally:
            self._slots.release()

    async def _sleep(self) -> None:
        timeout = self.settings.webhook_poll_seconds
        try:
            due = await self.db.read(actions.next_due_at)
        except Exception as error:
            log_retried_failure(
                log,
                _OUTBOX_READ_FAILED,
                error,
                retry=f"the outbox read in at most {timeout:g} s",
                outages=self.step_outages,
            )
            due = None
        else:
            self.step_outages.recovery(_OUTBOX_READ_FAILED, "webhook worker reads the outbox again")
        if due is not None:
            timeout = min(timeout, max(0.0, (due - clock.now_ms()) / 1000))
        if timeout > 0:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass
        self._wake.clear()

    async def run(self, grace_seconds: float = 5.0) -> None:
        """Deliver until ``stop`` is called, then finish or release what is in flight."""
        log.info("webhook worker started", extra={"worker_id": self.worker_id})
        concurrency = self.settings.webhook_concurrency
        # Claim in batches of at least a quarter of the slots: one claim per
        # finished delivery would make the claim query the bottleneck.
        batch = max(1, concurrency // 4)
        backlog = False
        while not self._stopping:
            await self._maintain()
            free = concurrency - len(self._in_flight)
            jobs: list[Job] = []
            if free > 0:
                try:
                    jobs = await self._claim(free, known_due=backlog)
                except Exception as error:
                    log_retried_failure(
                        log,
                        _CLAIM_FAILED,
                        error,
                        retry=f"the claim in at most {self.settings.webhook_poll_seconds:g} s",
                        outages=self.step_outages,
                    )
                else:
                    self.step_outages.recovery(
                        _CLAIM_FAILED, "webhook worker claims deliveries again"
                    )
                backlog = bool(jobs) and len(jobs) == free
            for job in jobs:
                await self._slots.acquire()
                task = asyncio.create_task(self._run_job(job))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            if backlog:
                while self._in_flight and concurrency - len(self._in_flight) < batch:
                    await asyncio.wait(set(self._in_flight), return_when=asyncio.FIRST_COMPLETED)
            else:
                await self._sleep()
        await self._drain(grace_seconds)

    def _lease_text(self) -> str:
        return f"{self.settings.webhook_lease_seconds:g} s"

    def stop(self) -> None:
        """Ask ``run`` to stop claiming and return once attempts in flight are settled."""
        self._stopping = True
        self._wake.set()

    async def _drain(self, grace_seconds: float) -> None:
        if self._in_flight:
            _done, pending = await asyncio.wait(set(self._in_flight), timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
        try:
            released = await self.db.write(lambda tx: actions.release_claims(tx, self.worker_id))
        except Exception as error:
            log_retried_failure(
                log,
                "webhook worker could not release its leases",
                error,
                retry=f"its deliveries when their leases end (at most {self._lease_text()})",
            )
            released = 0
        log.info(
            "webhook worker stopped", extra={"worker_id": self.worker_id, "released": released}
        )


def new_http_client(settings: Settings) -> httpx.AsyncClient:
    """Build the client workers send with: no redirects, no proxies from the environment."""
    limits = httpx.Limits(
        max_connections=settings.webhook_concurrency * 2,
        max_keepalive_connections=settings.webhook_concurrency,
    )
    return httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        trust_env=False,
        limits=limits,
    )


@asynccontextmanager
async def lifespan_service(app: Any) -> AsyncIterator[None]:
    """Run a delivery worker inside the server process unless ``webhook_worker`` is off.

    Tests may set ``app.state.webhook_http_client`` to send through their own
    client or transport.
    """
    settings: Settings = app.state.settings
    if not settings.webhook_worker:
        yield
        return
    injected = getattr(app.state, "webhook_http_client", None)
    client = injected or new_http_client(settings)
    worker = DeliveryWorker(app.state.db, settings, client)
    app.state.webhook_worker = worker
    actions.wake_listeners.append(worker.wake)
    actions.change_listeners.append(worker.index.invalidate)
    unsubscribe = bus.subscribe(worker.on_event)
    task = asyncio.create_task(worker.run(), name="webhook-worker")
    try:
        yield
    finally:
        unsubscribe()
        actions.change_listeners.remove(worker.index.invalidate)
        actions.wake_listeners.remove(worker.wake)
        worker.stop()
        await asyncio.gather(task, return_exceptions=True)
        if injected is None:
            await client.aclose()


async def run_standalone(settings: Settings, *, concurrency: int | None = None) -> None:
    """Run one worker process until SIGINT or SIGTERM (``campfire worker``)."""
    import signal

    from ..db.database import open_database

    if concurrency is not None:
        settings = settings.model_copy(update={"webhook_concurrency": concurrency})
    db = open_database(settings.database_url, pool_size=8)
    client = new_http_client(settings)
    worker = DeliveryWorker(db, settings, client)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, worker.stop)
    try:
        await worker.run()
    finally:
        await client.aclose()
        await db.close()
