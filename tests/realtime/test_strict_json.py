"""Every frame the realtime server sends is strict JSON, whatever numbers the client sent."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest
import websockets

from campfire_server import ids
from campfire_server.events import records
from campfire_server.events.emit import next_sequence
from campfire_server.realtime.events import dumps
from tests.realtime.conftest import connect, open_conversation, ws_url


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} overflows a 64-bit float")
    return value


def strict_loads(text: str) -> Any:
    """Parse like ``JSON.parse``, and also reject numbers that it would turn into Infinity."""
    return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)


async def next_strict_frame(ws, timeout: float = 5.0) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    while True:
        frame = strict_loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame.get("type") != "ping":
            return frame


@pytest.mark.parametrize("number", ["1e400", "-1e400", "NaN", "Infinity", "-Infinity"])
async def test_non_finite_since_gets_strict_error(server, org, http, number) -> None:
    conversation_id = await open_conversation(http, org)
    ws = await connect(server, org.key)
    channel = f"conversation:{conversation_id}"

    await ws.send(f'{{"type":"subscribe","channel":"{channel}","since":{number}}}')
    error = await next_strict_frame(ws)

    assert error["type"] == "error"
    assert error["data"]["code"] == "VALIDATION_ERROR"
    assert error["data"]["details"]["field"] == "since"

    await ws.send('{"type":"ping","id":"after"}')
    pong = await next_strict_frame(ws)
    assert pong == {"type": "pong", "id": "after", "timestamp": pong["timestamp"]}
    await ws.close()


@pytest.mark.parametrize("frame_id", ["NaN", "1e400", "12", '"' + "x" * 65 + '"', "{}", '""'])
async def test_invalid_frame_id_gets_error(server, org, frame_id) -> None:
    ws = await connect(server, org.key)

    await ws.send(f'{{"type":"ping","id":{frame_id}}}')
    error = await next_strict_frame(ws)

    assert error["type"] == "error"
    assert error["data"]["code"] == "VALIDATION_ERROR"
    assert error["data"]["details"]["field"] == "id"
    assert "id" not in error
    await ws.close()


async def test_invalid_id_in_auth_frame_closes(server, org) -> None:
    ws = await websockets.connect(ws_url(server))
    await ws.send(f'{{"type":"auth","token":"{org.key}","id":NaN}}')

    error = strict_loads(await ws.recv())

    assert error["data"]["code"] == "AUTHENTICATION_ERROR"
    with pytest.raises(websockets.ConnectionClosed):
        await ws.recv()
    assert ws.close_code == 4401


async def test_stored_nan_replays_as_null(server, org, http, realtime_db) -> None:
    conversation_id = await open_conversation(http, org)

    def work(tx):  # type: ignore[no-untyped-def]
        # Written as text, as a store that predates the strict parsers could hold it.
        tx.execute(
            "INSERT INTO events (id, org_id, conversation_id, mailbox_id, sequence, type, data, "
            "created_at) VALUES (:id, :org_id, :conversation_id, :mailbox_id, :sequence, "
            ":type, :data, 1)",
            id=ids.new("event"),
            org_id=org.org_id,
            conversation_id=conversation_id,
            mailbox_id=org.mailbox_id,
            sequence=next_sequence(tx, conversation_id),
            type=records.MESSAGE_SENT,
            data='{"message":{"id":"msg_nan","content":"hi","authorType":"customer",'
            '"metadata":{"score":NaN,"limit":Infinity}}}',
        )

    await realtime_db.write(work)
    ws = await connect(server, org.key)
    await ws.send(
        json.dumps({"type": "subscribe", "channel": f"conversation:{conversation_id}", "since": 0})
    )

    frames = [await next_strict_frame(ws) for _ in range(3)]

    message = next(frame for frame in frames if frame["type"] == "message")
    assert message["data"]["id"] == "msg_nan"
    assert message["data"]["metadata"] == {"score": None, "limit": None}
    await ws.close()


def test_dumps_is_strict_json() -> None:
    frame = {"type": "error", "data": {"details": {"value": math.inf, "list": [math.nan, 1.5]}}}

    text = dumps(frame)

    assert strict_loads(text) == {
        "type": "error",
        "data": {"details": {"value": None, "list": [None, 1.5]}},
    }
    assert dumps({"type": "pong", "value": 2.5}) == '{"type":"pong","value":2.5}'


# Frames whose text is a lone surrogate, written as the JSON escape a client sends.
LONE_SURROGATE_FRAMES = ['"\\ud800"', '["\\ud800"]', '[1,"\\ud800"]', '{"x":"\\ud800"}']


@pytest.mark.parametrize("frame", LONE_SURROGATE_FRAMES)
async def test_lone_surrogate_frame_gets_error(server, org, frame) -> None:
    ws = await connect(server, org.key)

    await ws.send(frame)
    error = await next_strict_frame(ws)

    assert error["type"] == "error"
    assert error["data"]["code"] == "VALIDATION_ERROR"
    assert error["data"]["details"]["value"] is None

    await ws.send('{"type":"ping","id":"after"}')
    pong = await next_strict_frame(ws)
    assert pong == {"type": "pong", "id": "after", "timestamp": pong["timestamp"]}
    await ws.close()


@pytest.mark.parametrize("frame", LONE_SURROGATE_FRAMES)
async def test_lone_surrogate_first_frame_closes_4401(server, frame) -> None:
    ws = await websockets.connect(ws_url(server))
    await ws.send(frame)

    error = strict_loads(await asyncio.wait_for(ws.recv(), 5))

    assert error["data"]["code"] == "AUTHENTICATION_ERROR"
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code == 4401


def test_dumps_escapes_lone_surrogate() -> None:
    text = dumps({"type": "error", "data": {"message": "bad \ud800 text"}})

    assert text.encode() == b'{"type":"error","data":{"message":"bad \\ud800 text"}}'
    assert json.loads(text)["data"]["message"] == "bad \ud800 text"
