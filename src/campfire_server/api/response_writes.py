"""One socket write per response with a known body length, in place of uvicorn's two.

uvicorn 0.55's httptools cycle writes the response head on
``http.response.start`` and the body on ``http.response.body``, each with
its own ``transport.write``, and uvloop sends each one at once: two
``write`` system calls per response. ``HeadHoldingTransport`` replaces
the transport of one request's cycle. It buffers the head of a response that
declares a ``Content-Length`` above zero, and sends it together with the
first body write, which such a response must make. Any other write (a
``100 Continue``, a chunked or empty response, a HEAD response) goes out at
once, and ``close`` sends a buffered head first.

NOTE: a fixed-length response whose application waits between the head and
the body reaches the client only with its first body bytes.
"""

from __future__ import annotations

import asyncio
from typing import Any


class HeadHoldingTransport:
    """The transport of one response cycle, which buffers its head until the first body write."""

    __slots__ = ("_transport", "_cycle", "_head_written", "_pending_head")

    def __init__(self, transport: asyncio.Transport, cycle: Any) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head_written = False
        self._pending_head: bytes | None = None

    def write(self, data: bytes) -> None:
        pending_head = self._pending_head
        if pending_head is not None:
            self._pending_head = None
            self._transport.write(pending_head + data)
            return
        cycle = self._cycle
        if not self._head_written and cycle.response_started:
            # The cycle has just built the head and set the body's framing.
            self._head_written = True
            if (
                cycle.chunked_encoding is False
                and cycle.expected_content_length > 0
                and cycle.scope["method"] != "HEAD"
            ):
                self._pending_head = data
                return
        self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def _flush(self) -> None:
        pending_head = self._pending_head
        if pending_head is not None:
            self._pending_head = None
            self._transport.write(pending_head)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
