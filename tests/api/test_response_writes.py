"""Socket writes per response of Campfire's httptools protocol class, counted at its transport."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from campfire_server.api import head_limits

pytestmark = pytest.mark.skipif(
    head_limits.HttpToolsProtocol is None, reason="httptools is not installed"
)

GET = b"GET /hello HTTP/1.1\r\nHost: example.test\r\n\r\n"


class RecordingTransport(asyncio.Transport):
    """A transport that stores each ``write`` instead of sending it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        addresses = {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}
        return addresses.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def fixed_length(body: bytes, *, fail_after_start: bool = False) -> Any:
    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        headers = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if fail_after_start:
            raise RuntimeError("the application failed after the response head")
        await send({"type": "http.response.body", "body": body})

    return app


async def streamed(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"one", "more_body": True})
    await send({"type": "http.response.body", "body": b"two"})


async def serve(app: Any, requests: tuple[bytes, ...] = (GET,)) -> RecordingTransport:
    """Feed ``requests`` to a new connection of the protocol class and return its transport."""
    config = Config(app=app, http=head_limits.LimitedHttpToolsProtocol, log_config=None)
    config.load()
    protocol = head_limits.LimitedHttpToolsProtocol(
        config=config, server_state=ServerState(), app_state={}
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    for request in requests:
        protocol.data_received(request)
        for _ in range(20):
            await asyncio.sleep(0)
    protocol.connection_lost(None)
    return transport


async def test_fixed_length_response_is_one_write() -> None:
    transport = await serve(fixed_length(b"hello"))

    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[0].endswith(b"\r\n\r\nhello")


async def test_kept_alive_responses_one_write_each() -> None:
    transport = await serve(fixed_length(b"hello"), (GET, GET))

    assert len(transport.writes) == 2
    assert all(write.endswith(b"\r\n\r\nhello") for write in transport.writes)


async def test_head_request_writes_head_at_once() -> None:
    transport = await serve(fixed_length(b"hello"), (b"HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n",))

    assert len(transport.writes) == 1
    assert transport.writes[0].endswith(b"content-length: 5\r\n\r\n")


async def test_empty_body_writes_head_at_once() -> None:
    transport = await serve(fixed_length(b""))

    assert transport.writes[0].endswith(b"content-length: 0\r\n\r\n")
    assert b"".join(transport.writes).endswith(b"\r\n\r\n")


async def test_chunked_response_writes_head_at_once() -> None:
    transport = await serve(streamed)

    assert transport.writes[0].endswith(b"transfer-encoding: chunked\r\n\r\n")
    assert b"".join(transport.writes[1:]) == b"3\r\none\r\n3\r\ntwo\r\n0\r\n\r\n"


async def test_failure_after_head_sends_head_before_close() -> None:
    transport = await serve(fixed_length(b"hello", fail_after_start=True))

    assert transport.closed
    assert len(transport.writes) == 1
    assert transport.writes[0].endswith(b"content-length: 5\r\n\r\n")
