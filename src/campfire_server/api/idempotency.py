"""Idempotent writes: a repeated ``Idempotency-Key`` gets the first response.

POST, PATCH, PUT and DELETE honour the key alike, so a retried PATCH
cannot apply a change twice over a change made in between.

The response is stored after the request's writes have committed and
before any of it is sent, so a crash between the two would leave writes
without a stored response, but never a sent response unstored. Each
write of the request therefore also records its result in its own
transaction (a write journal, ``db/journal.py``). A retry of such a request
runs the route again, but its writes return the recorded results instead
of running, so the route rebuilds the first response without writing twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import clock
from ..db import lock_order
from ..db.journal import current_journal, owned_by_current_task
from ..db.liveness import ProcessLiveness
from ..db.tx import Tx
from ..errors import Conflict, ServiceError, ServiceUnavailable, ValidationFailed
from . import write_results
from .deps import identify
from .middleware import _header, send_error

log = logging.getLogger(__name__)

# Methods whose Idempotency-Key is honoured. A GET, HEAD or OPTIONS writes
# nothing, so its key is ignored.
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


class IdempotencyMiddleware:
    """Replay the first response to a repeated write with the same ``Idempotency-Key``.

    The key is scoped to the credential that sent it and kept for 24 hours.
    A replay authenticates the credential again, so a revoked key gets 401.
    A repeat with a different body is a 409. A repeat that arrives while the
    first request is still running waits for it. A first request that ended
    in a 5xx before any write committed leaves nothing behind, so the retry
    runs for real. A first request that committed writes but stored no
    response is resumed by a repeat: its writes are replayed, not rerun. A
    repeat resumes at once after a 5xx or when the process that made the
    claim has exited (``db/liveness.py``), and otherwise a minute after the
    claim was made. When the database fails while the response
    is being stored, the client gets 503 with ``Retry-After`` and the store
    is retried in the background, so a repeat then replays the response.
    A database failure while claiming the key is a 503 that leaves nothing.
    """

    WINDOW_MS = 24 * 3600 * 1000
    WAIT_SECONDS = 10.0

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        authorization = _header(scope, b"authorization")
        if key is None or scope["method"] not in WRITE_METHODS or not authorization:
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id")
        keys = [value for name, value in scope["headers"] if name == b"idempotency-key"]
        if len(keys) > 1:
            # Proxies and clients differ on which of two keys counts, so
            # neither may be used.
            await send_error(
                send,
                ValidationFailed(
                    f"Idempotency-Key was sent {len(keys)} times; send the header once, "
                    "with one key",
                    field="Idempotency-Key",
                    value=[value.decode("latin-1")[:50] for value in keys],
                    expected="one Idempotency-Key header",
                ),
                request_id,
            )
            return
        if not 1 <= len(key) <= 255:
            await send_error(
                send,
                ValidationFailed(
                    f"Idempotency-Key has {len(key)} characters; send 1 to 255, such as a UUID",
                    field="Idempotency-Key",
                    value=key[:50],
                    expected="a unique string such as a UUID",
                ),
                request_id,
            )
            return
        if _header(scope, b"x-campfire-mock") == "true":
            await self.app(scope, receive, send)
            return

        db = scope["app"].state.db
        scope_key = hashlib.sha256(authorization.encode()).hexdigest()[:32]
        body = scope.get("state", {}).get("raw_body", b"")
        request_hash = hashlib.sha256(
            scope["method"].encode() + b" " + scope["path"].encode() + b"\n" + canonical_body(body)
        ).hexdigest()

        liveness = getattr(scope["app"].state, "liveness", None)
        deadline = time.monotonic() + self.WAIT_SECONDS
        while True:
            try:
                claim = await db.write(
                    lambda tx: _claim(tx, scope_key, key, request_hash, liveness),
                    order_key=lock_order.idempotency(scope_key, key),
                )
            except ServiceUnavailable as error:
                # Nothing ran, so the client may retry with the same key at once.
                await send_error(send, error, request_id)
                return
            if claim.stored is None:
                break
            try:
                # A stored response goes only to a credential that still
                # authenticates, and the request log names its organization.
                principal = scope.get("state", {}).get("principal") or await identify(
                    scope["app"].state, authorization, _header(scope, b"origin")
                )
                scope.setdefault("state", {})["organization_id"] = principal.org_id
                await self._replay(
                    db,
                    send,
                    scope_key,
                    key,
                    request_hash,
                    claim.stored,
                    request_id,
                    liveness,
                    deadline,
                )
            except _HolderGone:
                # The holder exited or gave the claim up, so claiming again
                # takes it over, unless another repeat took it over first.
                if time.monotonic() > deadline:
                    await send_error(send, _in_progress(key, retry_after=1), request_id)
                    return
                continue
            except ServiceError as error:
                await send_error(send, error, request_id)
            return

        journal = RequestJournal(scope_key, key, claim.recorded, claim.fence)
        captured: dict[str, Any] = {
            "status": 500,
            "headers": [],
            "body": [],
            "settled": False,
            "fence": claim.fence,
        }

        async def settle() -> ServiceUnavailable | None:
            # Writes from here on, this one and any background task's, are
            # not journaled, because a retry replays the stored response.
            captured["settled"] = True
            journal.close()
            try:
                await self._settle(db, scope_key, key, captured)
            except ServiceUnavailable as error:
                # The request's writes and their journal committed together,
                # so the outcome is decided and only its record is missing.
                # The client gets a 503, and the record is stored once the
                # database is back, so a retry replays it.
                log.warning(
                    "idempotent response not stored; retrying in the background",
                    extra={"status": captured["status"], "request_id": request_id},
                )
                _settle_later(self._settle, db, scope_key, key, captured, request_id)
                return error
            return None

        async def capture(message: Message) -> None:
            # The response is stored (or the claim released) before any of
            # it is sent, so a client that received a response can replay
            # it at once, even if this process dies right after sending.
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            captured["body"].append(message.get("body", b""))
            if message.get("more_body", False):
                return
            failure = await settle()
            if failure is not None:
                await send_error(send, failure, request_id)
                return
            headers = list(captured["headers"])
            if journal.replayed_writes:
                headers.append((b"idempotent-replayed", b"true"))
            await send(
                {"type": "http.response.start", "status": captured["status"], "headers": headers}
            )
            await send({"type": "http.response.body", "body": b"".join(captured["body"])})

        if claim.taken_over:
            log.info(
                "idempotent request resumed",
                extra={
                    "recorded_writes": len(claim.recorded),
                    "previous_owner": claim.previous_owner,
                    "request_id": request_id,
                },
            )
        token = current_journal.set(journal)
        try:
            await self.app(scope, receive, capture)
        finally:
            current_journal.reset(token)
            if not captured["settled"]:
                # The route raised before its response was complete, so the
                # client gets a 500 and the claim is released or left to resume.
                captured["status"] = 500
                await settle()

    @staticmethod
    async def _settle(db: Any, scope_key: str, key: str, captured: dict[str, Any]) -> None:
        """Store the captured response, or release the claim if a retry should run afresh."""
        status = captured["status"]
        fence = captured["fence"]
        if status >= 500 or status in _RETRYABLE:
            await db.write(
                lambda tx: _release(tx, scope_key, key, fence),
                order_key=lock_order.idempotency(scope_key, key),
            )
            return
        headers = {
            k.decode(): v.decode()
            for k, v in captured["headers"]
            if k.lower() in (b"content-type", b"location")
        }
        response_body = b"".join(captured["body"])
        await db.write(
            lambda tx: _complete(tx, scope_key, key, status, response_body, headers, fence),
            order_key=lock_order.idempotency(scope_key, key),
        )

    async def _replay(
        self,
        db: Any,
        send: Send,
        scope_key: str,
        key: str,
        request_hash: str,
        stored: dict[str, Any],
        request_id: str | None,
        liveness: ProcessLiveness | None,
        deadline: float,
    ) -> None:
        """Send the stored response, waiting until ``deadline`` for a running holder to store it.

        Raises ``_HolderGone`` when the holder exited or gave the claim up.
        """
        if stored["request_hash"] != request_hash:
            raise Conflict(
                "this Idempotency-Key was already used with a different request; "
                "use a new key for a new request",
                code="IDEMPOTENCY_KEY_REUSED",
                details={"field": "Idempotency-Key"},
            )
        while stored["status_code"] is None:
            if stored["holder_gone"] or stored["created_at"] < clock.now_ms() - ABANDONED_MS:
                # The holder exited or gave its claim up, so the caller claims
                # the key again and takes it over.
                raise _HolderGone
            if time.monotonic() > deadline:
                # The holder is running but slow, or lost track of its claim,
                # and the claim is taken over once abandoned.
                left_ms = stored["created_at"] + ABANDONED_MS - clock.now_ms()
                raise _in_progress(key, retry_after=max(1, math.ceil(left_ms / 1000)))
            await asyncio.sleep(0.02)
            row = await db.lookup(lambda tx: _lookup(tx, scope_key, key, liveness))
            if row is None:
                raise Conflict(
                    "the first request with this Idempotency-Key failed; retry it",
                    code="IDEMPOTENCY_IN_PROGRESS",
                    headers={"Retry-After": "1"},
                )
            stored = row
        headers = [
            (k.encode(), v.encode()) for k, v in json.loads(stored["response_headers"]).items()
        ]
        body = bytes(stored["response_body"] or b"")
        if stored["status_code"] >= 400 and request_id is not None:
            body = _with_request_id(body, request_id)
        headers.append((b"content-length", str(len(body)).encode()))
        headers.append((b"idempotent-replayed", b"true"))
        await send(
            {"type": "http.response.start", "status": stored["status_code"], "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})


class _HolderGone(Exception):
    """The process holding a claim exited, or the claim was abandoned, so it may be taken over."""


def _taken_over(key: str) -> Conflict:
    return Conflict(
        "a retry with this Idempotency-Key took this request over while it ran, so its "
        "writes were rolled back; retry in 1 s with the same key and body to get the "
        "retry's response",
        code="IDEMPOTENCY_IN_PROGRESS",
        details={"field": "Idempotency-Key", "value": key},
        headers={"Retry-After": "1"},
    )


def _in_progress(key: str, *, retry_after: int) -> Conflict:
    return Conflict(
        "a request with this Idempotency-Key is still being processed; "
        f"retry in {retry_after} s with the same key and body",
        code="IDEMPOTENCY_IN_PROGRESS",
        details={"field": "Idempotency-Key", "value": key},
        headers={"Retry-After": str(retry_after)},
    )


def _with_request_id(body: bytes, request_id: str) -> bytes:
    """Return a stored error envelope that names the replaying request's id.

    An error's ``requestId`` must equal the ``X-Request-ID`` header of the
    response that carries it, and a replay has a request id of its own.
    """
    try:
        document = json.loads(body)
    except ValueError:
        return body
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return body
    error["requestId"] = request_id
    return json.dumps(document).encode()


def _lookup(
    tx: Any, scope_key: str, key: str, liveness: ProcessLiveness | None
) -> dict[str, Any] | None:
    """Return the key's row, with ``holder_gone`` True when its open claim's process exited."""
    row = tx.one(
        "SELECT request_hash, status_code, response_body, response_headers, created_at, owner, "
        "CASE WHEN write_results IS NULL THEN 0 ELSE 1 END AS has_writes "
        "FROM idempotency_keys WHERE scope = :scope AND key = :key",
        scope=scope_key,
        key=key,
    )
    if row is not None:
        row["holder_gone"] = (
            row["status_code"] is None
            and liveness is not None
            and liveness.is_gone(tx, row["owner"])
        )
    return row


@dataclass
class Claim:
    """The outcome of claiming a key: ours to run, or the row of the request that has it."""

    stored: dict[str, Any] | None = None
    # Results recorded by an earlier attempt whose writes committed; replayed in order.
    recorded: list[Any] = field(default_factory=list)
    # Whether this request took over an open claim, and the process id that held it.
    taken_over: bool = False
    previous_owner: str | None = None
    # The owner and created_at this request stored, which a takeover changes.
    fence: Fence | None = None


@dataclass(frozen=True)
class Fence:
    """The owner and created_at of a claim, so a request can tell whether it still owns its claim.

    A retry that takes a claim over stores new values, and the first
    request's later writes and its response then match no row.
    """

    owner: str
    created_at: int

    SQL = "AND COALESCE(owner, '') = :fence_owner AND created_at = :fence_created_at"

    def params(self) -> dict[str, Any]:
        return {"fence_owner": self.owner, "fence_created_at": self.created_at}


def canonical_body(body: bytes) -> bytes:
    """Return the body in one form for every way of writing the same JSON.

    A retry may order keys or space the body differently, so bodies are
    compared as parsed JSON with sorted keys. A body that is not JSON is
    compared byte for byte; the route rejects it anyway.
    """
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return body
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


def _claim(
    tx: Tx, scope_key: str, key: str, request_hash: str, liveness: ProcessLiveness | None
) -> Claim:
    """Claim ``key`` for this request, take over an abandoned one, or return the holder's row."""
    now = clock.now_ms()
    abandoned = now - ABANDONED_MS

    # A completed key expires after the window. A claim still open after a
    # minute belongs to a process that crashed mid-request or gave it up;
    # without recorded writes it is dropped, so the request runs afresh.
    tx.execute(
        "DELETE FROM idempotency_keys WHERE scope = :scope AND key = :key AND "
        "(created_at < :cutoff OR (status_code IS NULL AND write_results IS NULL "
        "AND created_at < :abandoned))",
        scope=scope_key,
        key=key,
        cutoff=now - IdempotencyMiddleware.WINDOW_MS,
        abandoned=abandoned,
    )

    owner = liveness.process_id if liveness is not None else None
    inserted = tx.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, owner, created_at) "
        "VALUES (:scope, :key, :hash, :owner, :now) ON CONFLICT (scope, key) DO NOTHING",
        scope=scope_key,
        key=key,
        hash=request_hash,
        owner=owner,
        now=now,
    )
    if inserted:
        return Claim(fence=Fence(owner or "", now))

    row = _lookup(tx, scope_key, key, liveness)
    if row is None or not _may_take_over(row, request_hash, abandoned):
        return Claim(stored=row)
    # An open claim whose process exited, or a minute old, is taken over
    # with its recorded writes, which the request replays instead of
    # rerunning. Without recorded writes the request runs afresh, so its own
    # body counts. The new created_at and owner make concurrent repeats wait,
    # and the created_at condition lets one of them win when two race.
    # A created_at that differs from the one seen, so the first request's fence no longer matches.
    now = max(now, row["created_at"] + 1)
    taken = tx.one(
        "UPDATE idempotency_keys SET created_at = :now, owner = :owner, request_hash = :hash "
        "WHERE scope = :scope AND key = :key AND status_code IS NULL AND created_at = :seen "
        "AND (write_results IS NULL OR request_hash = :hash) RETURNING write_results",
        now=now,
        owner=owner,
        hash=request_hash,
        scope=scope_key,
        key=key,
        seen=row["created_at"],
    )
    if taken is None:
        return Claim(stored=_lookup(tx, scope_key, key, liveness))
    recorded = json.loads(taken["write_results"]) if taken["write_results"] else []
    return Claim(
        recorded=recorded,
        taken_over=True,
        previous_owner=row["owner"],
        fence=Fence(owner or "", now),
    )


def _may_take_over(row: dict[str, Any], request_hash: str, abandoned: int) -> bool:
    if row["status_code"] is not None:
        return False
    if row["has_writes"] and row["request_hash"] != request_hash:
        # Recorded writes belong to the first body, so another body is a 409.
        return False
    return bool(row["holder_gone"]) or row["created_at"] < abandoned


# An open claim this old is taken over even when its process still runs,
# because that process lost track of it, or the claim names no process.
ABANDONED_MS = 60_000

# Statuses that reject the attempt rather than the request: a rate limit, or
# an invalid body, size or media type. Storing one would make a retry after
# Retry-After, or with a corrected body, fail for the 24 hours of the key.
_RETRYABLE = frozenset({400, 413, 415, 429})


def _release(tx: Tx, scope_key: str, key: str, fence: Fence | None) -> None:
    """Give up an open claim whose request ended without a response to store.

    Without committed writes the claim is dropped, so a retry runs afresh.
    With them it is marked abandoned, so a retry takes it over at once and
    replays the writes instead of waiting for the claim to age.
    """
    fenced = f" {Fence.SQL}" if fence is not None else ""
    fence_params = fence.params() if fence is not None else {}
    tx.execute(
        "DELETE FROM idempotency_keys WHERE scope = :scope AND key = :key "
        "AND status_code IS NULL AND write_results IS NULL" + fenced,
        scope=scope_key,
        key=key,
        **fence_params,
    )
    tx.execute(
        "UPDATE idempotency_keys SET created_at = :abandoned WHERE scope = :scope AND key = :key "
        "AND status_code IS NULL AND write_results IS NOT NULL" + fenced,
        abandoned=clock.now_ms() - ABANDONED_MS - 1,
        scope=scope_key,
        key=key,
        **fence_params,
    )


# How long a response that could not be stored is retried in the background.
# It stays below ABANDONED_MS, after which a retry may resume the claim.
SETTLE_RETRY_SECONDS = 50.0

# Strong references to the background settles, which asyncio does not keep.
_settling: set[asyncio.Task[None]] = set()


def _settle_later(
    settle: Callable[..., Any],
    db: Any,
    scope_key: str,
    key: str,
    captured: dict[str, Any],
    request_id: str | None,
) -> None:
    """Retry ``settle`` with growing pauses until the database takes it."""

    async def retry() -> None:
        deadline = time.monotonic() + SETTLE_RETRY_SECONDS
        pause = 0.1
        while time.monotonic() < deadline:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
            try:
                await settle(db, scope_key, key, captured)
            except ServiceUnavailable:
                continue
            log.info("idempotent response stored after retries", extra={"request_id": request_id})
            return
        # NOTE: a retry of the request resumes the claim once it is a minute old.
        log.error(
            "idempotent response not stored; the database stayed unavailable",
            extra={"seconds": SETTLE_RETRY_SECONDS, "request_id": request_id},
        )

    task = asyncio.get_running_loop().create_task(retry())
    _settling.add(task)
    task.add_done_callback(_settling.discard)


def _complete(
    tx: Tx,
    scope_key: str,
    key: str,
    status: int,
    body: bytes,
    headers: dict[str, str],
    fence: Fence | None,
) -> None:
    # A request whose claim a retry took over stores nothing: the retry stores its own.
    tx.execute(
        "UPDATE idempotency_keys SET status_code = :status, response_body = :body, "
        "response_headers = :headers, write_results = NULL "
        "WHERE scope = :scope AND key = :key AND status_code IS NULL"
        + (f" {Fence.SQL}" if fence is not None else ""),
        status=status,
        body=body,
        headers=json.dumps(headers),
        scope=scope_key,
        key=key,
        **(fence.params() if fence is not None else {}),
    )


class RequestJournal:
    """The write journal of one idempotent request (see ``db/journal.py``).

    ``recorded`` contains the encoded results of the writes that committed so
    far, from this attempt or an earlier one. The first ``len(recorded)``
    writes of a resumed attempt return their results from it and do not run.
    """

    def __init__(
        self, scope_key: str, key: str, recorded: list[Any], fence: Fence | None = None
    ) -> None:
        self._task = asyncio.current_task()
        self._scope_key = scope_key
        self._key = key
        self._fence = fence
        self._recorded = list(recorded)
        self._position = 0
        self._pending: Any = None
        self._unrecordable = False
        self._closed = False
        self.replayed_writes = 0

    def applies(self) -> bool:
        if self._closed or self._unrecordable:
            return False
        return owned_by_current_task(self._task)

    def close(self) -> None:
        """Stop journaling, once the response is settled."""
        self._closed = True

    def replayed(self) -> tuple[bool, Any]:
        if self._position >= len(self._recorded):
            return False, None
        result = write_results.decode(self._recorded[self._position])
        self._position += 1
        self.replayed_writes += 1
        return True, result

    def wrap(self, work: Callable[[Tx], Any]) -> Callable[[Tx], Any]:
        def recorded_work(tx: Tx) -> Any:
            result = work(tx)
            try:
                document = write_results.encode(result)
            except TypeError as error:
                # NOTE: such a write is not journaled, so a retry after a crash
                # between it and the stored response runs it again.
                self._unrecordable = True
                tx.log(log.warning, "write result not recorded", extra={"error": str(error)})
                return result
            self._pending = document
            if self._fence is None:
                tx.send(
                    "UPDATE idempotency_keys SET write_results = :results "
                    "WHERE scope = :scope AND key = :key",
                    results=json.dumps([*self._recorded, document]),
                    scope=self._scope_key,
                    key=self._key,
                )
                return result
            recorded = tx.send_counted(
                "UPDATE idempotency_keys SET write_results = :results "
                f"WHERE scope = :scope AND key = :key AND status_code IS NULL {Fence.SQL}",
                results=json.dumps([*self._recorded, document]),
                scope=self._scope_key,
                key=self._key,
                **self._fence.params(),
            )

            def still_held() -> None:
                # A retry took the claim over while this request ran, so this
                # write rolls back, and the retry makes it once.
                if recorded.get() == 0:
                    raise _taken_over(self._key)

            tx.before_commit(still_held)
            return result

        return recorded_work

    def committed(self, result: Any) -> None:
        if self._pending is not None:
            self._recorded.append(self._pending)
            self._pending = None
        self._position += 1
