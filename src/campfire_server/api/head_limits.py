"""Limits on the head of each HTTP request: its size, and the time to finish sending it.

uvicorn 0.55 bounds neither with httptools, its default parser: a 20 MB
header is read and the request served, and a connection whose head never
ends stays open. With h11 only the size is bounded (16 KiB, answered with a plain
400). ``HeadLimits`` adds both to either parser. A request line and
headers larger than ``CAMPFIRE_MAX_HEADER_BYTES`` get ``431``, and a head
that is not complete ``CAMPFIRE_HEADER_TIMEOUT_SECONDS`` after its first
byte (or after the connection opened) gets ``408``. Both responses carry
the error envelope, and the connection is closed.

The size is measured before the parser sees each read, so an oversized
head never reaches the application, and at most the limit is buffered.

NOTE: the bytes of a request pipelined behind one still being answered are
not measured or timed; every common client waits for each response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from .. import ids
from ..config import get_settings
from ..errors import HeadersTooLarge, RequestTimeout, ServiceError
from . import framing
from .access_log import record_unparsed_request
from .errors import error_body
from .response_writes import HeadHoldingTransport

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is not installed; uvicorn then parses with h11
    HttpToolsProtocol = None  # type: ignore[assignment, misc]

log = logging.getLogger(__name__)

REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


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
        if not self._awaiting_head and self._request_finished():
            # The first bytes of the next request on a kept-alive connection.
            self._expect_next_head()
        if self._awaiting_head:
            if not self._measure_head(data):
                self._reject(
                    HeadersTooLarge(
                        f"the request line and headers exceed {self._max_head_bytes} bytes; "
                        "send smaller headers",
                        details={"limit": self._max_head_bytes},
                    ),
                    431,
                )
                return
            if self._awaiting_head and self._head_timer is None:
                # Started only for a head that did not end in this read, which
                # is as early as starting it before the read was measured.
                self._start_head_timer()
        super().data_received(data)  # type: ignore[misc]
        if not self._awaiting_head and self._request_finished():
            # This read ended a body that the response did not wait for.
            # NOTE: bytes of the next head in that same read are not counted.
            self._expect_next_head()

    def _request_finished(self) -> bool:
        """Return True once the response is sent and the parser has read the whole request.

        An early response, such as a 413 or a 401, completes while the
        client is still sending the body. The parser reads and drops the
        rest of that body, which must not be counted as the next head.
        """
        response_sent = self.cycle is None or self.cycle.response_complete
        return response_sent and not self._body_pending()

    def _expect_next_head(self) -> None:
        self._awaiting_head = True
        self._head_bytes = 0
        self._head_tail = b""

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
            408,
        )

    def _reject(self, error: ServiceError, status: int) -> None:
        request_id = ids.new("request")
        log.warning(
            "request head rejected",
            extra={
                "status": status,
                "head_bytes": self._head_bytes,
                "request_id": request_id,
            },
        )
        record_unparsed_request(status, request_id)
        body = error_body(error, request_id)
        head = [
            b"HTTP/1.1 %d %s\r\n" % (status, REASONS[status]),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"x-request-id: " + request_id.encode() + b"\r\n",
            b"connection: close\r\n",
            b"\r\n",
        ]
        self._cancel_head_timer()
        self._awaiting_head = False
        self.transport.write(b"".join(head) + body)
        self.transport.close()


# The envelope classes answer requests that the parser rejects with the
# error envelope; HeadLimits runs first, before they parse.
class LimitedH11Protocol(HeadLimits, framing.EnvelopeH11Protocol):
    pass


if HttpToolsProtocol is not None:

    class LimitedHttpToolsProtocol(HeadLimits, framing.EnvelopeHttpToolsProtocol):
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
