"""Agent tokens without claim ``agc`` end with their agent row, like tokens with it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from campfire_server.app import create_app
from campfire_server.auth.tokens import LEEWAY_SECONDS
from tests.auth.conftest import bearer
from tests.conftest import test_settings as make_settings

SECRET = "server-secret-for-tests-0123456789abcdef"
IDP_ISSUER = "https://idp.example"
IDP_AUDIENCE = "campfire-api"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
AGENT_ID = "agent_reused"
# The first agent row is dated this long ago, and the old token a minute
# after it, so the recreated row is newer than the token by more than the
# clock skew allowance.
FIRST_ROW_AGE_MS = 4 * LEEWAY_SECONDS * 1000
OLD_TOKEN_AGE_SECONDS = 2 * LEEWAY_SECONDS


def public_pem() -> str:
    return (
        RSA_KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def agent_token(org_id: str, issuer: str, issued_at: int | None) -> str:
    """Return an agent token without ``agc``, signed as ``issuer`` would sign it."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": AGENT_ID,
        "org": org_id,
        "role": "agent",
        "aid": AGENT_ID,
        "exp": now + 600,
    }
    if issued_at is not None:
        claims["iat"] = issued_at
    if issuer == "identity provider":
        claims.update(iss=IDP_ISSUER, aud=IDP_AUDIENCE)
        return jwt.encode(claims, RSA_KEY, "RS256")
    claims.update(iss="campfire", aud="campfire")
    return jwt.encode(claims, SECRET, "HS256")


@pytest.fixture
async def client(db, tenant) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        db.url,
        jwt_secret=SECRET,
        jwt_public_key=public_pem(),
        jwt_external_issuer=IDP_ISSUER,
        jwt_external_audience=IDP_AUDIENCE,
    )
    app = create_app(settings, db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as http:
            yield http


async def create_dated_agent(db, tenant, http: httpx.AsyncClient) -> None:
    """Create the agent, then date its row ``FIRST_ROW_AGE_MS`` back."""
    created = await http.post(
        "/agents", json={"id": AGENT_ID, "name": "Reused"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    first_created_at = int(time.time() * 1000) - FIRST_ROW_AGE_MS
    await db.write(
        lambda tx: tx.execute(
            "UPDATE agents SET created_at = :created_at WHERE org_id = :org_id AND id = :id",
            created_at=first_created_at,
            org_id=tenant.org_id,
            id=AGENT_ID,
        )
    )


@pytest.mark.parametrize("issuer", ["identity provider", "server before agc"])
async def test_token_ends_with_its_agent(db, tenant, client, issuer) -> None:
    await create_dated_agent(db, tenant, client)
    old = agent_token(tenant.org_id, issuer, int(time.time()) - OLD_TOKEN_AGE_SECONDS)

    before = await client.get("/conversations", headers=bearer(old))
    deleted = await client.delete(f"/agents/{AGENT_ID}", headers=tenant.headers)
    recreated = await client.post(
        "/agents", json={"id": AGENT_ID, "name": "Someone else"}, headers=tenant.headers
    )
    after = await client.get("/conversations", headers=bearer(old))
    fresh = agent_token(tenant.org_id, issuer, int(time.time()))
    fresh_response = await client.get("/conversations", headers=bearer(fresh))

    assert before.status_code == 200, before.text
    assert deleted.status_code == 204, deleted.text
    assert recreated.status_code == 201, recreated.text
    assert after.status_code == 401, after.text
    assert "created after the token was issued" in after.json()["error"]["message"]
    assert fresh_response.status_code == 200, fresh_response.text


async def test_token_without_issue_time(db, tenant, client) -> None:
    await create_dated_agent(db, tenant, client)
    token = agent_token(tenant.org_id, "identity provider", None)

    response = await client.get("/conversations", headers=bearer(token))

    assert response.status_code == 401, response.text
    assert "iat claim is missing" in response.json()["error"]["message"]


@pytest.mark.parametrize("issuer", ["identity provider", "server before agc"])
@pytest.mark.parametrize("future", ["hour ahead", "epoch ms"])
async def test_future_issue_time_rejected(db, tenant, client, issuer, future) -> None:
    await create_dated_agent(db, tenant, client)
    # An hour ahead, or a value of 10**12 that reads as milliseconds but is seconds.
    issued_at = int(time.time()) + 3600 if future == "hour ahead" else 10**12
    token = agent_token(tenant.org_id, issuer, issued_at)

    before = await client.get("/conversations", headers=bearer(token))
    deleted = await client.delete(f"/agents/{AGENT_ID}", headers=tenant.headers)
    recreated = await client.post(
        "/agents", json={"id": AGENT_ID, "name": "Someone else"}, headers=tenant.headers
    )
    after = await client.get("/conversations", headers=bearer(token))

    assert deleted.status_code == 204, deleted.text
    assert recreated.status_code == 201, recreated.text
    for response in (before, after):
        assert response.status_code == 401, response.text
        error = response.json()["error"]
        assert error["code"] == "AUTHENTICATION_ERROR", error
        assert "iat claim" in error["message"], error
        assert "in the future" in error["message"], error
        assert error["details"]["field"] == "iat", error


@pytest.mark.parametrize("issuer", ["identity provider", "server before agc"])
async def test_issue_time_within_leeway(db, tenant, client, issuer) -> None:
    await create_dated_agent(db, tenant, client)
    token = agent_token(tenant.org_id, issuer, int(time.time()) + LEEWAY_SECONDS - 5)

    response = await client.get("/conversations", headers=bearer(token))

    assert response.status_code == 200, response.text
