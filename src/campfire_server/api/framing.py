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

They also check a WebSocket handshake before uvicorn upgrades the
connection (``websocket_handshake.py``), so one that fails the checks
reaches the request pipeline as an HTTP request and gets the envelope.
"""

from __future__ import annotations

from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .. import ids
from ..errors import ValidationFailed
from .access_log import SERVER_RESPONSE_STATUS, claim_request_id, record_unparsed_request
from .errors import error_body
from .websocket_handshake import handshake_error, requests_websocket

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed; uvicorn then parses with h11
    HttpToolsProtocol = None  # type: ignore[assignment, misc]

_HINT = (
    "check the request line, the headers and the Content-Length or chunked body "
    "that your client sends"
)


def _envelope(request_id: str, reason: str | None) -> bytes:
    detail = f" ({reason})" if reason else ""
    error = ValidationFailed(
        f"the request is not valid HTTP/1.1{detail}; {_HINT}",
        field="request",
        value=None,
        expected="an HTTP/1.1 request with a well-formed request line, headers and framing",
    )
    return error_body(error, request_id)


def _claim_rejection(cycle: Any, body_pending: bool) -> str | None:
    """Return the request id for the 400 of a parser error, or None when no 400 may be sent.

    A parser error in the body of a request that the application is
    handling takes that request's id, and its status is stored for the
    pipeline's log line and metrics. A request whose response has started,
    or was sent while its body was still arriving, gets no second response.
    Any other error, such as in the head of a new request, gets a new id
    and its own log line here.
    """
    if cycle is not None and (not cycle.response_complete or body_pending):
        if cycle.response_started:
            return None
        request_id = claim_request_id(cycle.scope)
        cycle.scope["state"][SERVER_RESPONSE_STATUS] = 400
        return request_id
    request_id = ids.new("request")
    record_unparsed_request(400, request_id)
    return request_id


def _reason(error: BaseException | None) -> str | None:
    """Return the parser's short description of the fault, if it gave a printable one."""
    text = str(error or "").strip()
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
        for name in _PARSER_METHODS:
            setattr(self, name, getattr(parser, name))

    def feed_data(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except Exception as error:
            self.error = error
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class EnvelopeH11Protocol(H11Protocol):
    def _should_upgrade(self) -> bool:
        # A handshake that fails the checks stays an HTTP request, and the
        # request pipeline sends its error envelope.
        return super()._should_upgrade() and handshake_error(self.scope) is None

    def _body_pending(self) -> bool:
        """Return True while the parser still expects body bytes of the current request."""
        return self.conn.their_state is h11.SEND_BODY

    def send_400_response(self, msg: str) -> None:
        request_id = _claim_rejection(self.cycle, self._body_pending())
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
        self.transport.write(self.conn.send(response))
        self.transport.write(self.conn.send(h11.Data(data=body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()


if HttpToolsProtocol is not None:

    class EnvelopeHttpToolsProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.parser = _RecordingParser(self.parser)  # type: ignore[assignment]
            self._message_open = False

        def on_message_begin(self) -> None:
            self._message_open = True
            super().on_message_begin()

        def on_message_complete(self) -> None:
            # uvicorn ignores the end of a request whose response is already sent.
            self._message_open = False
            super().on_message_complete()

        def _body_pending(self) -> bool:
            """Return True while the parser still expects body bytes of the current request."""
            return self._message_open

        def _should_upgrade(self) -> bool:
            # A handshake that fails the checks stays an HTTP request, and the
            # request pipeline sends its error envelope.
            return super()._should_upgrade() and handshake_error(self.scope) is None

        def on_headers_complete(self) -> None:
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
            request_id = _claim_rejection(self.cycle, self._body_pending())
            if request_id is None:
                self.transport.close()
                return
            body = _envelope(request_id, _reason(getattr(self.parser, "error", None)))
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
            self.transport.write(b"".join(head) + body)
            self.transport.close()
