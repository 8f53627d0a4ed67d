"""Helpers of the request pipeline: error responses, header lookup and the body checks."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

from starlette.types import Message, Receive, Scope, Send

from .. import json_numbers
from ..errors import (
    PayloadTooLarge,
    RequestTimeout,
    ServiceError,
    ValidationFailed,
    shown_text,
)
from ..validation import find_bad_text
from .body_encoding import check_content_coding, check_media_type, check_utf8_start
from .errors import error_body


async def send_error(
    send: Send, error: ServiceError, request_id: str | None, *, close: bool = False
) -> None:
    """Send ``error`` in the envelope; ``close`` ends the connection after the response."""
    body = error_body(error, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    error_headers = dict(error.headers)
    if close:
        # One Connection header, such as "Upgrade, close" on a 426.
        options = [error_headers.pop("Connection")] if "Connection" in error_headers else []
        headers.append((b"connection", ", ".join([*options, "close"]).encode()))
    headers += [(key.lower().encode(), value.encode()) for key, value in error_headers.items()]
    await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


@dataclass(frozen=True, slots=True)
class DiscardLimits:
    """How much of an unread body a response sent before it discards before closing.

    A client that is still sending when the connection closes may get a
    reset instead of the response, so a client that sent less than
    ``max_bytes`` within ``max_seconds`` still reads it.
    """

    max_bytes: int = 4 * 1024 * 1024
    max_seconds: float = 1.0


DEFAULT_DISCARD_LIMITS = DiscardLimits()


async def send_error_before_body(
    send: Send,
    receive: Receive,
    error: ServiceError,
    request_id: str | None,
    limits: DiscardLimits = DEFAULT_DISCARD_LIMITS,
) -> None:
    """Send ``error`` and close the connection, discarding a bounded part of the body first.

    The response goes out at once, with its last (empty) part held back
    until the body has been discarded, because the connection closes when
    the response is complete.
    """
    body = error_body(error, request_id)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    headers += [(key.lower().encode(), value.encode()) for key, value in error.headers.items()]
    await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": True})
    await discard_body(receive, limits.max_bytes, limits.max_seconds)
    await send({"type": "http.response.body", "body": b""})


async def discard_body(receive: Receive, limit: int, seconds: float) -> int:
    """Read and drop the body until it ends, ``limit`` bytes or ``seconds``; return the size."""
    size = 0
    if limit <= 0 or seconds <= 0:
        return size
    try:
        async with asyncio.timeout(seconds):
            while size <= limit:
                message = await receive()
                if message["type"] == "http.disconnect":
                    break
                size += len(message.get("body", b""))
                if not message.get("more_body", False):
                    break
    except TimeoutError:
        pass
    return size


def may_have_body(scope: Scope) -> bool:
    """Tell whether the request declares a body, by ``Content-Length`` or ``Transfer-Encoding``."""
    for key, value in scope.get("headers", ()):
        if key == b"transfer-encoding" or (key == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


async def read_body(receive: Receive, limit: int, idle_timeout: float | None = None) -> bytes:
    """Read the whole body, allowing at most ``idle_timeout`` seconds between its parts."""
    chunks: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    # One timer for the whole body, moved on after each part, costs less
    # than a task per part under ``asyncio.wait_for``.
    try:
        async with asyncio.timeout(None) as idle:
            while True:
                if idle_timeout is not None:
                    idle.reschedule(loop.time() + idle_timeout)
                message = await receive()
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
    except TimeoutError:
        # The rest of the body may still arrive and would be read as the
        # next request, so the caller closes the connection.
        raise RequestTimeout(
            f"the request body stopped arriving for {idle_timeout:g} seconds after "
            f"{size} bytes, so the connection is closed; send the whole body (as its "
            "Content-Length says) without pausing, on a new connection",
            details={"received": size, "idleTimeoutSeconds": idle_timeout},
        ) from None


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
    # A UTF-8 body can hold NUL or a lone surrogate only as a ``\u`` escape,
    # because the strict parser rejects a raw control character and the UTF-8
    # decoder a raw surrogate. Other encodings of JSON contain NUL bytes.
    if b"\\u" not in body and b"\x00" not in body:
        return document
    bad = find_bad_text(document)
    if bad is not None:
        path, expected = bad
        raise ValidationFailed(
            f"{path or 'body'} contains a character that cannot be stored; remove it and "
            f"send {expected}",
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
    raw_query: bytes = scope.get("query_string", b"")
    if b"\x00" not in raw_query and b"%00" not in raw_query:
        return None
    query = raw_query.decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "\\x00")
    return None


URL_UTF8_EXPECTED = "percent-encoded UTF-8, such as %C3%A9 for \u00e9"


def find_invalid_utf8_in_url(scope: Scope) -> ValidationFailed | None:
    """Return an error for the path or a query parameter that is not UTF-8 once percent-decoded.

    The web server decodes such bytes to U+FFFD, so without this check
    ``?q=%ff`` would search for that character and ``/conversations/%ff``
    would look up an id that no client sent.
    """
    raw_path: bytes | None = scope.get("raw_path")
    if raw_path is not None and not _is_utf8(unquote_to_bytes(raw_path)):
        shown = raw_path.decode("latin-1")
        return ValidationFailed(
            f"the path {shown_text(shown)} is not valid UTF-8 once percent-decoded; "
            f"send {URL_UTF8_EXPECTED}",
            field="path",
            value=shown_text(shown),
            expected=URL_UTF8_EXPECTED,
        )
    raw_query: bytes = scope.get("query_string", b"")
    if b"%" not in raw_query and raw_query.isascii():
        return None
    for pair in raw_query.split(b"&"):
        raw_name, _, raw_value = pair.partition(b"=")
        name = unquote_to_bytes(raw_name.replace(b"+", b" "))
        if not _is_utf8(name):
            shown = raw_name.decode("latin-1")
            return ValidationFailed(
                f"the query parameter name {shown_text(shown)} is not valid UTF-8 once "
                f"percent-decoded; send {URL_UTF8_EXPECTED}",
                field=shown_text(shown),
                value=shown_text(shown),
                expected=URL_UTF8_EXPECTED,
            )
        if not _is_utf8(unquote_to_bytes(raw_value.replace(b"+", b" "))):
            field = name.decode("utf-8")
            shown = raw_value.decode("latin-1")
            return ValidationFailed(
                f"query parameter {field} {shown_text(shown)} is not valid UTF-8 once "
                f"percent-decoded; send {URL_UTF8_EXPECTED}",
                field=field,
                value=shown_text(shown),
                expected=URL_UTF8_EXPECTED,
            )
    return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


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


class BodyGuard:
    """The checks of a request body before routing: codings, size, media type, UTF-8, JSON.

    The parsed document goes to ``scope["state"]["json_body"]`` and the raw
    bytes to ``scope["state"]["raw_body"]``.
    """

    def __init__(self, max_body_bytes: int, idle_timeout: float | None = 30.0) -> None:
        self.max_body_bytes = max_body_bytes
        self.idle_timeout = idle_timeout

    async def read(self, scope: Scope, receive: Receive) -> bytes:
        """Read and check the body of ``scope``; raise ``ServiceError`` when it is rejected.

        Raises ``ConnectionError`` when the client disconnects before the
        body is complete.
        """
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
        state = scope.setdefault("state", {})
        # Set before the checks below: from here on the whole body was read.
        state["raw_body"] = body
        if body.strip():
            check_media_type(_header(scope, b"content-type"))
            check_utf8_start(body)
            state["json_body"] = check_json_body(body)
        return body
