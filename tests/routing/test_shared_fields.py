"""Fields that several routes take are checked the same way on each of them."""

from __future__ import annotations

import pytest

from tests.auth.conftest import bearer, create_key
from tests.helpers import create_conversation
from tests.routing.support import HANDOFF_BODY, events, hand_off


def context_with(**changes):
    context = {**HANDOFF_BODY["context"], **changes}
    return {"context": context}


def customer_with(**changes):
    customer = {**HANDOFF_BODY["context"]["customerInfo"], **changes}
    return context_with(customerInfo=customer)


HANDOFF_CASES = [
    (context_with(previousAttempts=-5), "context.previousAttempts", -5),
    (context_with(previousAttempts=1_000_001), "context.previousAttempts", 1_000_001),
    (context_with(previousAttempts="2"), "context.previousAttempts", "2"),
    (customer_with(email="notanemail"), "context.customerInfo.email", "notanemail"),
    (customer_with(tier="t" * 65), "context.customerInfo.tier", "t" * 65),
    (customer_with(name="   "), "context.customerInfo.name", "   "),
]


@pytest.mark.parametrize(("overrides", "field", "value"), HANDOFF_CASES)
async def test_handoff_context_fields_checked(client, db, tenant, overrides, field, value):
    conversation = await create_conversation(client, tenant)
    response = await hand_off(client, tenant, conversation["id"], **overrides)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert error["details"]["value"] == value
    assert error["details"]["expected"]

    assert await events(db, tenant.org_id, "handoff.requested") == []
    handoff = await client.get(
        f"/conversations/{conversation['id']}/handoff", headers=tenant.headers
    )
    assert handoff.status_code == 404


async def test_handoff_context_keeps_other_keys(client, tenant):
    conversation = await create_conversation(client, tenant)
    overrides = context_with(orderId="A-1001", cart={"items": 2})
    response = await hand_off(client, tenant, conversation["id"], **overrides)
    assert response.status_code == 201, response.text
    context = response.json()["context"]
    assert context["orderId"] == "A-1001"
    assert context["cart"] == {"items": 2}
    assert context["previousAttempts"] == 1
    assert context["customerInfo"]["email"] == "cust-a@example.test"


async def test_counts_share_one_rule(client, tenant):
    conversation = await create_conversation(client, tenant)
    generated = await client.post(
        "/ai/generate-response",
        json={
            "conversationId": conversation["id"],
            "messageContent": "How do refunds work?",
            "context": {"previousInteractions": -5},
        },
        headers=tenant.headers,
    )
    handed_off = await hand_off(
        client, tenant, conversation["id"], **context_with(previousAttempts=-5)
    )
    assert generated.status_code == 400, generated.text
    assert handed_off.status_code == 400, handed_off.text
    generated_error = generated.json()["error"]
    handoff_error = handed_off.json()["error"]
    assert generated_error["details"]["field"] == "context.previousInteractions"
    assert handoff_error["details"]["field"] == "context.previousAttempts"
    assert generated_error["details"]["expected"] == handoff_error["details"]["expected"]


async def test_emails_share_one_rule(client, db, tenant):
    key = await create_key(
        db, tenant.org_id, kind="publishable", role="customer", mailbox_ids=[tenant.mailbox_id]
    )
    session = await client.post(
        "/widget/session",
        json={"mailboxId": tenant.mailbox_id, "customerId": "c_mail", "email": "notanemail"},
        headers=bearer(key),
    )
    agent = await client.post(
        "/agents", json={"name": "Ana", "email": "notanemail"}, headers=tenant.headers
    )
    conversation = await create_conversation(client, tenant)
    handoff = await hand_off(
        client, tenant, conversation["id"], **customer_with(email="notanemail")
    )
    expectations = set()
    for response, field in (
        (session, "email"),
        (agent, "email"),
        (handoff, "context.customerInfo.email"),
    ):
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert error["details"]["field"] == field
        assert error["details"]["value"] == "notanemail"
        assert "notanemail" in error["message"]
        expectations.add(error["details"]["expected"])
    assert len(expectations) == 1

    listed = await client.get("/agents", headers=tenant.headers)
    assert all(row["name"] != "Ana" for row in listed.json()["data"])
