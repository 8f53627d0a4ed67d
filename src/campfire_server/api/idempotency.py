"""Idempotent POSTs: a repeated ``Idempotency-Key`` gets the first response."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import clock
from ..errors import Conflict, ServiceError, ValidationFailed
from .middleware import _header, send_error


class IdempotencyMiddleware:
    """Answer a repeated POST with the same ``Idempotency-Key`` with the first response.

    The key is scoped to the credential that sent it and kept for 24 hours.
    A repeat with a different body is a 409. A repeat that arrives while the
    first request is still running waits for it. A first request that ended
    in a 5xx leaves nothing behind, so the retry runs for real.
    """

    WINDOW_MS = 24 * 3600 * 1000
    WAIT_SECONDS = 10.0

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _header(scope, b"idempotency-key") if scope["type"] == "http" else None
        authorization = _header(scope, b"authorization")
        if key is None or scope["method"] != "POST" or not authorization:
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id")
        if not 1 <= len(key) <= 255:
            await send_error(
                send,
                ValidationFailed(
                    "Idempotency-Key must be 1 to 255 characters",
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
            scope["method"].encode() + b" " + scope["path"].encode() + b"\n" + body
        ).hexdigest()

        stored = await db.write(lambda tx: _claim(tx, scope_key, key, request_hash))
        if stored is not None:
            try:
                await self._replay(db, send, scope_key, key, request_hash, stored, request_id)
            except ServiceError as error:
                await send_error(send, error, request_id)
            return

        captured: dict[str, Any] = {"status": 500, "headers": [], "body": []}

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = message.get("headers", [])
            elif message["type"] == "http.response.body":
                captured["body"].append(message.get("body", b""))
            await send(message)

        # NOTE: the key is completed in its own transaction after the request's
        # own commit. A crash between the two leaves the key open, so a retry
        # after the minute that marks it abandoned runs the request again.
        try:
            await self.app(scope, receive, capture)
        finally:
            status = captured["status"]
            if status >= 500:
                await db.write(lambda tx: _release(tx, scope_key, key))
            else:
                headers = {
                    k.decode(): v.decode()
                    for k, v in captured["headers"]
                    if k.lower() in (b"content-type", b"location")
                }
                response_body = b"".join(captured["body"])
                await db.write(
                    lambda tx: _complete(tx, scope_key, key, status, response_body, headers)
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
    ) -> None:
        if stored["request_hash"] != request_hash:
            raise Conflict(
                "this Idempotency-Key was already used with a different request; "
                "use a new key for a new request",
                code="IDEMPOTENCY_KEY_REUSED",
                details={"field": "Idempotency-Key"},
            )
        deadline = time.monotonic() + self.WAIT_SECONDS
        while stored["status_code"] is None:
            if time.monotonic() > deadline:
                raise Conflict(
                    "a request with this Idempotency-Key is still being processed; retry later",
                    code="IDEMPOTENCY_IN_PROGRESS",
                    headers={"Retry-After": "1"},
                )
            await asyncio.sleep(0.02)
            row = await db.lookup(lambda tx: _lookup(tx, scope_key, key))
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


def _lookup(tx: Any, scope_key: str, key: str) -> dict[str, Any] | None:
    return tx.one(
        "SELECT request_hash, status_code, response_body, response_headers, created_at "
        "FROM idempotency_keys WHERE scope = :scope AND key = :key",
        scope=scope_key,
        key=key,
    )


def _claim(tx: Any, scope_key: str, key: str, request_hash: str) -> dict[str, Any] | None:
    """Claim ``key`` for this request; return the row of a request that claimed it first."""
    now = clock.now_ms()
    # A completed key expires after the window; a claim still open after a
    # minute belongs to a process that crashed mid-request.
    tx.execute(
        "DELETE FROM idempotency_keys WHERE scope = :scope AND key = :key AND "
        "(created_at < :cutoff OR (status_code IS NULL AND created_at < :abandoned))",
        scope=scope_key,
        key=key,
        cutoff=now - IdempotencyMiddleware.WINDOW_MS,
        abandoned=now - 60_000,
    )
    inserted = tx.execute(
        "INSERT INTO idempotency_keys (scope, key, request_hash, created_at) "
        "VALUES (:scope, :key, :hash, :now) ON CONFLICT (scope, key) DO NOTHING",
        scope=scope_key,
        key=key,
        hash=request_hash,
        now=now,
    )
    if inserted:
        return None
    return _lookup(tx, scope_key, key)


def _release(tx: Any, scope_key: str, key: str) -> None:
    tx.execute(
        "DELETE FROM idempotency_keys WHERE scope = :scope AND key = :key AND status_code IS NULL",
        scope=scope_key,
        key=key,
    )


def _complete(
    tx: Any, scope_key: str, key: str, status: int, body: bytes, headers: dict[str, str]
) -> None:
    tx.execute(
        "UPDATE idempotency_keys SET status_code = :status, response_body = :body, "
        "response_headers = :headers WHERE scope = :scope AND key = :key",
        status=status,
        body=body,
        headers=json.dumps(headers),
        scope=scope_key,
        key=key,
    )
