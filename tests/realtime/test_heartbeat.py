"""Heartbeats and the idle timeout, on a server with short timers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer, start_server
from tests.realtime.conftest import connect


@pytest.fixture(scope="module")
def quick_server(
    realtime_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {
        "CAMPFIRE_REALTIME_HEARTBEAT_SECONDS": "0.5",
        "CAMPFIRE_REALTIME_IDLE_TIMEOUT_SECONDS": "2.5",
    }
    live = start_server(realtime_url, tmp_path_factory.mktemp("quick-logs"), env=env)
    yield live
    live.stop()


async def test_heartbeat_pings_and_pong_keeps_socket(quick_server, org) -> None:
    ws = await connect(quick_server, org.key)
    pings = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 4.0
    while loop.time() < deadline:
        frame = json.loads(await asyncio.wait_for(ws.recv(), 3))
        if frame["type"] == "ping":
            pings += 1
            assert frame["timestamp"].endswith("Z")
            await ws.send(json.dumps({"type": "pong"}))
    # Past the idle timeout, but the pongs kept the socket open.
    assert pings >= 3
    await ws.send(json.dumps({"type": "ping"}))
    while json.loads(await asyncio.wait_for(ws.recv(), 3))["type"] != "pong":
        pass
    await ws.close()


async def test_silent_socket_closed_after_idle_timeout(quick_server, org) -> None:
    ws = await connect(quick_server, org.key)
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 6)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4408
    assert "no frame received" in closed.value.rcvd.reason
