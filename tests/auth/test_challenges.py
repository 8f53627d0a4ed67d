"""401 responses: the WWW-Authenticate challenge and messages that name the fault."""

from __future__ import annotations

from tests.auth.conftest import bearer


async def test_missing_credential_challenge(client):
    response = await client.get("/conversations")
    assert response.status_code == 401
    # RFC 6750: a request without credentials gets the scheme, no error code.
    assert response.headers["www-authenticate"] == 'Bearer realm="campfire"'


async def test_malformed_header_challenge(client):
    response = await client.get("/conversations", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="campfire", error="invalid_request"')


async def test_unknown_short_key_message(client):
    response = await client.get("/conversations", headers=bearer("sk_live_xxx"))
    assert response.status_code == 401
    message = response.json()["error"]["message"]
    assert "unknown or has been revoked" in message
    assert "neither" not in message
    assert "sk_live_xxx" not in message
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="campfire", error="invalid_token"')
    assert "unknown or has been revoked" in challenge


async def test_revoked_key_message(client, tenant):
    created = await client.post(
        "/keys", json={"name": "revoked soon", "role": "agent"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    revoked = await client.delete(f"/keys/{created.json()['id']}", headers=tenant.headers)
    assert revoked.status_code == 204

    response = await client.get("/conversations", headers=bearer(key))
    assert response.status_code == 401
    message = response.json()["error"]["message"]
    assert "unknown or has been revoked" in message
    assert key not in message
    assert key not in response.headers["www-authenticate"]


async def test_unrecognised_credential_message(client):
    response = await client.get("/conversations", headers=bearer("hello"))
    assert response.status_code == 401
    message = response.json()["error"]["message"]
    assert "neither an API key" in message
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_challenge_has_no_quote_from_message(client):
    # The message quotes the expected header with single quotes only, and the
    # challenge must stay a valid quoted-string whatever the message holds.
    response = await client.get("/conversations", headers={"Authorization": "Bearer"})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    description = challenge.split('error_description="', 1)[1]
    assert description.endswith('"')
    assert '"' not in description[:-1]
    assert "\\" not in description


async def test_failed_sign_in_challenge(client):
    response = await client.post(
        "/auth/login", json={"email": "nobody@example.test", "password": "wrong password"}
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="campfire"'
