"""Sockets live only as long as their credential: token expiry and key revocation close them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from campfire_server.auth import keys
from campfire_server.auth.principal import Principal
from campfire_server.auth.tokens import LEEWAY_SECONDS, issue_token, verify_token
from campfire_server.db.database import Database
from campfire_server.realtime.credentials import (
    AGENT_DELETED_REASON,
    KEY_REVOKED_REASON,
    TOKEN_EXPIRED_REASON,
)
from campfire_server.realtime.runtime import RealtimeService
from campfire_server.routing import actions as routing_actions
from campfire_server.routing import service as routing_service
from campfire_server.routing.schemas import AgentCreate
from tests.conftest import LiveServer, Tenant, make_tenant
from tests.conftest import test_settings as make_settings
from tests.realtime.conftest import JWT_SETTINGS, connect, next_frame, subscribe, ws_url

CLOSE_AUTH_FAILED = 4401


async def close_of(ws: ClientConnection, timeout: float) -> tuple[int, str]:
    """Read until the server closes the socket; return the close code and reason."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the server dropped the connection without a close frame"
        return closed.rcvd.code, closed.rcvd.reason


async def create_key(http: httpx.AsyncClient, tenant: Tenant) -> dict[str, Any]:
    response = await http.post(
        "/keys", json={"name": "socket key", "role": "admin"}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_token_expiry_closes_socket(server: LiveServer, org: Tenant) -> None:
    token, expires_at = issue_token(
        **JWT_SETTINGS, org_id=org.org_id, role="admin", subject="short-lived", ttl_seconds=2
    )
    ws = await connect(server, token)
    subscribed = await subscribe(ws, f"mailbox:{org.mailbox_id}")

    code, reason = await close_of(ws, timeout=6)
    closed_at = time.time()

    assert subscribed["type"] == "subscribed"
    assert code == CLOSE_AUTH_FAILED
    assert reason == TOKEN_EXPIRED_REASON
    assert closed_at >= expires_at - 0.5
    assert closed_at <= expires_at + 3


async def test_revoked_key_closes_its_sockets(
    server: LiveServer, org: Tenant, http: httpx.AsyncClient
) -> None:
    created = await create_key(http, org)
    revoked_ws = await connect(server, created["key"])
    other_ws = await connect(server, org.key)

    started = time.monotonic()
    response = await http.delete(f"/keys/{created['id']}", headers=org.headers)
    code, reason = await close_of(revoked_ws, timeout=5)
    elapsed = time.monotonic() - started
    subscribed = await subscribe(other_ws, f"mailbox:{org.mailbox_id}")
    await other_ws.close()

    assert response.status_code == 204
    assert code == CLOSE_AUTH_FAILED
    assert reason == KEY_REVOKED_REASON
    assert elapsed < 3
    assert subscribed["type"] == "subscribed"


async def test_revoked_key_cannot_reconnect(
    server: LiveServer, org: Tenant, http: httpx.AsyncClient
) -> None:
    created = await create_key(http, org)
    ws = await connect(server, created["key"])
    await http.delete(f"/keys/{created['id']}", headers=org.headers)
    await close_of(ws, timeout=5)

    retry = await websockets.connect(ws_url(server))
    await retry.send(json.dumps({"type": "auth", "token": created["key"]}))
    error = await next_frame(retry)
    code, _ = await close_of(retry, timeout=5)

    assert error["data"]["code"] == "AUTHENTICATION_ERROR"
    assert code == CLOSE_AUTH_FAILED


@dataclass
class RecordingService:
    """A started ``RealtimeService`` whose sockets record why they were dropped."""

    service: RealtimeService
    drops: list[tuple[int, str]] = field(default_factory=list)

    async def open(self, principal: Principal) -> Any:
        return await self.service.open_connection(principal, self._send, self._on_drop)

    async def _send(self, text: str) -> None:
        return None

    def _on_drop(self, connection: Any, code: int, reason: str) -> None:
        self.drops.append((code, reason))


@asynccontextmanager
async def recording_service(db: Database) -> AsyncIterator[RecordingService]:
    service = RealtimeService(make_settings(db.url), db)
    await service.start()
    try:
        yield RecordingService(service)
    finally:
        await service.stop()


async def test_revocation_check_finds_database_revocation(db: Database) -> None:
    # A revocation written straight to the database (as `campfire keys revoke`
    # does) reaches no broker; the periodic check closes the socket.
    tenant = await make_tenant(db, "Revocation check org")
    issued = await db.write(
        lambda tx: keys.create_key(tx, org_id=tenant.org_id, name="cli key", role="admin")
    )
    row = await db.read(lambda tx: keys.find_key(tx, issued.key))
    assert row is not None

    async with recording_service(db) as realtime:
        connection = await realtime.open(keys.principal_for_key(row))
        before = await realtime.service.check_revoked_keys()
        await db.write(lambda tx: keys.revoke_key(tx, org_id=tenant.org_id, key_id=issued.id))
        after = await realtime.service.check_revoked_keys()
        await realtime.service.close_connection(connection)

    assert before == 0
    assert after == 1
    assert realtime.drops == [(CLOSE_AUTH_FAILED, KEY_REVOKED_REASON)]


async def test_development_key_sockets_skip_check(db: Database) -> None:
    async with recording_service(db) as realtime:
        connection = await realtime.open(keys.development_principal())
        checked = await realtime.service.check_revoked_keys()
        await realtime.service.close_connection(connection)

    assert checked == 0
    assert realtime.drops == []


async def test_revocation_check_finds_recreated_agent(db: Database) -> None:
    # An agent deleted and created again without the broker (Redis down) still
    # loses the sockets of its old tokens at the periodic check.
    tenant = await make_tenant(db, "Agent check org")
    agent_id = "agent_check"

    def create(tx: Any) -> int:
        routing_actions.create_agent(tx, tenant.org_id, AgentCreate(id=agent_id, name="Check"))
        return int(routing_service.get_agent_row(tx, tenant.org_id, agent_id)["created_at"])

    created_at = await db.write(create)
    principal = Principal(
        org_id=tenant.org_id,
        role="viewer",
        kind="token",
        subject=agent_id,
        agent_id=agent_id,
        agent_created_at=created_at,
    )

    async with recording_service(db) as realtime:
        connection = await realtime.open(principal)
        before = await realtime.service.check_revoked_keys()
        await db.write(lambda tx: routing_actions.delete_agent(tx, tenant.org_id, agent_id))
        await asyncio.sleep(0.01)
        await db.write(create)
        after = await realtime.service.check_revoked_keys()
        await realtime.service.close_connection(connection)

    assert before == 0
    assert after == 1
    assert realtime.drops == [(CLOSE_AUTH_FAILED, AGENT_DELETED_REASON)]


async def test_revocation_check_ends_token_without_agc(db: Database) -> None:
    # A token without agc (an identity provider's) names the agent row by its
    # issue time, so the row created again after it closes its socket.
    tenant = await make_tenant(db, "Agent check iat org")
    agent_id = "agent_check_iat"
    settings = make_settings(db.url)

    def create(tx: Any) -> None:
        routing_actions.create_agent(tx, tenant.org_id, AgentCreate(id=agent_id, name="Check"))

    def date_back(tx: Any) -> None:
        tx.execute(
            "UPDATE agents SET created_at = :created_at WHERE org_id = :org_id AND id = :id",
            created_at=int(time.time() * 1000) - 4 * LEEWAY_SECONDS * 1000,
            org_id=tenant.org_id,
            id=agent_id,
        )

    await db.write(create)
    await db.write(date_back)
    old_token, _ = issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        org_id=tenant.org_id,
        role="viewer",
        subject=agent_id,
        ttl_seconds=600,
        extra={"aid": agent_id, "iat": int(time.time()) - 2 * LEEWAY_SECONDS},
    )
    principal = verify_token(
        old_token,
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )

    async with recording_service(db) as realtime:
        connection = await realtime.open(principal)
        before = await realtime.service.check_revoked_keys()
        await db.write(lambda tx: routing_actions.delete_agent(tx, tenant.org_id, agent_id))
        await db.write(create)
        after = await realtime.service.check_revoked_keys()
        await realtime.service.close_connection(connection)

    assert principal.agent_created_at is None
    assert before == 0
    assert after == 1
    assert realtime.drops == [(CLOSE_AUTH_FAILED, AGENT_DELETED_REASON)]
