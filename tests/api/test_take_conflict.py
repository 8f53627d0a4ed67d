"""An agent taking, unassigning or reassigning another agent's conversation gets 409.

Admin tokens and API keys are not checked.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from campfire_server.db import migrate
from campfire_server.db.database import open_database
from tests.conftest import (
    LiveServer,
    Tenant,
    create_postgres_database,
    drop_postgres_database,
    make_tenant,
    start_server,
)
from tests.realtime.conftest import token_for


async def _create_agents(http: httpx.AsyncClient, tenant: Tenant) -> None:
    """Create agents ann, bob and cal offline, so that routing queues every handoff."""
    for agent_id in ("agent_ann", "agent_bob", "agent_cal"):
        response = await http.post(
            "/agents",
            json={"id": agent_id, "name": agent_id, "status": "offline"},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text


async def _queued_conversation(http: httpx.AsyncClient, tenant: Tenant) -> str:
    """Create a conversation whose handoff is queued."""
    created = await http.post(
        "/conversations",
        json={"customerId": "customer_take", "mailboxId": tenant.mailbox_id},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    conversation_id = created.json()["id"]
    handoff = await http.post(
        f"/conversations/{conversation_id}/handoff",
        json={"reason": "needs a person"},
        headers=tenant.headers,
    )
    assert handoff.status_code == 201, handoff.text
    assert handoff.json()["status"] == "queued"
    return conversation_id


def _agent_headers(tenant: Tenant, agent_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(tenant, 'agent', agent_id=agent_id)}"}


async def _take(
    http: httpx.AsyncClient, tenant: Tenant, conversation_id: str, agent_id: str
) -> httpx.Response:
    return await http.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": agent_id},
        headers=_agent_headers(tenant, agent_id),
    )


async def _unassign(
    http: httpx.AsyncClient, tenant: Tenant, conversation_id: str, agent_id: str
) -> httpx.Response:
    return await http.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": None},
        headers=_agent_headers(tenant, agent_id),
    )


async def test_second_take_gets_conflict(client, db) -> None:
    tenant = await make_tenant(db, "Take org")
    await _create_agents(client, tenant)
    conversation_id = await _queued_conversation(client, tenant)

    first = await _take(client, tenant, conversation_id, "agent_ann")
    second = await _take(client, tenant, conversation_id, "agent_bob")
    again = await _take(client, tenant, conversation_id, "agent_ann")

    assert first.status_code == 200, first.text
    assert first.json()["assignedAgentId"] == "agent_ann"
    assert second.status_code == 409
    error: dict[str, Any] = second.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["current"] == "agent_ann"
    assert '"agent_ann"' in error["message"]
    assert again.status_code == 200, again.text

    current = await client.get(f"/conversations/{conversation_id}", headers=tenant.headers)
    assert current.json()["assignedAgentId"] == "agent_ann"
    handoff = await client.get(f"/conversations/{conversation_id}/handoff", headers=tenant.headers)
    assert handoff.json()["agentId"] == "agent_ann"


async def test_unassign_of_other_agent_conflicts(client, db) -> None:
    tenant = await make_tenant(db, "Unassign org")
    await _create_agents(client, tenant)
    conversation_id = await _queued_conversation(client, tenant)
    assert (await _take(client, tenant, conversation_id, "agent_ann")).status_code == 200

    unassigned = await _unassign(client, tenant, conversation_id, "agent_bob")
    second_take = await _take(client, tenant, conversation_id, "agent_bob")

    assert unassigned.status_code == 409
    error: dict[str, Any] = unassigned.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["current"] == "agent_ann"
    assert error["details"]["value"] is None
    assert second_take.status_code == 409
    current = await client.get(f"/conversations/{conversation_id}", headers=tenant.headers)
    assert current.json()["assignedAgentId"] == "agent_ann"


async def _assign(
    http: httpx.AsyncClient, tenant: Tenant, conversation_id: str, agent_id: str, assignee: str
) -> httpx.Response:
    return await http.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": assignee},
        headers=_agent_headers(tenant, agent_id),
    )


async def test_reassign_of_other_agent_conflicts(client, db) -> None:
    tenant = await make_tenant(db, "Third agent org")
    await _create_agents(client, tenant)
    conversation_id = await _queued_conversation(client, tenant)
    assert (await _take(client, tenant, conversation_id, "agent_ann")).status_code == 200

    reassigned = await _assign(client, tenant, conversation_id, "agent_bob", "agent_cal")

    assert reassigned.status_code == 409
    error: dict[str, Any] = reassigned.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["field"] == "assignedAgentId"
    assert error["details"]["value"] == "agent_cal"
    assert error["details"]["current"] == "agent_ann"
    assert '"agent_ann"' in error["message"]
    current = await client.get(f"/conversations/{conversation_id}", headers=tenant.headers)
    assert current.json()["assignedAgentId"] == "agent_ann"
    handoff = await client.get(f"/conversations/{conversation_id}/handoff", headers=tenant.headers)
    assert handoff.json()["agentId"] == "agent_ann"


async def test_agent_reassigns_own_or_free(client, db) -> None:
    tenant = await make_tenant(db, "Own reassign org")
    await _create_agents(client, tenant)
    own = await _queued_conversation(client, tenant)
    free = await _queued_conversation(client, tenant)
    assert (await _take(client, tenant, own, "agent_ann")).status_code == 200

    handed_on = await _assign(client, tenant, own, "agent_ann", "agent_cal")
    assigned = await _assign(client, tenant, free, "agent_bob", "agent_cal")

    assert handed_on.status_code == 200, handed_on.text
    assert handed_on.json()["assignedAgentId"] == "agent_cal"
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignedAgentId"] == "agent_cal"


async def test_agent_unassigns_own_conversation(client, db) -> None:
    tenant = await make_tenant(db, "Own unassign org")
    await _create_agents(client, tenant)
    conversation_id = await _queued_conversation(client, tenant)
    assert (await _take(client, tenant, conversation_id, "agent_ann")).status_code == 200

    unassigned = await _unassign(client, tenant, conversation_id, "agent_ann")
    second_take = await _take(client, tenant, conversation_id, "agent_bob")

    assert unassigned.status_code == 200, unassigned.text
    assert unassigned.json()["assignedAgentId"] is None
    assert second_take.status_code == 200, second_take.text
    assert second_take.json()["assignedAgentId"] == "agent_bob"


async def test_admin_unassigns_taken_conversation(client, db) -> None:
    tenant = await make_tenant(db, "Admin unassign org")
    await _create_agents(client, tenant)
    conversation_id = await _queued_conversation(client, tenant)
    assert (await _take(client, tenant, conversation_id, "agent_ann")).status_code == 200
    admin_headers = {"Authorization": f"Bearer {token_for(tenant, 'admin')}"}

    by_admin = await client.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": None},
        headers=admin_headers,
    )

    assert by_admin.status_code == 200, by_admin.text
    assert by_admin.json()["assignedAgentId"] is None


async def test_admin_reassigns_taken_conversation(client, db) -> None:
    tenant = await make_tenant(db, "Reassign org")
    await _create_agents(client, tenant)
    conversation_id = await _queued_conversation(client, tenant)
    assert (await _take(client, tenant, conversation_id, "agent_ann")).status_code == 200

    reassigned = await client.patch(
        f"/conversations/{conversation_id}",
        json={"assignedAgentId": "agent_bob"},
        headers=tenant.headers,
    )

    assert reassigned.status_code == 200, reassigned.text
    assert reassigned.json()["assignedAgentId"] == "agent_bob"


async def test_concurrent_takes_on_two_processes(postgres_available, tmp_path: Path) -> None:
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = create_postgres_database()
    migrate.upgrade(url)
    servers: list[LiveServer] = []
    try:
        database = open_database(url, pool_size=2)
        try:
            tenant = await make_tenant(database, "Concurrent take org")
        finally:
            await database.close()
        for _ in range(2):
            servers.append(start_server(url, tmp_path, env={"CAMPFIRE_REDIS_URL": ""}))
        first, second = servers
        async with (
            httpx.AsyncClient(base_url=first.api, timeout=30) as http_first,
            httpx.AsyncClient(base_url=second.api, timeout=30) as http_second,
        ):
            await _create_agents(http_first, tenant)
            for _ in range(5):
                conversation_id = await _queued_conversation(http_first, tenant)
                responses = await asyncio.gather(
                    _take(http_first, tenant, conversation_id, "agent_ann"),
                    _take(http_second, tenant, conversation_id, "agent_bob"),
                )
                codes = sorted(response.status_code for response in responses)
                winners = [r.json() for r in responses if r.status_code == 200]
                current = await http_first.get(
                    f"/conversations/{conversation_id}", headers=tenant.headers
                )

                assert codes == [200, 409]
                assert current.json()["assignedAgentId"] == winners[0]["assignedAgentId"]
    finally:
        for server in servers:
            server.stop()
        drop_postgres_database(url)
