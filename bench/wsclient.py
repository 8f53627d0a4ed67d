"""A minimal WebSocket client for fan-out benchmarks that counts text frames without decoding them.

A benchmark's 1,000 subscribers all live in one client process, and a full
client library spends more CPU per received frame than the server spends
sending it, which would hide the server's cost. Frames from a server are
never masked (RFC 6455, section 5.1), so parsing is a header and a length.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable


class LightClient(asyncio.Protocol):
    """One socket; text frames go to ``inbox`` until ``on_text`` is set, then to it."""

    def __init__(self, host: str, port: int, path: str) -> None:
        loop = asyncio.get_running_loop()
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        self.buffer = bytearray()
        self.upgraded: asyncio.Future[None] = loop.create_future()
        self.inbox: asyncio.Queue[bytes] = asyncio.Queue()
        self.on_text: Callable[[bytes], None] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:12])
            del self.buffer[: end + 4]
            if b" 101" not in status:
                self.upgraded.set_exception(RuntimeError(f"upgrade failed: {status!r}"))
                return
            self.upgraded.set_result(None)
        self._parse()

    def _parse(self) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length, offset = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            if opcode == 0x1:
                if self.on_text is None:
                    self.inbox.put_nowait(payload)
                else:
                    self.on_text(payload)
            elif opcode == 0x9:
                self._write(0xA, payload)

    def _write(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = bytes([0x80 | opcode, 0x80 | length])
        elif length < 65536:
            header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
        else:
            header = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(header + mask + masked)

    async def send(self, text: str) -> None:
        self._write(0x1, text.encode())

    async def recv(self, timeout: float = 30.0) -> str:
        return (await asyncio.wait_for(self.inbox.get(), timeout)).decode()

    async def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._write(0x8, (1000).to_bytes(2, "big"))
            self.transport.close()


async def connect(port: int, path: str = "/") -> LightClient:
    """Open a socket to 127.0.0.1:``port`` and complete the upgrade."""
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: LightClient("127.0.0.1", port, path), "127.0.0.1", port
    )
    await asyncio.wait_for(client.upgraded, 30)
    return client
