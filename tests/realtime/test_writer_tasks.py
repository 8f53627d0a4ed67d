"""Each socket's writer task ends with the socket, on every way a socket closes.

A writer task left waiting after its socket closed is garbage collected
while pending, and asyncio logs "Task was destroyed but it is pending!".
The server runs in this test's event loop, so the tests can list its tasks.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from campfire_server.app import create_app
from campfire_server.db import migrate
from campfire_server.db.database import open_database
from tests.conftest import (
    Tenant,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    make_tenant,
)
from tests.conftest import test_settings as make_settings
from tests.realtime.conftest import abort, next_frame

SOCKETS = 60
MAX_FRAME_BYTES = 1024


class RecordList(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def asyncio_records() -> Iterator[list[logging.LogRecord]]:
    """The records of the ``asyncio`` logger, where the event loop reports destroyed tasks."""
    handler = RecordList()
    logger = logging.getLogger("asyncio")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def served_org(
    request: pytest.FixtureRequest, realtime_url: str, postgres_available: bool
) -> AsyncIterator[tuple[str, Tenant]]:
    """A database URL of each engine and an organization in it."""
    if request.param == "sqlite":
        url = realtime_url
    else:
        if not postgres_available:
            pytest.skip("PostgreSQL is not reachable")
        url = create_postgres_database()
        migrate.upgrade(url)
    database = open_database(url)
    try:
        tenant = await make_tenant(database, "Writer task org")
    finally:
        await database.close()
    yield url, tenant
    if request.param == "postgresql":
        drop_postgres_database(url)


@asynccontextmanager
async def serving(url: str, **overrides: Any) -> AsyncIterator[tuple[uvicorn.Server, Any, int]]:
    """Serve the application on 127.0.0.1 in the running event loop."""
    app = create_app(make_settings(url, **overrides))
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        # The web server closes a larger frame with 1009, as under `campfire serve`.
        ws_max_size=MAX_FRAME_BYTES,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not server.started and not task.done() and loop.time() < deadline:
        await asyncio.sleep(0.02)
    assert server.started, "the server did not start"
    try:
        yield server, app, port
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def open_authenticated(port: int, token: str) -> ClientConnection:
    ws = await websockets.connect(f"ws://127.0.0.1:{port}/api/v2/realtime")
    await ws.send(json.dumps({"type": "auth", "token": token}))
    frame = await next_frame(ws)
    assert frame["type"] == "authenticated", frame
    return ws


async def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out waiting for the sockets to close"
        await asyncio.sleep(0.05)


def all_pending_writers() -> set[asyncio.Task[Any]]:
    return {
        task
        for task in asyncio.all_tasks()
        if not task.done() and task.get_coro().__qualname__ == "Connection._write_loop"
    }


@pytest.fixture
async def pending_writers() -> Callable[[], list[asyncio.Task[Any]]]:
    """List the pending writer tasks that started during this test.

    The event loop is shared by the whole session, so writers that an
    earlier test's server left running are not this test's to count.
    """
    earlier = all_pending_writers()
    return lambda: [task for task in all_pending_writers() if task not in earlier]


def destroyed_task_records(records: list[logging.LogRecord]) -> list[str]:
    messages = [record.getMessage() for record in records]
    return [message for message in messages if "Task was destroyed but it is pending" in message]


async def close_cleanly(ws: ClientConnection) -> None:
    await ws.close()


async def drop_connection(ws: ClientConnection) -> None:
    abort(ws)


async def close_code(ws: ClientConnection) -> int | None:
    """Read frames until the server closes the socket, then return its close code."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    return None if closed.value.rcvd is None else closed.value.rcvd.code


async def send_oversized_frame(ws: ClientConnection) -> None:
    await ws.send("x" * (MAX_FRAME_BYTES * 2))
    assert await close_code(ws) == 1009


async def stay_silent(ws: ClientConnection) -> None:
    # Past the idle timeout the server closes the socket with 4408.
    assert await close_code(ws) == 4408


@pytest.mark.parametrize(
    "end_socket",
    [close_cleanly, drop_connection, send_oversized_frame, stay_silent],
    ids=["client-close", "drop", "server-close-1009", "idle-timeout-4408"],
)
async def test_writer_task_ends_with_socket(
    served_org: tuple[str, Tenant],
    asyncio_records: list[logging.LogRecord],
    pending_writers: Callable[[], list[asyncio.Task[Any]]],
    end_socket: Callable[[ClientConnection], Any],
) -> None:
    overrides: dict[str, Any] = {
        "realtime_heartbeat_seconds": 60.0,
        # Only the silent sockets wait this long; the others close sooner.
        "realtime_idle_timeout_seconds": 1.0,
    }
    url, org = served_org
    async with serving(url, **overrides) as (_server, app, port):
        hub = app.state.realtime.hub
        sockets = [await open_authenticated(port, org.key) for _ in range(SOCKETS)]
        assert len(hub.connections) == SOCKETS
        assert len(pending_writers()) == SOCKETS

        await asyncio.gather(*(end_socket(ws) for ws in sockets))
        await wait_until(lambda: not hub.connections)
        # Give each session's task the turns it needs to finish.
        await asyncio.sleep(0.2)
        assert pending_writers() == []

        gc.collect()
        await asyncio.sleep(0)
        assert destroyed_task_records(asyncio_records) == []


async def test_writer_tasks_end_on_shutdown(
    served_org: tuple[str, Tenant],
    asyncio_records: list[logging.LogRecord],
    pending_writers: Callable[[], list[asyncio.Task[Any]]],
) -> None:
    url, org = served_org
    async with serving(url) as (server, app, port):
        sockets = [await open_authenticated(port, org.key) for _ in range(SOCKETS)]
        assert len(pending_writers()) == SOCKETS
        hub = app.state.realtime.hub
        server.should_exit = True
        await wait_until(lambda: not hub.connections)

    assert pending_writers() == []
    for ws in sockets:
        # The web server closes its sockets (1012) before the application stops (1001).
        assert await close_code(ws) in (1001, 1012)
    gc.collect()
    await asyncio.sleep(0)
    assert destroyed_task_records(asyncio_records) == []
