"""Fixtures of the realtime tests: a live server on a SQLite file, tokens and socket helpers."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from campfire_server.auth.tokens import issue_token
from campfire_server.config import DEVELOPMENT_JWT_SECRET
from campfire_server.db import migrate
from campfire_server.db.database import Database, open_database
from campfire_server.routing import actions as routing_actions
from campfire_server.routing.schemas import AgentCreate
from tests.conftest import (
    LiveServer,
    Tenant,
    make_tenant,
    scaled_postgres,
    start_server,
)
from tests.helpers import HELPER_AGENT, ensure_agent

# The secret, issuer and audience a development server signs and checks tokens with.
JWT_SETTINGS = {"secret": DEVELOPMENT_JWT_SECRET, "issuer": "campfire", "audience": "campfire"}

# Short timers so the tests that wait for them stay fast, and a message rate
# limit the slow-consumer test (150 messages in one conversation) stays under.
SERVER_ENV = {
    "CAMPFIRE_REALTIME_AUTH_TIMEOUT_SECONDS": "0.5",
    "CAMPFIRE_REALTIME_TYPING_TTL_SECONDS": "3",
    "CAMPFIRE_REALTIME_SEND_QUEUE_FRAMES": "16",
    "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
}


def token_for(
    tenant: Tenant,
    role: str,
    *,
    agent_id: str | None = None,
    customer_id: str | None = None,
    mailbox_ids: list[str] | None = None,
) -> str:
    extra: dict[str, Any] = {}
    if agent_id is not None:
        extra["aid"] = agent_id
    if customer_id is not None:
        extra["cid"] = customer_id
    if mailbox_ids is not None:
        extra["mbx"] = mailbox_ids
    token, _ = issue_token(
        **JWT_SETTINGS,
        org_id=tenant.org_id,
        role=role,
        subject=agent_id or customer_id or f"user-{role}",
        ttl_seconds=3600,
        extra=extra,
    )
    return token


def ws_url(server: LiveServer) -> str:
    return f"ws://127.0.0.1:{server.port}/api/v2/realtime"


async def connect(server: LiveServer, token: str, **options: Any) -> ClientConnection:
    """Open a socket and authenticate it; fail unless the server replies ``authenticated``."""
    ws = await websockets.connect(ws_url(server), **options)
    await ws.send(json.dumps({"type": "auth", "token": token}))
    frame = await next_frame(ws)
    assert frame["type"] == "authenticated", frame
    return ws


async def next_frame(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    """Return the next frame other than a heartbeat ping."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if frame.get("type") != "ping":
            return frame


async def frame_of_type(ws: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        frame = await next_frame(ws, max(deadline - loop.time(), 0.01))
        if frame["type"] == kind:
            return frame


async def subscribe(ws: ClientConnection, channel: str, since: Any = None) -> dict[str, Any]:
    request: dict[str, Any] = {"type": "subscribe", "channel": channel}
    if since is not None:
        request["since"] = since
    await ws.send(json.dumps(request))
    return await next_frame(ws)


async def frames_until_quiet(ws: ClientConnection, quiet: float = 0.5) -> list[dict[str, Any]]:
    """Collect frames until none arrives for ``quiet`` seconds."""
    frames = []
    while True:
        try:
            frames.append(await next_frame(ws, quiet))
        except TimeoutError:
            return frames


def abort(ws: ClientConnection) -> None:
    """Drop the TCP connection without a close frame."""
    ws.transport.abort()


def sqlite_url(directory: Path) -> str:
    url = f"sqlite:///{directory / 'campfire.db'}"
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="module")
def realtime_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_url(tmp_path_factory.mktemp("realtime"))


@pytest.fixture(scope="module")
async def realtime_db(realtime_url: str) -> AsyncIterator[Database]:
    database = open_database(realtime_url)
    yield database
    await database.close()


@pytest.fixture(scope="module")
def server(realtime_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(realtime_url, tmp_path_factory.mktemp("logs"), env=SERVER_ENV)
    yield live
    live.stop()


@pytest.fixture
async def org(realtime_db: Database) -> Tenant:
    return await make_tenant(realtime_db, "Realtime org A")


@pytest.fixture
async def other_org(realtime_db: Database) -> Tenant:
    return await make_tenant(realtime_db, "Realtime org B")


@pytest.fixture
async def http(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.api, timeout=30) as client:
        yield client


async def open_conversation(
    http: httpx.AsyncClient, tenant: Tenant, customer_id: str = "customer_rt_A"
) -> str:
    response = await http.post(
        "/conversations",
        json={"customerId": customer_id, "mailboxId": tenant.mailbox_id},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def post_message(
    http: httpx.AsyncClient,
    tenant: Tenant,
    conversation_id: str,
    content: str,
    author_type: str = "agent",
    **extra: Any,
) -> dict[str, Any]:
    """Post a message with the tenant's API key and return it.

    An agent message without ``authorId`` is written as ``HELPER_AGENT``,
    created on first use, because an API key's agent messages must name an
    agent of the organization.
    """
    if author_type == "agent" and "authorId" not in extra:
        await ensure_agent(http, tenant, HELPER_AGENT)
        extra["authorId"] = HELPER_AGENT
    response = await http.post(
        f"/conversations/{conversation_id}/messages",
        json={"content": content, "authorType": author_type, **extra},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


def small_receive_buffer_socket(port: int) -> socket.socket:
    """A connected TCP socket with a tiny receive buffer, so a client that stops reading stalls."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    return sock


async def agent_token(
    db: Database, tenant: Tenant, agent_id: str, *, mailbox_ids: list[str] | None = None
) -> str:
    """Create the agent ``agent_id`` when it is missing, then return a token for it."""

    def work(tx):  # type: ignore[no-untyped-def]
        exists = tx.value(
            "SELECT COUNT(*) AS n FROM agents WHERE org_id = :org_id AND id = :id",
            org_id=tenant.org_id,
            id=agent_id,
        )
        if not exists:
            routing_actions.create_agent(
                tx, tenant.org_id, AgentCreate(id=agent_id, name=agent_id.replace("_", " "))
            )

    await db.write(work)
    return token_for(tenant, "agent", agent_id=agent_id, mailbox_ids=mailbox_ids)


async def create_agent(http: httpx.AsyncClient, tenant: Tenant, agent_id: str) -> dict[str, Any]:
    response = await http.post(
        "/agents",
        json={"id": agent_id, "name": agent_id.replace("_", " ").title(), "capacity": 4},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def scaled_url(postgres_available: bool) -> Iterator[str]:
    """Yield a new migrated PostgreSQL database for servers that share Redis, then drop it."""
    with scaled_postgres(postgres_available) as url:
        yield url
