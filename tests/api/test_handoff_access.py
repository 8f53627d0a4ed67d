"""An agent completing or cancelling the handoff of another agent's conversation gets 409.

Both endpoints unassign the conversation, so they follow the same rule as
a take: the holder, admin tokens and API keys may, other agents may not.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.api.test_take_conflict import _agent_headers, _create_agents, _queued_conversation, _take
from tests.conftest import Tenant, make_tenant
from tests.realtime.conftest import token_for


async def _taken_conversation(http: httpx.AsyncClient, tenant: Tenant) -> str:
    """Create a conversation whose handoff agent_ann has taken."""
    await _create_agents(http, tenant)
    conversation_id = await _queued_conversation(http, tenant)
    taken = await _take(http, tenant, conversation_id, "agent_ann")
    assert taken.status_code == 200, taken.text
    return conversation_id


async def _assert_still_held(http: httpx.AsyncClient, tenant: Tenant, conversation_id: str) -> None:
    conversation = await http.get(f"/conversations/{conversation_id}", headers=tenant.headers)
    handoff = await http.get(f"/conversations/{conversation_id}/handoff", headers=tenant.headers)
    assert conversation.json()["assignedAgentId"] == "agent_ann"
    assert handoff.json()["status"] == "assigned"
    assert handoff.json()["agentId"] == "agent_ann"


@pytest.mark.parametrize("endpoint", ["cancel", "complete"])
async def test_other_agent_finish_conflicts(client, db, endpoint: str) -> None:
    tenant = await make_tenant(db, f"Other agent {endpoint} org")
    conversation_id = await _taken_conversation(client, tenant)

    response = await client.post(
        f"/conversations/{conversation_id}/handoff/{endpoint}",
        headers=_agent_headers(tenant, "agent_bob"),
    )

    assert response.status_code == 409, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["code"] == "CONFLICT"
    assert error["details"]["field"] == "assignedAgentId"
    assert error["details"]["value"] is None
    assert error["details"]["current"] == "agent_ann"
    assert '"agent_ann"' in error["message"]
    assert '"agent_bob"' in error["message"]
    assert f"cannot {endpoint} its handoff" in error["message"]
    await _assert_still_held(client, tenant, conversation_id)


async def test_cancel_then_take_conflicts(client, db) -> None:
    tenant = await make_tenant(db, "Cancel then take org")
    conversation_id = await _taken_conversation(client, tenant)
    bob = _agent_headers(tenant, "agent_bob")

    cancelled = await client.post(f"/conversations/{conversation_id}/handoff/cancel", headers=bob)
    requested = await client.post(
        f"/conversations/{conversation_id}/handoff", json={"reason": "mine now"}, headers=bob
    )
    taken = await _take(client, tenant, conversation_id, "agent_bob")
    completed = await client.post(f"/conversations/{conversation_id}/handoff/complete", headers=bob)

    assert cancelled.status_code == 409, cancelled.text
    assert requested.status_code == 200, requested.text
    assert requested.json()["agentId"] == "agent_ann"
    assert taken.status_code == 409, taken.text
    assert completed.status_code == 409, completed.text
    await _assert_still_held(client, tenant, conversation_id)


@pytest.mark.parametrize("endpoint", ["cancel", "complete"])
async def test_holder_finishes_own_handoff(client, db, endpoint: str) -> None:
    tenant = await make_tenant(db, f"Holder {endpoint} org")
    conversation_id = await _taken_conversation(client, tenant)

    response = await client.post(
        f"/conversations/{conversation_id}/handoff/{endpoint}",
        headers=_agent_headers(tenant, "agent_ann"),
    )

    assert response.status_code == 200, response.text
    expected_status = {"cancel": "cancelled", "complete": "completed"}[endpoint]
    assert response.json()["status"] == expected_status
    conversation = await client.get(f"/conversations/{conversation_id}", headers=tenant.headers)
    assert conversation.json()["assignedAgentId"] is None


@pytest.mark.parametrize("endpoint", ["cancel", "complete"])
@pytest.mark.parametrize("credential", ["admin", "api_key"])
async def test_admin_finishes_taken_handoff(client, db, endpoint: str, credential: str) -> None:
    tenant = await make_tenant(db, f"Admin {endpoint} {credential} org")
    conversation_id = await _taken_conversation(client, tenant)
    if credential == "admin":
        headers = {"Authorization": f"Bearer {token_for(tenant, 'admin')}"}
    else:
        headers = tenant.headers

    response = await client.post(
        f"/conversations/{conversation_id}/handoff/{endpoint}", headers=headers
    )

    assert response.status_code == 200, response.text
    conversation = await client.get(f"/conversations/{conversation_id}", headers=tenant.headers)
    assert conversation.json()["assignedAgentId"] is None


async def test_other_agent_finishes_free_handoff(client, db) -> None:
    tenant = await make_tenant(db, "Free cancel org")
    await _create_agents(client, tenant)
    conversation_id = await _queued_conversation(client, tenant)

    cancelled = await client.post(
        f"/conversations/{conversation_id}/handoff/cancel",
        headers=_agent_headers(tenant, "agent_bob"),
    )

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
