"""Widget sessions: publishable keys, origins and identity verification."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import jwt
import pytest

from tests.auth.conftest import bearer, create_key
from tests.helpers import HELPER_AGENT, create_conversation, ensure_agent, send_message

SECRET = "identity-secret-0123456789abcdef"
ORIGIN = "https://shop.example"


def customer_hash(customer_id: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


async def open_session(client, key, origin=ORIGIN, **body):
    headers = bearer(key) if origin is None else bearer(key, Origin=origin)
    return await client.post("/widget/session", json=body, headers=headers)


async def enable_verification(client, tenant, mailbox_id="mailbox_test_1"):
    response = await client.patch(
        f"/mailboxes/{mailbox_id}",
        json={"settings": {"identityVerification": True}, "identitySecret": SECRET},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_session_shape_and_claims(client, app, tenant, publishable_key):
    response = await open_session(
        client, publishable_key, mailboxId="mailbox_test_1", customerId="customer_test_A"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"token", "customerId", "mailboxId", "expiresAt"}
    assert body["customerId"] == "customer_test_A"
    assert body["mailboxId"] == "mailbox_test_1"
    assert body["expiresAt"].endswith("Z")
    settings = app.state.settings
    claims = jwt.decode(
        body["token"], settings.jwt_secret, algorithms=["HS256"], audience=settings.jwt_audience
    )
    assert claims["role"] == "customer"
    assert claims["cid"] == "customer_test_A"
    assert claims["mbx"] == ["mailbox_test_1"]
    assert claims["org"] == tenant.org_id
    assert claims["exp"] - claims["iat"] == settings.widget_session_ttl_seconds


async def test_anonymous_visitor_gets_random_id(client, publishable_key):
    first = await open_session(client, publishable_key, mailboxId="mailbox_test_1")
    second = await open_session(client, publishable_key, mailboxId="mailbox_test_1")
    assert first.status_code == 201, first.text
    assert first.json()["customerId"].startswith("cus_")
    assert first.json()["customerId"] != second.json()["customerId"]


async def test_customer_token_reaches_own_conversations_only(client, tenant, publishable_key):
    theirs = await create_conversation(client, tenant, customerId="customer_test_B")
    await send_message(client, tenant, theirs["id"], "order 0000 placeholder")
    session = await open_session(
        client, publishable_key, mailboxId="mailbox_test_1", customerId="customer_test_A"
    )
    token = session.json()["token"]
    headers = bearer(token)

    created = await client.post(
        "/conversations",
        json={"customerId": "customer_test_A", "mailboxId": "mailbox_test_1"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    for path in (f"/conversations/{theirs['id']}", f"/conversations/{theirs['id']}/messages"):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert "order 0000" not in response.text
    posted = await client.post(
        f"/conversations/{theirs['id']}/messages",
        json={"content": "hi", "authorType": "customer"},
        headers=headers,
    )
    assert posted.status_code == 404
    listed = await client.get(
        "/conversations", params={"customerId": "customer_test_B"}, headers=headers
    )
    assert listed.status_code == 200
    assert listed.json()["data"] == []
    mine = await client.get("/conversations", headers=headers)
    assert [item["id"] for item in mine.json()["data"]] == [created.json()["id"]]


async def test_customer_counts_skip_private_notes(client, tenant, publishable_key):
    conversation = await create_conversation(client, tenant, customerId="customer_notes")
    path = f"/conversations/{conversation['id']}"
    await ensure_agent(client, tenant, HELPER_AGENT)
    note = await client.post(
        f"{path}/messages",
        json={
            "content": "internal only",
            "authorType": "agent",
            "authorId": HELPER_AGENT,
            "private": True,
        },
        headers=tenant.headers,
    )
    assert note.status_code == 201, note.text
    session = await open_session(
        client, publishable_key, mailboxId="mailbox_test_1", customerId="customer_notes"
    )
    headers = bearer(session.json()["token"])

    agent_view = (await client.get(path, headers=tenant.headers)).json()
    single = (await client.get(path, headers=headers)).json()
    listed = (await client.get("/conversations", headers=headers)).json()["data"]

    assert agent_view["messageCount"] == 1
    assert agent_view["lastMessageAt"] is not None
    assert single["messageCount"] == 0
    assert single["lastMessageAt"] is None
    assert [(item["messageCount"], item["lastMessageAt"]) for item in listed] == [(0, None)]

    reply = await send_message(client, tenant, conversation["id"], "hello", author_type="agent")
    single = (await client.get(path, headers=headers)).json()
    assert single["messageCount"] == 1
    assert single["lastMessageAt"] == reply.json()["createdAt"]


async def test_identity_verification_bypasses_fail(client, tenant, publishable_key):
    mailbox = await enable_verification(client, tenant)
    assert mailbox["identitySecretHint"] == "..." + SECRET[-4:]
    assert SECRET not in str(mailbox)
    theirs = await create_conversation(client, tenant, customerId="customer_test_B")
    await send_message(client, tenant, theirs["id"], "order 0000 placeholder")
    valid_b = customer_hash("customer_test_B")
    attempts = {
        "no hash": {"customerId": "customer_test_B"},
        "hash of another customer": {
            "customerId": "customer_test_B",
            "customerHash": customer_hash("customer_test_A"),
        },
        "random hash": {"customerId": "customer_test_B", "customerHash": secrets.token_hex(32)},
        "last character changed": {
            "customerId": "customer_test_B",
            "customerHash": valid_b[:-1] + ("0" if valid_b[-1] != "0" else "1"),
        },
        "hash keyed with another secret": {
            "customerId": "customer_test_B",
            "customerHash": customer_hash("customer_test_B", "another-secret-0123456789"),
        },
        "empty hash": {"customerId": "customer_test_B", "customerHash": ""},
        "anonymous": {},
        "truncated hash": {"customerId": "customer_test_B", "customerHash": valid_b[:32]},
    }
    for label, body in attempts.items():
        response = await open_session(client, publishable_key, mailboxId="mailbox_test_1", **body)
        assert response.status_code == 401, label
        assert response.json()["error"]["code"] == "AUTHENTICATION_ERROR", label
        assert "token" not in response.json(), label

    upper = await open_session(
        client,
        publishable_key,
        mailboxId="mailbox_test_1",
        customerId="customer_test_B",
        customerHash=valid_b.upper(),
    )
    assert upper.status_code == 201, upper.text
    assert upper.json()["customerId"] == "customer_test_B"


async def test_session_as_a_cannot_switch_to_b(client, tenant, publishable_key):
    await enable_verification(client, tenant)
    theirs = await create_conversation(client, tenant, customerId="customer_test_B")
    await send_message(client, tenant, theirs["id"], "order 0000 placeholder")
    session = await open_session(
        client,
        publishable_key,
        mailboxId="mailbox_test_1",
        customerId="customer_test_A",
        customerHash=customer_hash("customer_test_A"),
    )
    assert session.status_code == 201, session.text
    headers = bearer(session.json()["token"])

    switched = await client.post(
        "/conversations",
        json={"customerId": "customer_test_B", "mailboxId": "mailbox_test_1"},
        headers=headers,
    )
    assert switched.status_code in (401, 403)
    messages = await client.get(f"/conversations/{theirs['id']}/messages", headers=headers)
    assert messages.status_code == 404
    assert "order 0000" not in messages.text
    listed = await client.get(
        "/conversations", params={"customerId": "customer_test_B"}, headers=headers
    )
    assert listed.json()["data"] == []
    after = await client.get(f"/conversations/{theirs['id']}/messages", headers=tenant.headers)
    assert [item["content"] for item in after.json()["data"]] == ["order 0000 placeholder"]


async def test_verification_needs_a_secret(client, tenant):
    response = await client.patch(
        "/mailboxes/mailbox_test_2",
        json={"settings": {"identityVerification": True}},
        headers=tenant.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "identitySecret"
    mailbox = await client.get("/mailboxes/mailbox_test_2", headers=tenant.headers)
    assert mailbox.json()["settings"]["identityVerification"] is False
    short = await client.patch(
        "/mailboxes/mailbox_test_2", json={"identitySecret": "short"}, headers=tenant.headers
    )
    assert short.status_code == 400


async def test_origin_must_be_allowed(client, publishable_key):
    for origin in ("https://evil.example", "http://shop.example", "https://shop.example.evil"):
        response = await open_session(
            client, publishable_key, origin=origin, mailboxId="mailbox_test_1"
        )
        assert response.status_code == 403, origin
        error = response.json()["error"]
        assert error["code"] == "AUTHORIZATION_ERROR"
        assert repr(origin) in error["message"]
        assert f"--origin {origin}" in error["message"]
    default_port = await open_session(
        client, publishable_key, origin="https://shop.example:443", mailboxId="mailbox_test_1"
    )
    assert default_port.status_code == 201


async def test_key_bound_to_its_mailboxes(client, db, tenant, other_tenant, publishable_key):
    other_mailbox = await open_session(client, publishable_key, mailboxId="mailbox_test_2")
    assert other_mailbox.status_code == 403
    unknown = await open_session(client, publishable_key, mailboxId="mailbox_nope")
    assert unknown.status_code in (403, 404)

    unscoped = await create_key(
        db, tenant.org_id, kind="publishable", role="customer", allowed_origins=[ORIGIN]
    )
    missing = await open_session(client, unscoped, mailboxId="mailbox_missing")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "NOT_FOUND"


async def test_widget_session_cannot_post_into_other_mailbox(client, tenant, publishable_key):
    elsewhere = await create_conversation(
        client, tenant, customerId="customer_test_A", mailboxId="mailbox_test_2"
    )
    session = await open_session(
        client, publishable_key, mailboxId="mailbox_test_1", customerId="customer_test_A"
    )
    headers = bearer(session.json()["token"])
    posted = await client.post(
        f"/conversations/{elsewhere['id']}/messages",
        json={"content": "wrong mailbox", "authorType": "customer"},
        headers=headers,
    )
    assert posted.status_code == 404
    read = await client.get(f"/conversations/{elsewhere['id']}", headers=headers)
    assert read.status_code == 404
    created = await client.post(
        "/conversations",
        json={"customerId": "customer_test_A", "mailboxId": "mailbox_test_2"},
        headers=headers,
    )
    assert created.status_code in (403, 404)
    count = await client.get(f"/conversations/{elsewhere['id']}", headers=tenant.headers)
    assert count.json()["messageCount"] == 0


async def test_publishable_key_only_opens_sessions(client, publishable_key):
    for method, path in (("GET", "/conversations"), ("GET", "/keys"), ("GET", "/mailboxes")):
        response = await client.request(method, path, headers=bearer(publishable_key))
        assert response.status_code == 403, path
        assert "publishable key" in response.json()["error"]["message"]


@pytest.mark.parametrize("path", ["/conversations", "/widget/session"])
async def test_secret_key_from_browser_rejected(client, tenant, path):
    response = await client.post(
        path,
        json={"customerId": "customer_test_A", "mailboxId": "mailbox_test_1"},
        headers={**tenant.headers, "Origin": ORIGIN},
    )
    assert response.status_code == 401
    message = response.json()["error"]["message"]
    assert "publishable key" in message
    assert "browser" in message


async def test_secret_key_cannot_open_session(client, tenant):
    response = await client.post(
        "/widget/session", json={"mailboxId": "mailbox_test_1"}, headers=tenant.headers
    )
    assert response.status_code == 403
    assert "publishable key" in response.json()["error"]["message"]


async def test_other_org_mailbox_is_404(client, db, other_tenant):
    # other_tenant has its own mailbox_test_1; a key of org B opens sessions there only.
    key_b = await create_key(
        db,
        other_tenant.org_id,
        kind="publishable",
        role="customer",
        allowed_origins=[ORIGIN],
    )
    session = await open_session(client, key_b, mailboxId="mailbox_test_1", customerId="c1")
    assert session.status_code == 201
    claims = jwt.decode(session.json()["token"], options={"verify_signature": False})
    assert claims["org"] == other_tenant.org_id
