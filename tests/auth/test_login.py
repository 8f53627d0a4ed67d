"""Inbox sign-in: passwords, agent tokens, self-service status and the queue listing."""

from __future__ import annotations

import itertools

import jwt
import pytest

from campfire_server.auth.passwords import hash_password, verify_password
from tests.auth.conftest import bearer, mint
from tests.conftest import make_tenant
from tests.helpers import create_conversation

PASSWORD = "correct horse battery"
_counter = itertools.count()


def unique_email() -> str:
    return f"agent{next(_counter)}@example.test"


async def create_agent(client, tenant, email: str, **fields) -> dict:
    body = {"name": "Alex Agent", "email": email, "password": PASSWORD, **fields}
    response = await client.post("/agents", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def login(client, email: str, password: str = PASSWORD, **fields):
    return await client.post("/auth/login", json={"email": email, "password": password, **fields})


def test_password_hash_is_argon2id() -> None:
    encoded = hash_password(PASSWORD)
    assert encoded.startswith("$argon2id$")
    assert PASSWORD not in encoded
    assert verify_password(encoded, PASSWORD) == (True, False)
    assert verify_password(encoded, "wrong password") == (False, False)
    assert verify_password(None, PASSWORD) == (False, False)


async def test_login_returns_agent_token(client, tenant, app) -> None:
    email = unique_email()
    agent = await create_agent(client, tenant, email)
    assert agent["hasPassword"] is True
    assert "password" not in agent
    assert "passwordHash" not in agent

    response = await login(client, email.upper())
    assert response.status_code == 200, response.text
    session = response.json()
    assert session["agent"]["id"] == agent["id"]
    assert session["organizationId"] == tenant.org_id

    settings = app.state.settings
    claims = jwt.decode(
        session["token"],
        settings.jwt_secret,
        algorithms=["HS256"],
        audience=settings.jwt_audience,
        issuer=settings.jwt_issuer,
    )
    assert claims["role"] == "agent"
    assert claims["aid"] == agent["id"]
    assert claims["sub"] == agent["id"]
    assert claims["org"] == tenant.org_id
    assert claims["exp"] - claims["iat"] == settings.inbox_session_ttl_seconds


@pytest.mark.parametrize("case", ["wrong password", "unknown email", "no password set"])
async def test_login_failures_look_alike(client, tenant, case) -> None:
    email = unique_email()
    if case == "no password set":
        response = await client.post(
            "/agents", json={"name": "No Password", "email": email}, headers=tenant.headers
        )
        assert response.json()["hasPassword"] is False
        password = PASSWORD
    else:
        await create_agent(client, tenant, email)
        password = "not the password" if case == "wrong password" else PASSWORD
        if case == "unknown email":
            email = "nobody-" + email
    response = await login(client, email, password)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "the email or password is incorrect"


async def test_admin_sets_password_with_patch(client, tenant) -> None:
    email = unique_email()
    agent = await create_agent(client, tenant, email)
    response = await client.patch(
        f"/agents/{agent['id']}", json={"password": "a brand new secret"}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert (await login(client, email)).status_code == 401
    assert (await login(client, email, "a brand new secret")).status_code == 200


async def test_short_password_rejected(client, tenant) -> None:
    response = await client.post(
        "/agents",
        json={"name": "Short", "email": unique_email(), "password": "short"},
        headers=tenant.headers,
    )
    assert response.status_code == 400


async def test_same_email_in_two_orgs_needs_org_id(client, db, tenant) -> None:
    other = await make_tenant(db, "Other org")
    email = unique_email()
    await create_agent(client, tenant, email)
    await create_agent(client, other, email)
    ambiguous = await login(client, email)
    assert ambiguous.status_code == 400
    chosen = await login(client, email, orgId=other.org_id)
    assert chosen.status_code == 200
    assert chosen.json()["organizationId"] == other.org_id


async def test_login_is_rate_limited_per_ip(client, app) -> None:
    limit = app.state.settings.rate_limit_login_attempts_per_minute
    statuses = [
        (await login(client, "flood@example.test", "wrong password")).status_code
        for _ in range(limit + 1)
    ]
    assert statuses[:limit] == [401] * limit
    assert statuses[limit] == 429


async def test_agent_sets_own_status_only(client, tenant) -> None:
    email = unique_email()
    agent = await create_agent(client, tenant, email)
    colleague = await create_agent(client, tenant, unique_email())
    token = (await login(client, email)).json()["token"]

    own = await client.patch(
        f"/agents/{agent['id']}", json={"status": "away"}, headers=bearer(token)
    )
    assert own.status_code == 200, own.text
    assert own.json()["status"] == "away"

    other = await client.patch(
        f"/agents/{colleague['id']}", json={"status": "away"}, headers=bearer(token)
    )
    assert other.status_code == 403
    capacity = await client.patch(
        f"/agents/{agent['id']}", json={"capacity": 50}, headers=bearer(token)
    )
    assert capacity.status_code == 403


async def test_viewer_cannot_set_status(client, app, tenant) -> None:
    agent = await create_agent(client, tenant, unique_email())
    viewer = mint(app, tenant.org_id, "viewer", aid=agent["id"])
    response = await client.patch(
        f"/agents/{agent['id']}", json={"status": "online"}, headers=bearer(viewer)
    )
    assert response.status_code == 403


async def test_agent_takes_queued_conversation(client, tenant) -> None:
    email = unique_email()
    agent = await create_agent(client, tenant, email)
    token = (await login(client, email)).json()["token"]
    low = await create_conversation(client, tenant, priority="low")
    urgent = await create_conversation(client, tenant, priority="urgent")
    for conversation, priority in ((low, "low"), (urgent, "urgent")):
        response = await client.post(
            f"/conversations/{conversation['id']}/handoff",
            json={"priority": priority, "reason": "asked for a person"},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text

    queue = await client.get("/handoffs", params={"status": "queued"}, headers=bearer(token))
    assert queue.status_code == 200, queue.text
    ids = [item["conversationId"] for item in queue.json()["data"]]
    assert ids.index(urgent["id"]) < ids.index(low["id"])
    entry = next(item for item in queue.json()["data"] if item["conversationId"] == low["id"])
    assert entry["mailboxId"] == low["mailboxId"]
    assert entry["waitingSeconds"] >= 0

    taken = await client.patch(
        f"/conversations/{low['id']}", json={"assignedAgentId": agent["id"]}, headers=bearer(token)
    )
    assert taken.status_code == 200, taken.text
    handoff = await client.get(f"/conversations/{low['id']}/handoff", headers=bearer(token))
    assert handoff.json()["status"] == "assigned"
    assert handoff.json()["agentId"] == agent["id"]
    queue = await client.get("/handoffs", headers=bearer(token))
    assert low["id"] not in [item["conversationId"] for item in queue.json()["data"]]

    reply = await client.post(
        f"/conversations/{low['id']}/messages",
        json={"content": "Hello, I can help.", "authorType": "agent"},
        headers=bearer(token),
    )
    assert reply.status_code == 201, reply.text
    assert reply.json()["authorId"] == agent["id"]


async def test_queue_hides_other_orgs(client, db, tenant) -> None:
    other = await make_tenant(db, "Queue neighbour")
    conversation = await create_conversation(client, other)
    response = await client.post(
        f"/conversations/{conversation['id']}/handoff", json={}, headers=other.headers
    )
    assert response.status_code == 201
    queue = await client.get("/handoffs", headers=tenant.headers)
    assert conversation["id"] not in [item["conversationId"] for item in queue.json()["data"]]


async def test_viewer_cannot_reply(client, app, tenant) -> None:
    conversation = await create_conversation(client, tenant)
    viewer = mint(app, tenant.org_id, "viewer")
    response = await client.post(
        f"/conversations/{conversation['id']}/messages",
        json={"content": "I should not be able to send this", "authorType": "agent"},
        headers=bearer(viewer),
    )
    assert response.status_code == 403
