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

NOTE: a WebSocket upgrade that the websockets library rejects (a missing
``Sec-WebSocket-Key``, an unsupported version) still gets its plain-text 400.
"""

from __future__ import annotations

from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .. import ids
from ..errors import ValidationFailed
from .errors import error_body

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed; uvicorn then parses with h11
    HttpToolsProtocol = None  # type: ignore[assignment, misc]

_HINT = (
    "check the request line, the headers and the Content-Length or chunked body "
    "that your client sends"
)


def _envelope(reason: str | None) -> tuple[str, bytes]:
    request_id = ids.new("request")
    detail = f" ({reason})" if reason else ""
    error = ValidationFailed(
        f"the request is not valid HTTP/1.1{detail}; {_HINT}",
        field="request",
        value=None,
        expected="an HTTP/1.1 request with a well-formed request line, headers and framing",
    )
    return request_id, error_body(error, request_id)


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
    def send_400_response(self, msg: str) -> None:
        request_id, body = _envelope(None)
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


if HttpToolsProtocol is not None:

    class EnvelopeHttpToolsProtocol(HttpToolsProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.parser = _RecordingParser(self.parser)  # type: ignore[assignment]

        def send_400_response(self, msg: str) -> None:
            request_id, body = _envelope(_reason(getattr(self.parser, "error", None)))
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
