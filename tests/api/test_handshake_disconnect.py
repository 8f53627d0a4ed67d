"""A WebSocket handshake whose client disconnects before the response is logged as 499."""

from __future__ import annotations

import logging

import pytest
from uvicorn.protocols.utils import ClientDisconnected

from campfire_server.api.pipeline import RequestPipeline


def handshake_scope() -> dict:
    return {
        "type": "websocket",
        "path": "/api/v2/realtime",
        "headers": [(b"host", b"127.0.0.1"), (b"x-request-id", b"handshake-gone")],
        "query_string": b"",
        "state": {},
    }


async def wait_for_disconnect(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    assert (await receive())["type"] == "websocket.connect"
    assert (await receive())["type"] == "websocket.disconnect"


async def accept(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
    await receive()
    await send({"type": "websocket.accept"})


async def disconnected_client():  # type: ignore[no-untyped-def]
    messages = [{"type": "websocket.connect"}, {"type": "websocket.disconnect", "code": 1006}]

    async def receive() -> dict:
        return messages.pop(0)

    async def send(message: dict) -> None:
        # uvicorn's WebSocket protocol raises this once the client is gone.
        raise ClientDisconnected()

    return receive, send


@pytest.mark.parametrize("app", [wait_for_disconnect, accept], ids=["no-response", "accept"])
async def test_gone_client_handshake_logs_499(caplog, app) -> None:
    receive, send = await disconnected_client()
    pipeline = RequestPipeline(app, max_body_bytes=1024)

    with caplog.at_level(logging.INFO):
        try:
            await pipeline(handshake_scope(), receive, send)
        except ClientDisconnected:
            pass

    lines = [record for record in caplog.records if record.name == "campfire_server.access"]
    assert [line.status for line in lines] == [499]
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []
