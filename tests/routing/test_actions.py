"""The routing functions other layers call inside their own transactions."""

from __future__ import annotations

import pytest

from campfire_server.auth.tokens import issue_token
from campfire_server.config import DEVELOPMENT_JWT_SECRET
from campfire_server.errors import NotFound, ValidationFailed
from campfire_server.routing import actions
from tests.helpers import create_conversation
from tests.routing.support import HANDOFF_BODY, add_agent, events, get_handoff


def customer_headers(tenant, customer_id: str) -> dict[str, str]:
    token, _expires = issue_token(
        secret=DEVELOPMENT_JWT_SECRET,
        issuer="campfire",
        audience="campfire",
        org_id=tenant.org_id,
        role="customer",
        subject=customer_id,
        ttl_seconds=600,
        extra={"cid": customer_id},
    )
    return {"Authorization": f"Bearer {token}"}


async def test_request_handoff_composes_into_caller_transaction(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    conversation = await create_conversation(client, tenant)

    def work(tx):  # type: ignore[no-untyped-def]
        handoff = actions.request_handoff(
            tx,
            org_id=tenant.org_id,
            conversation_id=conversation["id"],
            reason="low_confidence",
            priority="high",
            required_skills=["Billing"],
            context={"confidence": 0.2},
            source="ai",
        )
        source = tx.value("SELECT source FROM handoffs WHERE id = :id", id=handoff.id)
        return handoff, source

    handoff, source = await db.write(work)

    assert handoff.status == "queued"
    assert handoff.required_skills == ["billing"]
    assert handoff.unroutable_skills == ["billing"]
    assert source == "ai"
    assert (await get_handoff(client, tenant, conversation["id"]))["id"] == handoff.id


async def test_request_handoff_rolls_back_with_caller(client, db, tenant):
    conversation = await create_conversation(client, tenant)

    def work(tx):  # type: ignore[no-untyped-def]
        actions.request_handoff(
            tx, org_id=tenant.org_id, conversation_id=conversation["id"], reason="x"
        )
        raise RuntimeError("the caller failed after requesting the handoff")

    with pytest.raises(RuntimeError):
        await db.write(work)

    missing = await client.get(
        f"/conversations/{conversation['id']}/handoff", headers=tenant.headers
    )
    assert missing.status_code == 404
    assert await events(db, tenant.org_id, "handoff.requested") == []


async def test_request_handoff_validates_input(client, db, tenant):
    conversation = await create_conversation(client, tenant)
    cases = [
        ({"priority": "critical"}, "priority"),
        ({"required_skills": ["ok", ""]}, "requiredSkills[1]"),
        ({"reason": "x" * 1001}, "reason"),
        ({"context": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}, "context"),
    ]
    for overrides, field in cases:
        arguments = {"reason": "r", **overrides}
        with pytest.raises(ValidationFailed) as caught:
            await db.write(
                lambda tx, arguments=arguments: actions.request_handoff(
                    tx, org_id=tenant.org_id, conversation_id=conversation["id"], **arguments
                )
            )
        assert caught.value.details["field"] == field


async def test_request_handoff_other_org_not_found(client, db, tenant, other_tenant):
    conversation = await create_conversation(client, tenant)
    with pytest.raises(NotFound):
        await db.write(
            lambda tx: actions.request_handoff(
                tx, org_id=other_tenant.org_id, conversation_id=conversation["id"], reason="r"
            )
        )


async def test_set_agent_status_routes_queue(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha", status="offline")
    conversation = await create_conversation(client, tenant)
    await client.post(
        f"/conversations/{conversation['id']}/handoff", json=HANDOFF_BODY, headers=tenant.headers
    )

    agent = await db.write(
        lambda tx: actions.set_agent_status(
            tx, org_id=tenant.org_id, agent_id="agent_alpha", status="online"
        )
    )

    assert agent.status == "online"
    assert agent.open_assignments == 1
    assert (await get_handoff(client, tenant, conversation["id"]))["agentId"] == "agent_alpha"


async def test_set_agent_status_rejects_unknown(client, db, tenant):
    await add_agent(client, tenant, "agent_alpha")
    with pytest.raises(ValidationFailed):
        await db.write(
            lambda tx: actions.set_agent_status(
                tx, org_id=tenant.org_id, agent_id="agent_alpha", status="busy"
            )
        )
    with pytest.raises(NotFound):
        await db.write(
            lambda tx: actions.set_agent_status(
                tx, org_id=tenant.org_id, agent_id="agent_nobody", status="online"
            )
        )


async def test_customer_reads_only_own_handoff(client, tenant):
    conversation = await create_conversation(client, tenant)
    await client.post(
        f"/conversations/{conversation['id']}/handoff", json=HANDOFF_BODY, headers=tenant.headers
    )
    path = f"/conversations/{conversation['id']}/handoff"

    own = await client.get(path, headers=customer_headers(tenant, "customer_test_A"))
    other = await client.get(path, headers=customer_headers(tenant, "customer_test_B"))
    request = await client.post(
        path, json=HANDOFF_BODY, headers=customer_headers(tenant, "customer_test_A")
    )

    assert own.status_code == 200
    assert own.json()["status"] == "queued"
    assert own.json()["reason"] is None
    assert own.json()["context"] == {}
    assert other.status_code == 404
    assert request.status_code == 403
