"""Agents API: create, list, get, update, delete and their validation."""

from __future__ import annotations

import pytest

from tests.routing.support import add_agent, patch_agent


async def test_create_agent_returns_documented_shape(client, tenant):
    body = await add_agent(client, tenant, "agent_alpha", capacity=4, skills=["Billing"])

    assert body["id"] == "agent_alpha"
    assert body["name"] == "Agent Alpha"
    assert body["email"] == "agent_alpha@example.test"
    assert body["skills"] == ["billing"]
    assert body["status"] == "online"
    assert body["capacity"] == 4
    assert body["openAssignments"] == 0
    assert body["idleSince"].endswith("Z")
    assert body["lastAssignedAt"] is None


async def test_create_agent_defaults(client, tenant):
    response = await client.post("/agents", json={"name": "Sam"}, headers=tenant.headers)

    assert response.status_code == 201
    body = response.json()
    assert body["id"].startswith("agt_")
    assert body["status"] == "offline"
    assert body["capacity"] == 5
    assert body["skills"] == []
    assert body["idleSince"] is None
    assert response.headers["location"] == f"/api/v2/agents/{body['id']}"


async def test_create_agent_duplicate_id_is_409(client, tenant):
    await add_agent(client, tenant, "agent_alpha")
    response = await client.post(
        "/agents", json={"id": "agent_alpha", "name": "Again"}, headers=tenant.headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["details"]["field"] == "id"


async def test_same_agent_id_in_two_orgs(client, tenant, other_tenant):
    await add_agent(client, tenant, "agent_alpha")
    await add_agent(client, other_tenant, "agent_alpha")


async def test_create_agent_rejects_bad_input(client, tenant):
    cases = [
        ({"name": ""}, "name"),
        ({"name": "A", "capacity": -1}, "capacity"),
        ({"name": "A", "capacity": 1001}, "capacity"),
        ({"name": "A", "status": "busy"}, "status"),
        ({"name": "A", "skills": ["ok", ""]}, "skills[1]"),
        ({"name": "A", "id": "has space"}, "id"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "colour": "red"}, "colour"),
    ]
    for body, field in cases:
        response = await client.post("/agents", json=body, headers=tenant.headers)
        assert response.status_code == 400, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["field"] == field, (body, error)

    listed = await client.get("/agents", headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_list_agents_filters_and_pages(client, tenant):
    await add_agent(client, tenant, "agent_a", skills=["billing"])
    await add_agent(client, tenant, "agent_b", status="away", skills=["legal"])
    await add_agent(client, tenant, "agent_c", status="offline", skills=["billing", "legal"])

    everyone = (await client.get("/agents", headers=tenant.headers)).json()
    assert [item["id"] for item in everyone["data"]] == ["agent_a", "agent_b", "agent_c"]
    assert everyone["pagination"]["total"] == 3

    online = (await client.get("/agents?status=online", headers=tenant.headers)).json()
    assert [item["id"] for item in online["data"]] == ["agent_a"]

    billing = (await client.get("/agents?skill=Billing", headers=tenant.headers)).json()
    assert [item["id"] for item in billing["data"]] == ["agent_a", "agent_c"]

    first = (await client.get("/agents?limit=2", headers=tenant.headers)).json()
    assert first["pagination"]["hasMore"] is True
    cursor = first["pagination"]["nextCursor"]
    rest = (await client.get(f"/agents?limit=2&cursor={cursor}", headers=tenant.headers)).json()
    assert [item["id"] for item in rest["data"]] == ["agent_c"]


async def test_skill_filter_treats_wildcards_literally(client, tenant):
    await add_agent(client, tenant, "agent_a", skills=["a_b"])
    await add_agent(client, tenant, "agent_b", skills=["axb"])

    found = (await client.get("/agents?skill=a_b", headers=tenant.headers)).json()
    assert [item["id"] for item in found["data"]] == ["agent_a"]


async def test_patch_agent_changes_fields(client, tenant):
    await add_agent(client, tenant, "agent_alpha", status="offline")
    body = await patch_agent(
        client, tenant, "agent_alpha", status="online", capacity=4, skills=["billing"]
    )

    assert body["status"] == "online"
    assert body["capacity"] == 4
    assert body["skills"] == ["billing"]
    assert body["idleSince"] is not None

    fetched = (await client.get("/agents/agent_alpha", headers=tenant.headers)).json()
    assert fetched == body


async def test_patch_agent_rejects_empty_and_null(client, tenant):
    await add_agent(client, tenant, "agent_alpha")
    before = (await client.get("/agents/agent_alpha", headers=tenant.headers)).json()

    for body, field in (
        ({}, "body"),
        ({"status": None}, "status"),
        ({"capacity": None}, "capacity"),
    ):
        response = await client.patch("/agents/agent_alpha", json=body, headers=tenant.headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["details"]["field"] == field

    after = (await client.get("/agents/agent_alpha", headers=tenant.headers)).json()
    assert after == before


async def test_other_org_agent_is_404(client, tenant, other_tenant):
    await add_agent(client, tenant, "agent_alpha")
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method,
            "/agents/agent_alpha",
            json={"status": "offline"} if method == "PATCH" else None,
            headers=other_tenant.headers,
        )
        assert response.status_code == 404, method
        assert response.json()["error"]["code"] == "NOT_FOUND"


async def test_delete_agent(client, tenant):
    await add_agent(client, tenant, "agent_alpha")
    response = await client.delete("/agents/agent_alpha", headers=tenant.headers)
    assert response.status_code == 204

    gone = await client.get("/agents/agent_alpha", headers=tenant.headers)
    assert gone.status_code == 404


async def test_agent_role_may_only_set_status(client, db, tenant):
    from campfire_server.auth import keys

    issued = await db.write(
        lambda tx: keys.create_key(tx, org_id=tenant.org_id, name="agent key", role="agent")
    )
    agent_key = {"Authorization": f"Bearer {issued.key}"}
    await add_agent(client, tenant, "agent_alpha", status="offline")

    status = await client.patch("/agents/agent_alpha", json={"status": "online"}, headers=agent_key)
    capacity = await client.patch("/agents/agent_alpha", json={"capacity": 9}, headers=agent_key)

    assert status.status_code == 200
    assert status.json()["status"] == "online"
    assert capacity.status_code == 403
    assert (await client.get("/agents/agent_alpha", headers=agent_key)).json()["capacity"] == 5


@pytest.mark.parametrize("email", ["a@b", "a@b.", "a@.b", "a@b..c", "a@@b.c"])
async def test_create_agent_rejects_email_without_dotted_domain(client, tenant, email):
    response = await client.post(
        "/agents", json={"name": "A", "email": email}, headers=tenant.headers
    )

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "email"
    assert error["details"]["value"] == email
    assert "domain has a dot" in error["details"]["expected"]


@pytest.mark.parametrize("email", ["a@b.co", "first.last+tag@mail.example.org"])
async def test_create_agent_accepts_dotted_domain(client, tenant, email):
    response = await client.post(
        "/agents", json={"name": "A", "email": email}, headers=tenant.headers
    )

    assert response.status_code == 201, response.text
    assert response.json()["email"] == email
