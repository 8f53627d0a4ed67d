"""The error envelope for requests that the HTTP parser rejects before the app receives them.

uvicorn responds to a request whose framing it cannot parse (a 20-digit or
non-numeric ``Content-Length``, a header name with a space, a broken chunk
size, a garbled request line) with its own plain-text 400 and closes the
connection, so the ASGI app is never called. These protocol classes keep
uvicorn's parsing and replace only that response with the JSON envelope
and an ``X-Request-ID``. ``head_limits.py`` builds the classes that
``uvicorn.run(http=...)`` takes on top of them. They override
``send_400_response``, the method that uvicorn 0.55 calls for a parser
error.

A request line with an HTTP version other than 1.0 and 1.1 gets 505 in the
envelope. A rejected request that was pipelined behind others (sent before
their responses) gets its response after theirs (``InOrderRejection``).

They also check a WebSocket handshake before uvicorn upgrades the
connection (``websocket_handshake.py``), so one that fails the checks
reaches the request pipeline as an HTTP request and gets the envelope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .. import ids
from ..errors import HttpVersionNotSupported, ServiceError, ValidationFailed
from .access_log import (
    REJECTION_REASON,
    SERVER_RESPONSE_STATUS,
    claim_request_id,
    record_unparsed_request,
)
from .errors import error_body
from .header_checks import find_control_character_in_head
from .websocket_handshake import handshake_error, requests_websocket

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed; uvicorn then parses with h11
    HttpToolsProtocol = None  # type: ignore[assignment, misc]

_HINT = (
    "check the request line, the headers and the Content-Length or chunked body "
    "that your client sends"
)


def _not_http11(reason: str | None) -> ValidationFailed:
    detail = f" ({reason})" if reason else ""
    return ValidationFailed(
        f"the request is not valid HTTP/1.1{detail}; {_HINT}",
        field="request",
        value=None,
        expected="an HTTP/1.1 request with a well-formed request line, headers and framing",
    )


def _envelope(request_id: str, reason: str | None) -> bytes:
    return error_body(_not_http11(reason), request_id)


# The HTTP versions that the server speaks. llhttp also parses HTTP/2.0, and
# h11 parses any digit.digit version. Those requests get 505.
SUPPORTED_VERSIONS = ("1.0", "1.1")
# The version llhttp reports both for "HTTP/0.9" and for a request line
# without a version. h11 rejects a line without a version as invalid
# HTTP/1.1, so both parsers respond 400 to it, and 505 to "HTTP/0.9".
NO_VERSION = "0.9"


def rejection_response(error: ServiceError, request_id: str) -> bytes:
    """Return the bytes of a response with ``error``'s envelope that closes the connection."""
    body = error_body(error, request_id)
    status = error.http_status
    head = [
        b"HTTP/1.1 %d %s\r\n" % (status, HTTPStatus(status).phrase.encode()),
        b"content-type: application/json\r\n",
        b"content-length: %d\r\n" % len(body),
        b"x-request-id: " + request_id.encode() + b"\r\n",
        b"connection: close\r\n",
        b"\r\n",
    ]
    return b"".join(head) + body


class UnsupportedVersion(Exception):
    """Raised from the parser to stop reading a request rejected for its HTTP version."""


def _claim_rejection(
    cycle: Any, body_pending: bool, reason: str | None, record: Callable[[int, str, str], None]
) -> str | None:
    """Return the request id for the 400 of a parser error, or None when no 400 may be sent.

    A parser error in the body of a request that the application is
    handling takes that request's id, and its status is stored for the
    pipeline's log line and metrics, with ``reason``. A request whose response has started,
    or was sent while its body was still arriving, gets no second response.
    Any other error, such as in the head of a new request, gets a new id
    and its own log line through ``record``.
    """
    if cycle is not None and body_pending:
        if cycle.response_started:
            return None
        request_id = claim_request_id(cycle.scope)
        state = cycle.scope["state"]
        state[SERVER_RESPONSE_STATUS] = 400
        state[REJECTION_REASON] = _logged_reason(reason)
        return request_id
    request_id = ids.new("request")
    record(400, request_id, _logged_reason(reason))
    return request_id


# llhttp's reasons (httptools 0.6) for the faults that clients send most often,
# in this API's words. Other reasons are left out of the message, because
# llhttp's text names its internals, such as "Expected HTTP/, RTSP/ or ICE/".
_PARSER_REASONS = {
    "Invalid character in Content-Length": "its Content-Length is not a decimal number",
    "Content-Length overflow": "its Content-Length is too large",
    "Duplicate Content-Length": "it has more than one Content-Length header",
    "Transfer-Encoding can't be present with Content-Length": (
        "it has both Transfer-Encoding and Content-Length"
    ),
    "Invalid `Transfer-Encoding` header value": "its Transfer-Encoding does not end with chunked",
    "Invalid character in chunk size": "a chunk size of its body is not a hexadecimal number",
    "Expected LF after chunk data": "a chunk of its body is longer than its chunk size",
    "Invalid method encountered": "its request line does not start with a method",
    "Expected HTTP/, RTSP/ or ICE/": (
        "its request line has a space in the target or no HTTP version after it"
    ),
    "Expected CRLF after version": "its request line does not end with CRLF",
    "Invalid header token": "a header name contains a space or a character not allowed in names",
    "Invalid header value char": "a header value contains a control character",
}


# llhttp's reason for a header value with a control character other than tab.
_CONTROL_CHARACTER = "Invalid header value char"


def _reason(error: BaseException | None) -> str | None:
    """Return the fault that the parser found, in this API's words, or None for another fault."""
    return _PARSER_REASONS.get(str(error or "").strip())


def _logged_reason(reason: str | None) -> str:
    return f"invalid HTTP/1.1 request ({reason})" if reason else "invalid HTTP/1.1 request"


def _h11_reason(error: BaseException | None) -> str | None:
    """Return h11's description of the fault without the bytes that it quotes.

    h11 0.16 appends the offending bytes to some messages, as in
    ``illegal header line: b'...'``, and those bytes may contain a credential.
    """
    text = str(error or "")
    for marker in (":", " b'", ' b"', " bytearray("):
        text = text.partition(marker)[0]
    return _printable(text)


def _printable(text: str) -> str | None:
    text = text.strip()
    if not text or len(text) > 120 or not text.isascii() or not text.isprintable():
        return None
    return text


# The parser methods that uvicorn's protocol calls for every request. They
# are bound on the wrapper itself, because a lookup that falls through to
# ``__getattr__`` first raises and catches an AttributeError.
_PARSER_METHODS = (
    "get_http_version",
    "get_method",
    "should_keep_alive",
    "should_upgrade",
)


class _RecordingParser:
    """Delegate to httptools' parser and remember the error it raises."""

    def __init__(self, parser: Any) -> None:
        self._parser = parser
        self.error: BaseException | None = None
        # The bytes being parsed, so that a callback can look at what follows its span.
        self.chunk = b""
        for name in _PARSER_METHODS:
            setattr(self, name, getattr(parser, name))

    def feed_data(self, data: bytes) -> None:
        self.chunk = data
        try:
            self._parser.feed_data(data)
        except Exception as error:
            self.error = error
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class InOrderRejection:
    """A mixin that sends a rejection only after the responses to the requests before it.

    A client may pipeline requests: send the next one before the response
    to the previous one. The parser may then reject a later request while
    the application still handles an earlier one. Its rejection waits
    until that response is sent, then goes out, and the connection closes.
    Bytes that arrive meanwhile are dropped. Its access line waits as well,
    so the lines follow the order of the requests.
    """

    transport: Any
    cycle: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred_rejection: bytes | None = None
        self._deferred_lines: list[tuple[int, str, str]] = []

    def _responses_pending(self) -> bool:
        # uvicorn's ``cycle`` is the latest request's, and responses go out in order.
        return self.cycle is not None and not self.cycle.response_complete

    def _record_unparsed(self, status: int, request_id: str, reason: str) -> None:
        """Write the access line of a rejected request, after those of the requests before it."""
        self._deferred_lines.append((status, request_id, reason))
        if not self._responses_pending():
            self._flush_lines_after_task()

    def _flush_lines_after_task(self) -> None:
        """Write the deferred lines once the running request task, if any, has ended.

        The request pipeline writes a request's line at the end of its task,
        and that task sends the response whose completion lets the parser
        read the next request, or lets a deferred rejection go out.
        """
        task = asyncio.current_task()
        if task is None:
            self._flush_lines()
        else:
            task.add_done_callback(lambda _: self._flush_lines())

    def _flush_lines(self) -> None:
        lines, self._deferred_lines = self._deferred_lines, []
        for status, request_id, reason in lines:
            record_unparsed_request(status, request_id, reason)

    def _send_rejection(self, response: bytes, *, of_latest_request: bool = False) -> None:
        """Write ``response`` and close, or hold it until the pending responses are sent.

        ``of_latest_request`` marks the response to the request whose body
        the parser rejected, which goes out at once in place of the
        application's.
        """
        if self._responses_pending() and not of_latest_request:
            self._deferred_rejection = response
            return
        self.transport.write(response)
        self.transport.close()

    def _reject_version(self, version: str | None) -> None:
        """Respond 505 to a request with an HTTP version other than 1.0 and 1.1.

        ``version`` is None when the parser rejected the version without
        returning it.
        """
        request_id = ids.new("request")
        sent = f"HTTP/{version}" if version is not None else None
        reason = f"{sent or 'the HTTP version'} is not supported"
        self._record_unparsed(505, request_id, reason)
        error = HttpVersionNotSupported(
            f"{sent or 'the HTTP version of the request'} is not supported; "
            "send the request as HTTP/1.1",
            details={"field": "request", "value": sent, "expected": "HTTP/1.1"},
        )
        self._send_rejection(rejection_response(error, request_id))

    def _rejection_started(self) -> bool:
        return self._deferred_rejection is not None or self.transport.is_closing()

    def data_received(self, data: bytes) -> None:
        if self._deferred_rejection is not None:
            return
        super().data_received(data)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        response = self._deferred_rejection
        if response is not None and not self._responses_pending():
            self._deferred_rejection = None
            # A response that closed the connection ends it without the rejection.
            if not self.transport.is_closing():
                self.transport.write(response)
                self.transport.close()
        if self._deferred_lines and not self._responses_pending():
            self._flush_lines_after_task()
        super().on_response_complete()  # type: ignore[misc]

    def connection_lost(self, exc: Exception | None) -> None:
        # A request rejected behind a response that never completed still
        # gets its line, possibly before the line of that earlier request.
        if self._deferred_lines and self._responses_pending():
            self._flush_lines()
        super().connection_lost(exc)  # type: ignore[misc]


class EnvelopeH11Protocol(InOrderRejection, H11Protocol):
    def _should_upgrade(self) -> bool:
        # A handshake that fails the checks stays an HTTP request, and the
        # request pipeline sends its error envelope.
        return super()._should_upgrade() and handshake_error(self.scope) is None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._error_in_body = False
        self._parser_error: h11.RemoteProtocolError | None = None
        self._next_event = self.conn.next_event
        self.conn.next_event = self._record_next_event  # type: ignore[method-assign]

    def _record_next_event(self) -> Any:
        # h11 moves the client's state to ERROR on a parser error, so the
        # state before the error is checked here: SEND_BODY means a body error.
        state = self.conn.their_state
        try:
            event = self._next_event()
        except h11.RemoteProtocolError as error:
            self._error_in_body = state is h11.SEND_BODY
            self._parser_error = error
            raise
        if isinstance(event, h11.Request):
            version = event.http_version.decode("ascii")
            if version not in SUPPORTED_VERSIONS:
                self._reject_version(version)
                # uvicorn stops reading on a parser error, and sends no
                # second response once the 505 is out.
                raise h11.RemoteProtocolError(f"unsupported HTTP/{version}")
        return event

    def _body_pending(self) -> bool:
        """Return True while the parser still expects body bytes of the current request."""
        return self.conn.their_state is h11.SEND_BODY or self._error_in_body

    def send_400_response(self, msg: str) -> None:
        if self._rejection_started():
            return
        in_body = self._body_pending()
        request_id = _claim_rejection(
            self.cycle, in_body, _h11_reason(self._parser_error), self._record_unparsed
        )
        if request_id is None:
            self.transport.close()
            return
        body = _envelope(request_id, None)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", request_id.encode()),
            (b"connection", b"close"),
        ]
        response = h11.Response(status_code=400, headers=headers, reason=b"Bad Request")
        self._send_rejection(
            self.conn.send(response)
            + self.conn.send(h11.Data(data=body))
            + self.conn.send(h11.EndOfMessage()),
            of_latest_request=in_body,
        )
        if in_body and self.cycle is not None:
            # The 400 took the place of the application's response, and h11
            # raises LocalProtocolError on a second one. uvicorn's cycle drops
            # the sends of a disconnected client, and its receive returns
            # http.disconnect, as after the connection closes.
            self.cycle.disconnected = True


if HttpToolsProtocol is not None:

    class EnvelopeHttpToolsProtocol(InOrderRejection, HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.parser = _RecordingParser(self.parser)  # type: ignore[assignment]
            self._head_open = False
            self._body_open = False
            self._cycle_before_latest: Any = None
            # The chunk that contained the end of the request target, and that end.
            self._target_end: tuple[bytes, bytes] = (b"", b"")

        def on_url(self, url: bytes) -> None:
            self._target_end = (self.parser.chunk, url)
            super().on_url(url)

        def _lacks_version(self) -> bool:
            """Tell whether the request line ends right after its target, with no version.

            NOTE: when a read ends right after the target, the line counts as
            having a version. A later pipelined request with the same target
            in the same read is the one looked at.
            """
            chunk, piece = self._target_end
            if not piece:
                return False
            end = chunk.rfind(piece) + len(piece)
            return chunk[end : end + 1] in (b"\r", b"\n")

        def on_message_begin(self) -> None:
            self._head_open = True
            super().on_message_begin()

        def on_message_complete(self) -> None:
            # uvicorn ignores the end of a request whose response is already sent.
            self._body_open = False
            super().on_message_complete()

        def _body_pending(self) -> bool:
            """Return True while the parser still expects body bytes of the latest request."""
            return self._body_open

        def _should_upgrade(self) -> bool:
            # A handshake that fails the checks stays an HTTP request, and the
            # request pipeline sends its error envelope.
            return super()._should_upgrade() and handshake_error(self.scope) is None

        def on_headers_complete(self) -> None:
            version = self.parser.get_http_version()
            if version == NO_VERSION and self._lacks_version():
                request_id = ids.new("request")
                self._record_unparsed(400, request_id, _logged_reason(None))
                self._send_rejection(rejection_response(_not_http11(None), request_id))
                # The exception makes the parser raise, so uvicorn stops reading.
                raise UnsupportedVersion(version)
            if version not in SUPPORTED_VERSIONS:
                self._reject_version(version)
                # The exception makes the parser raise, so uvicorn stops reading.
                raise UnsupportedVersion(version)
            self._head_open = False
            self._body_open = True
            self._cycle_before_latest = self.cycle
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not None and cycle.scope is self.scope and self.parser.should_upgrade():
                # The parser reads nothing after a request with an Upgrade
                # header, so the connection closes after the response.
                cycle.keep_alive = False

        def _unsupported_upgrade_warning(self) -> None:
            if not requests_websocket(self.headers):
                super()._unsupported_upgrade_warning()

        def send_400_response(self, msg: str) -> None:
            if self._rejection_started():
                return
            cycle = self.cycle
            in_body = self._body_pending()
            parser_error = getattr(self.parser, "error", None)
            if str(parser_error).strip() == "Invalid HTTP version" and not in_body:
                # llhttp rejects a digit.digit version other than 0.9, 1.0,
                # 1.1 and 2.0 without returning it.
                self._reject_version(None)
                return
            # The log line keeps llhttp's own text, which names the fault exactly.
            reason = _printable(str(parser_error or ""))
            header_error = None
            if str(parser_error).strip() == _CONTROL_CHARACTER and not in_body:
                header_error = find_control_character_in_head(self.parser.chunk)
            if header_error is not None:
                reason = header_error.message
            if in_body and self._drop_queued(cycle):
                # The application never saw this request, so it is logged here,
                # and its 400 waits for the responses before it.
                request_id = claim_request_id(cycle.scope)
                self.cycle = self._cycle_before_latest
                self._record_unparsed(400, request_id, _logged_reason(reason))
                in_body = False
            else:
                request_id = _claim_rejection(cycle, in_body, reason, self._record_unparsed)
            if request_id is None:
                self.transport.close()
                return
            if header_error is not None:
                body = error_body(header_error, request_id)
            else:
                body = _envelope(request_id, _reason(parser_error))
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            for name, value in self.server_state.default_headers:
                head.append(name + b": " + value + b"\r\n")
            head += [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode() + b"\r\n",
                b"x-request-id: " + request_id.encode() + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
            ]
            self._send_rejection(b"".join(head) + body, of_latest_request=in_body)

        def _drop_queued(self, cycle: Any) -> bool:
            """Remove ``cycle`` from the queued requests; return whether it was queued."""
            for index, (queued, _) in enumerate(self.pipeline):
                if queued is cycle:
                    del self.pipeline[index]
                    return True
            return False
