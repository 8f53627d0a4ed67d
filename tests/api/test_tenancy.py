"""Tenant isolation: another organization's ids behave like ids that do not exist."""

from __future__ import annotations

from tests.helpers import create_conversation, get_conversation, send_message


async def test_other_org_sees_nothing(client, tenant, other_tenant):
    conversation = await create_conversation(client, tenant)
    message = (await send_message(client, tenant, conversation["id"], "private text")).json()
    path = f"/conversations/{conversation['id']}"
    missing = "conv_doesnotexist0000000000"

    for target in (path, f"/conversations/{missing}"):
        response = await client.get(target, headers=other_tenant.headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"

    own_missing = await client.get(f"/conversations/{missing}", headers=other_tenant.headers)
    foreign = await client.get(path, headers=other_tenant.headers)
    assert foreign.json()["error"]["message"].replace(
        conversation["id"], "X"
    ) == own_missing.json()["error"]["message"].replace(missing, "X")

    assert (await client.get(f"{path}/messages", headers=other_tenant.headers)).status_code == 404
    patched = await client.patch(path, json={"priority": "high"}, headers=other_tenant.headers)
    assert patched.status_code == 404
    posted = await send_message(client, other_tenant, conversation["id"], "intrusion")
    assert posted.status_code == 404

    listed = await client.get("/conversations", params={"limit": 100}, headers=other_tenant.headers)
    assert conversation["id"] not in [item["id"] for item in listed.json()["data"]]
    assert "private text" not in listed.text

    after = await get_conversation(client, tenant, conversation["id"])
    assert after["priority"] == "medium"
    assert after["messageCount"] == 1
    messages = await client.get(f"{path}/messages", headers=tenant.headers)
    assert [item["id"] for item in messages.json()["data"]] == [message["id"]]


async def test_other_org_mailbox_is_404(client, tenant, other_tenant):
    response = await client.post(
        "/conversations",
        json={"customerId": "customer_test_A", "mailboxId": "mailbox_test_1"},
        headers=other_tenant.headers,
    )
    # Both orgs have a mailbox of that id; each conversation lands in its own org.
    assert response.status_code == 201
    mine = await client.get(f"/conversations/{response.json()['id']}", headers=tenant.headers)
    assert mine.status_code == 404
