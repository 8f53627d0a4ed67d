"""Pure ASGI middleware: request ids and logs, body limits and JSON checks."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import ids, json_numbers
from ..errors import (
    PayloadTooLarge,
    RequestTimeout,
    ServiceError,
    ValidationFailed,
)
from ..logs import request_id_var
from ..monitoring import metrics
from ..validation import find_bad_text
from .body_encoding import check_content_coding, check_media_type, check_utf8_start
from .errors import error_body
from .route_table import template_for

log = logging.getLogger("campfire_server.access")
error_log = logging.getLogger(__name__)

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}


async def send_error(
    send: Send, error: ServiceError, request_id: str | None, *, close: bool = False
) -> None:
    """Send ``error`` in the envelope; ``close`` ends the connection after the response."""
    body = error_body(error, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    headers += [(key.lower().encode(), value.encode()) for key, value in error.headers.items()]
    await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def route_template(scope: Scope) -> str:
    """Return the matched route's path template with its router prefix, e.g. ``/api/v2/x/{id}``.

    A route included with a prefix matches the rest of the path and carries
    only its own template, so the prefix is recovered from the request path.
    A response sent before routing, such as an idempotent replay or a
    rejected body, names the template of its path from the route table.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not template:
        return template_for(scope) or "<unmatched>"
    path: str = scope.get("path", "")
    regex = getattr(route, "path_regex", None)
    if regex is None or regex.match(path):
        return template
    for index, char in enumerate(path):
        if char == "/" and index and regex.match(path[index:]):
            return path[:index] + template
    return template


class RequestContextMiddleware:
    """Give every request an id, log one line for it, and send a 500 envelope on escaped errors."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        supplied = _header(scope, b"x-request-id")
        request_id = (
            supplied if supplied and _SANE_REQUEST_ID.match(supplied) else ids.new("request")
        )
        token = request_id_var.set(request_id)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                status["sent"] = True
                headers = list(message.get("headers", []))
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_log.exception(
                "unhandled error", extra={"method": scope.get("method"), "path": scope["path"]}
            )
            if scope["type"] == "http" and not status["sent"]:
                await send_error(
                    send_with_id,
                    ServiceError(
                        "an internal error occurred; quote the request id when reporting it"
                    ),
                    request_id,
                )
        finally:
            request_id_var.reset(token)
            if scope["type"] == "http":
                route = route_template(scope)
                metrics.observe_request(
                    scope.get("method", ""), route, status["code"], time.perf_counter() - started
                )
                log.info(
                    "request",
                    extra={
                        "method": scope.get("method"),
                        "route": route,
                        "status": status["code"],
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        "request_id": request_id,
                        "organization_id": scope.get("state", {}).get("organization_id"),
                    },
                )


async def read_body(receive: Receive, limit: int, idle_timeout: float | None = None) -> bytes:
    """Read the whole body, allowing at most ``idle_timeout`` seconds between its parts."""
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), idle_timeout)
        except TimeoutError:
            # The rest of the body may still arrive, and would be read as the
            # next request, so the server closes the connection.
            raise RequestTimeout(
                f"the request body stopped arriving for {idle_timeout:g} seconds after "
                f"{size} bytes, so the connection is closed; send the whole body (as its "
                "Content-Length says) without pausing, on a new connection",
                details={"received": size, "idleTimeoutSeconds": idle_timeout},
                headers={"Connection": "close"},
            ) from None
        if message["type"] == "http.disconnect":
            raise ConnectionError("client disconnected while sending the body")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"the request body exceeds the limit of {limit} bytes",
                details={"limit": limit},
            )
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def check_json_body(body: bytes) -> Any:
    """Parse ``body`` and reject text and numbers that the stores cannot keep intact."""
    try:
        document = json_numbers.loads(body)
    except UnicodeDecodeError as error:
        raise ValidationFailed(
            f"the request body is not valid UTF-8 (error at byte {error.start})",
            field="body",
            value=None,
            expected="a valid JSON document encoded as UTF-8",
        ) from None
    except ValueError as error:
        position = getattr(error, "pos", None)
        reason = f" (error at byte {position})" if position is not None else ""
        raise ValidationFailed(
            "the request body is not valid JSON" + reason,
            field="body",
            value=None,
            expected="a valid JSON document encoded as UTF-8",
        ) from None
    bad = find_bad_text(document)
    if bad is not None:
        path, expected = bad
        raise ValidationFailed(
            f"{path or 'body'} contains a character that cannot be stored",
            field=path or "body",
            value=None,
            expected=expected,
        )
    return document


def find_nul_in_url(scope: Scope) -> str | None:
    """Return ``"path"`` or the query parameter whose decoded text contains NUL, or None.

    PostgreSQL text cannot contain NUL, so such an id or filter would fail
    in the driver instead of matching nothing.
    """
    if "\x00" in scope["path"]:
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "\\x00")
    return None


def _check_transfer_coding(scope: Scope) -> None:
    """Raise ``ValidationFailed`` unless the body is sent plainly or with ``chunked`` alone.

    The HTTP parser decodes only ``chunked``; a body under any other coding,
    such as gzip, would otherwise be read as if it were not encoded.
    """
    codings = [
        coding.strip().lower()
        for key, value in scope.get("headers", ())
        if key == b"transfer-encoding"
        for coding in value.decode("latin-1").split(",")
        if coding.strip()
    ]
    if codings and codings != ["chunked"]:
        shown = ", ".join(codings)
        raise ValidationFailed(
            f"Transfer-Encoding {shown!r} is not supported",
            field="Transfer-Encoding",
            value=shown,
            expected="chunked alone, or no Transfer-Encoding and a Content-Length",
        )


class BodyGuardMiddleware:
    """Enforce the size limit, the JSON media type and well-formed JSON before routing.

    It also rejects a NUL in the path or the query string, on every method.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, idle_timeout: float = 30.0) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.idle_timeout = idle_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id")
        part = find_nul_in_url(scope)
        if part is not None:
            error = ValidationFailed(
                f"{part} contains a NUL (U+0000) character",
                field=part,
                value=None,
                expected="text without NUL (U+0000) characters",
            )
            await send_error(send, error, request_id)
            return
        if scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        body_read = False
        try:
            _check_transfer_coding(scope)
            check_content_coding(scope.get("headers", ()))
            declared = _header(scope, b"content-length")
            if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
                raise PayloadTooLarge(
                    f"the request body of {declared} bytes exceeds the limit of "
                    f"{self.max_body_bytes} bytes",
                    details={"limit": self.max_body_bytes},
                )
            body = await read_body(receive, self.max_body_bytes, self.idle_timeout)
            body_read = True
            if body.strip():
                check_media_type(_header(scope, b"content-type"))
                check_utf8_start(body)
                scope.setdefault("state", {})["json_body"] = check_json_body(body)
        except ServiceError as error:
            # The unread rest of a body may be large or never end, so the
            # connection closes instead of reading it before the next request.
            await send_error(send, error, request_id, close=not body_read)
            return
        except ConnectionError:
            return
        scope.setdefault("state", {})["raw_body"] = body
        await self.app(scope, replay(body), send)
