"""Limits on the head of each HTTP request: its size, and the time to finish sending it.

uvicorn 0.55 bounds neither with httptools, its default parser: a 20 MB
header is read and the request served, and a connection whose head never
ends stays open. With h11 only the size is bounded (16 KiB, answered with a plain
400). ``HeadLimits`` adds both to either parser. A request line and
headers larger than ``CAMPFIRE_MAX_HEADER_BYTES`` get ``431``, and a head
that is not complete ``CAMPFIRE_HEADER_TIMEOUT_SECONDS`` after the
connection opened (for the first request) or after its first byte (for a
later one) gets ``408``. Both responses carry the error envelope, and the
connection is closed. A new connection that sent no byte by then is closed
without a response, because there is no request to respond to.

The size is measured before the parser sees each read, so an oversized
head never reaches the application, and at most the limit is buffered.

A client may pipeline requests: send the next head in the same read as the
previous request. Bytes that the parser holds back for later (h11) are
measured as the next head, and a head that the parser reads at once
(httptools) is measured from its request target and header lines. A
rejection of such a head goes out after the responses before it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .. import ids
from ..config import get_settings
from ..errors import HeadersTooLarge, RequestTimeout, ServiceError
from . import framing
from .response_writes import HeadHoldingTransport

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed; uvicorn then parses with h11
    HttpToolsProtocol = None  # type: ignore[assignment, misc]


class HeadLimits:
    """A mixin for uvicorn's HTTP protocol classes; put it first among the bases."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any
    # Defined by the protocol class that this mixin is combined with.
    _body_pending: Callable[[], bool]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self._max_head_bytes = settings.max_header_bytes
        self._head_timeout = settings.header_timeout_seconds
        self._head_bytes = 0
        self._head_tail = b""
        self._awaiting_head = True
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        if self._awaiting_head and not self._receive_head_bytes(data):
            return
        super().data_received(data)  # type: ignore[misc]
        self._check_next_head()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        self._check_next_head()
        if self._head_timer is not None:
            # The next head has begun, so its timeout applies, not the keep-alive one.
            self._unset_keepalive_if_required()  # type: ignore[attr-defined]

    def _check_next_head(self) -> None:
        """Start measuring and timing the next head once the parser has read the current request."""
        if self._awaiting_head or not self._request_finished() or self.transport.is_closing():
            return
        self._expect_next_head()
        self._measure_buffered_head()

    def _measure_buffered_head(self) -> None:
        """Measure the bytes of the next head that the parser already received, if any."""

    def _request_finished(self) -> bool:
        """Return True once the parser has read the whole request.

        An early response, such as a 413 or a 401, completes while the
        client is still sending the body. The parser reads and drops the
        rest of that body, which must not be counted as the next head.
        """
        return self.cycle is not None and not self._body_pending()

    def _expect_next_head(self) -> None:
        self._awaiting_head = True
        self._head_bytes = 0
        self._head_tail = b""

    def _receive_head_bytes(self, data: bytes) -> bool:
        """Measure ``data`` into the head; reject the request and return False if too large."""
        if not self._measure_head(data):
            self._reject_large_head()
            return False
        if self._awaiting_head and self._head_timer is None:
            # Started only for a head that did not end in this read, which
            # is as early as starting it before the read was measured.
            self._start_head_timer()
        return True

    def _reject_large_head(self) -> None:
        self._reject(
            HeadersTooLarge(
                f"the request line and headers exceed {self._max_head_bytes} bytes; "
                "send smaller headers",
                details={"limit": self._max_head_bytes},
            ),
            f"request line and headers over {self._max_head_bytes} bytes",
        )

    def _measure_head(self, data: bytes) -> bool:
        """Count ``data`` into the head; return False when the head is over the limit.

        The head ends at the first empty line (CRLF CRLF, or LF LF, which
        parsers also accept), searched across reads through the last bytes
        of the previous one. Runs before the parser receives ``data``, so an
        oversized request never reaches the application.
        """
        window = self._head_tail + data
        ends = [
            index + len(mark)
            for mark in (b"\r\n\r\n", b"\n\n")
            if (index := window.find(mark)) >= 0
        ]
        if ends:
            size = self._head_bytes - len(self._head_tail) + min(ends)
            if size > self._max_head_bytes:
                return False
            self._head_finished()
            return True
        self._head_bytes += len(data)
        self._head_tail = window[-3:]
        return self._head_bytes <= self._max_head_bytes

    def _head_finished(self) -> None:
        self._awaiting_head = False
        self._cancel_head_timer()

    def _start_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self._awaiting_head or self.transport.is_closing():
            return
        if self._head_bytes == 0:
            # The client sent nothing, so there is no request to respond to.
            self.transport.close()
            return
        self._reject(
            RequestTimeout(
                f"the request line and headers did not arrive within {self._head_timeout:g} s"
            ),
            f"request line and headers incomplete after {self._head_timeout:g} s "
            f"({self._head_bytes} bytes received)",
        )

    def _reject(self, error: ServiceError, reason: str) -> None:
        """Send ``error`` and close the connection, with the access line as its only log line."""
        request_id = ids.new("request")
        self._record_unparsed(error.http_status, request_id, reason)  # type: ignore[attr-defined]
        self._cancel_head_timer()
        self._awaiting_head = False
        response = framing.rejection_response(error, request_id)
        self._send_rejection(response)  # type: ignore[attr-defined]


# The envelope classes answer requests that the parser rejects with the
# error envelope; HeadLimits runs first, before they parse.
class LimitedH11Protocol(HeadLimits, framing.EnvelopeH11Protocol):
    def _measure_buffered_head(self) -> None:
        # h11 keeps the bytes after a complete request until its response is sent.
        buffered, _ = self.conn.trailing_data
        if buffered:
            self._receive_head_bytes(buffered)


class HeadTooLarge(Exception):
    """Raised in a parser callback to stop parsing a head that got 431."""


if HttpToolsProtocol is not None:

    class LimitedHttpToolsProtocol(HeadLimits, framing.EnvelopeHttpToolsProtocol):
        # httptools parses every request in a read at once, so the head of a
        # pipelined request is measured from its parts: the request target
        # and each header line. The method and version are not counted.

        def on_message_begin(self) -> None:
            self._parsed_head_bytes = 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count_parsed_head(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count_parsed_head(len(name) + len(value) + 4)
            super().on_header(name, value)

        def _count_parsed_head(self, size: int) -> None:
            self._parsed_head_bytes += size
            if self._parsed_head_bytes > self._max_head_bytes:
                self._reject_large_head()
                raise HeadTooLarge(self._parsed_head_bytes)

        def _measure_buffered_head(self) -> None:
            if self._head_open:
                # The read ended inside the next head, which the parser has begun.
                self._head_bytes = max(self._parsed_head_bytes, 1)
                self._start_head_timer()

        def on_headers_complete(self) -> None:
            previous = self.cycle
            super().on_headers_complete()
            cycle = self.cycle
            if cycle is not None and cycle is not previous:
                cycle.transport = HeadHoldingTransport(self.transport, cycle)


def http_protocol() -> str:
    """Return the import string for ``uvicorn.run(http=...)``, httptools first like "auto".

    A string, because uvicorn hands its settings to each worker process.
    """
    if HttpToolsProtocol is not None:
        return f"{__name__}:LimitedHttpToolsProtocol"
    return f"{__name__}:LimitedH11Protocol"
