"""A small HTTP/1.1 server on 127.0.0.1 that records webhook deliveries.

It runs on the test's event loop, keeps connections alive like a real
server, and answers each request as ``behaviour`` decides, so tests can
make a receiver fail, hang, recover or go away.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int = 200
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


@dataclass
class Captured:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    index: int

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


Behaviour = Callable[[Captured], Reply]


class Receiver:
    """Records every request to ``path`` and answers with ``behaviour(request)``."""

    def __init__(self, behaviour: Behaviour | None = None, port: int = 0) -> None:
        self.behaviour: Behaviour = behaviour or (lambda request: Reply())
        self.port = port
        self.path = f"/hook/{secrets.token_hex(6)}"
        self.requests: list[Captured] = []
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight_per_id = 0
        self.max_in_flight = 0
        self._active = 0
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._arrived = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(
            self._serve, "127.0.0.1", self.port, reuse_address=True
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in list(self._connections):
                writer.close()
            await self._server.wait_closed()
            self._server = None

    def succeeded(self) -> list[Captured]:
        """Requests answered with 2xx by the behaviour (recorded as they were answered)."""
        return [request for request in self.requests if getattr(request, "status", 0) < 300]

    def ids(self) -> list[str]:
        return [request.webhook_id for request in self.requests]

    async def wait_for(
        self, count: int, timeout: float = 20.0, predicate: Callable[[Captured], bool] | None = None
    ) -> list[Captured]:
        """Wait until ``count`` recorded requests match ``predicate`` and return them."""
        deadline = time.monotonic() + timeout

        def matching() -> list[Captured]:
            return [r for r in self.requests if predicate is None or predicate(r)]

        async with self._arrived:
            while len(matching()) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(
                        f"receiver got {len(matching())} matching requests, expected {count}"
                    )
                try:
                    await asyncio.wait_for(self._arrived.wait(), remaining)
                except TimeoutError:
                    pass
            return matching()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _version = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if line:
                        name, _, value = line.partition(":")
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                if path != self.path:
                    await self._write(writer, Reply(status=404, body=b"unknown path"))
                    continue
                await self._answer(writer, method, path, headers, body)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return
        finally:
            self._connections.discard(writer)
            writer.close()

    async def _answer(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes,
    ) -> None:
        captured = Captured(method, path, headers, body, time.monotonic(), len(self.requests))
        webhook_id = headers.get("webhook-id", "")
        self.in_flight[webhook_id] += 1
        self._active += 1
        self.max_in_flight_per_id = max(self.max_in_flight_per_id, self.in_flight[webhook_id])
        self.max_in_flight = max(self.max_in_flight, self._active)
        try:
            reply = self.behaviour(captured)
            if reply.delay:
                await asyncio.sleep(reply.delay)
            captured.status = reply.status  # type: ignore[attr-defined]
            await self._write(writer, reply)
        finally:
            self.in_flight[webhook_id] -= 1
            self._active -= 1
        # Recorded once answered, so a request cut off mid-wait is not counted.
        self.requests.append(captured)
        async with self._arrived:
            self._arrived.notify_all()

    @staticmethod
    async def _write(writer: asyncio.StreamWriter, reply: Reply) -> None:
        extra = "".join(f"{name}: {value}\r\n" for name, value in reply.headers.items())
        head = (
            f"HTTP/1.1 {reply.status} Status\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(reply.body)}\r\n{extra}\r\n"
        )
        writer.write(head.encode("latin-1") + reply.body)
        await writer.drain()
