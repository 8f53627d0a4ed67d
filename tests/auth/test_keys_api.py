"""Key management and token issuing over REST."""

from __future__ import annotations

import jwt

from tests.auth.conftest import bearer, mint


async def test_key_lifecycle(client, tenant):
    created = await client.post(
        "/keys", json={"name": "backend", "role": "agent"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"].startswith("sk_live_")
    assert body["role"] == "agent"
    assert created.headers["cache-control"] == "no-store"
    key = body["key"]

    listed = await client.get("/keys", headers=tenant.headers)
    assert listed.status_code == 200
    assert key not in listed.text
    row = next(item for item in listed.json()["data"] if item["id"] == body["id"])
    assert "key" not in row
    assert key.startswith(row["prefix"])

    assert (await client.get("/conversations", headers=bearer(key))).status_code == 200
    revoked = await client.delete(f"/keys/{body['id']}", headers=tenant.headers)
    assert revoked.status_code == 204
    after = await client.get("/conversations", headers=bearer(key))
    assert after.status_code == 401
    again = await client.delete(f"/keys/{body['id']}", headers=tenant.headers)
    assert again.status_code == 204
    listed = await client.get("/keys", headers=tenant.headers)
    row = next(item for item in listed.json()["data"] if item["id"] == body["id"])
    assert row["revokedAt"] is not None


async def test_publishable_key_creation(client, tenant):
    created = await client.post(
        "/keys",
        json={
            "kind": "publishable",
            "mailboxIds": ["mailbox_test_1"],
            "allowedOrigins": ["HTTPS://Shop.Example:443/"],
        },
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["key"].startswith("pk_live_")
    assert body["role"] == "customer"
    assert body["allowedOrigins"] == ["https://shop.example"]


async def test_key_validation(client, tenant):
    cases = {
        "publishable admin": {"kind": "publishable", "role": "admin"},
        "secret customer": {"role": "customer"},
        "bad origin": {"kind": "publishable", "allowedOrigins": ["javascript:alert(1)"]},
        "origin with path": {"kind": "publishable", "allowedOrigins": ["https://a.example/x"]},
        "secret with origins": {"allowedOrigins": ["https://a.example"]},
        "unknown field": {"scopes": ["all"]},
    }
    before = (await client.get("/keys", headers=tenant.headers)).json()["data"]
    for label, body in cases.items():
        response = await client.post("/keys", json=body, headers=tenant.headers)
        assert response.status_code == 400, label
        assert response.json()["error"]["code"] == "VALIDATION_ERROR", label
    missing_mailbox = await client.post(
        "/keys", json={"mailboxIds": ["mailbox_nope"]}, headers=tenant.headers
    )
    assert missing_mailbox.status_code == 404
    after = (await client.get("/keys", headers=tenant.headers)).json()["data"]
    assert after == before


async def test_other_org_key_is_404(client, tenant, other_tenant):
    created = await client.post("/keys", json={}, headers=tenant.headers)
    response = await client.delete(f"/keys/{created.json()['id']}", headers=other_tenant.headers)
    assert response.status_code == 404
    assert (await client.get("/conversations", headers=bearer(created.json()["key"]))).is_success


async def test_issue_agent_token(client, app, tenant):
    agent = await client.post(
        "/agents", json={"id": "agt_alpha", "name": "Alpha"}, headers=tenant.headers
    )
    assert agent.status_code == 201, agent.text
    response = await client.post(
        "/auth/tokens",
        json={"role": "agent", "agentId": "agt_alpha", "ttlSeconds": 120},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    settings = app.state.settings
    claims = jwt.decode(
        body["token"], settings.jwt_secret, algorithms=["HS256"], audience=settings.jwt_audience
    )
    assert claims["role"] == "agent"
    assert claims["aid"] == "agt_alpha"
    assert claims["sub"] == "agt_alpha"
    assert claims["org"] == tenant.org_id
    assert claims["exp"] - claims["iat"] == 120
    listed = await client.get("/conversations", headers=bearer(body["token"]))
    assert listed.status_code == 200


async def test_deleted_agent_token_is_401(client, tenant):
    created = await client.post(
        "/agents", json={"id": "agt_leaving", "name": "Leaving"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    issued = await client.post(
        "/auth/tokens", json={"role": "agent", "agentId": "agt_leaving"}, headers=tenant.headers
    )
    token = issued.json()["token"]
    before = await client.get("/conversations", headers=bearer(token))
    assert before.status_code == 200

    deleted = await client.delete("/agents/agt_leaving", headers=tenant.headers)
    assert deleted.status_code == 204
    after = await client.get("/conversations", headers=bearer(token))
    assert after.status_code == 401
    assert "agt_leaving" in after.json()["error"]["message"]


async def test_token_unknown_agent_or_mailbox_404(client, tenant, other_tenant):
    foreign = await client.post(
        "/agents", json={"id": "agt_foreign", "name": "Elsewhere"}, headers=other_tenant.headers
    )
    assert foreign.status_code == 201, foreign.text
    for body, field in (
        ({"role": "agent", "agentId": "agt_nobody"}, "agentId"),
        ({"role": "agent", "agentId": "agt_foreign"}, "agentId"),
        ({"role": "viewer", "subject": "v", "mailboxIds": ["mbx_nowhere"]}, "mailboxIds[0]"),
    ):
        response = await client.post("/auth/tokens", json=body, headers=tenant.headers)
        assert response.status_code == 404, (body, response.text)
        assert response.json()["error"]["details"]["field"] == field


async def test_issue_token_rules(client, app, tenant):
    for body in (
        {"role": "admin", "subject": "x"},
        {"role": "customer", "subject": "x"},
        {"role": "viewer"},
        {"role": "viewer", "subject": "x", "ttlSeconds": 10},
        {"role": "viewer", "subject": "x", "ttlSeconds": 10**9},
    ):
        response = await client.post("/auth/tokens", json=body, headers=tenant.headers)
        assert response.status_code == 400, body
    agent = mint(app, tenant.org_id, "agent")
    denied = await client.post(
        "/auth/tokens", json={"role": "viewer", "subject": "x"}, headers=bearer(agent)
    )
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "AUTHORIZATION_ERROR"


async def test_scoped_admin_cannot_widen(client, app, tenant):
    scoped = mint(app, tenant.org_id, "admin", mbx=["mailbox_test_1"])
    wider = await client.post(
        "/auth/tokens",
        json={"role": "agent", "subject": "a", "mailboxIds": ["mailbox_test_2"]},
        headers=bearer(scoped),
    )
    assert wider.status_code == 403
    inherited = await client.post(
        "/auth/tokens", json={"role": "agent", "subject": "a"}, headers=bearer(scoped)
    )
    claims = jwt.decode(inherited.json()["token"], options={"verify_signature": False})
    assert claims["mbx"] == ["mailbox_test_1"]
    key = await client.post("/keys", json={}, headers=bearer(scoped))
    assert key.json()["mailboxIds"] == ["mailbox_test_1"]
