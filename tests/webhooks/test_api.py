"""The webhooks REST API: subscriptions, validation, secrets and the delivery log."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac

import pytest

from campfire_server.auth import keys
from campfire_server.events import records
from tests.helpers import create_conversation

from .conftest import create_webhook, wait_settled
from .receiver import Reply

BR01_SECRET = "whsec_dGVzdF9zZWNyZXRfcGxhY2Vob2xkZXI="


async def _count(db, table: str, org_id: str) -> int:
    return await db.read(
        lambda tx: tx.value(f"SELECT COUNT(*) AS n FROM {table} WHERE org_id = :o", o=org_id)
    )


async def test_create_returns_secret_once(hook_client, tenant, receiver):
    created = await create_webhook(
        hook_client, tenant, receiver.url, ["conversation.created", "message.sent"]
    )

    assert created["id"].startswith("wh_")
    assert created["url"] == receiver.url
    assert created["events"] == ["conversation.created", "message.sent"]
    assert created["enabled"] is True
    assert created["secret"].startswith("whsec_")
    assert len(base64.b64decode(created["secret"][len("whsec_") :])) == 32

    fetched = (await hook_client.get(f"/webhooks/{created['id']}", headers=tenant.headers)).json()
    assert fetched["secret"] == "whsec_..." + created["secret"][-4:]
    listed = (await hook_client.get("/webhooks", headers=tenant.headers)).json()
    assert [item["id"] for item in listed["data"]] == [created["id"]]
    assert listed["data"][0]["secret"] == fetched["secret"]
    assert listed["pagination"]["total"] == 1


async def test_secret_shown_is_signing_key(hook_client, tenant, receiver):
    response = await hook_client.post(
        "/webhooks",
        json={"url": receiver.url, "events": ["conversation.created"], "secret": BR01_SECRET},
        headers=tenant.headers,
    )
    assert response.status_code == 201
    created = response.json()
    fetched = (await hook_client.get(f"/webhooks/{created['id']}", headers=tenant.headers)).json()

    await create_conversation(hook_client, tenant)
    (request,) = await receiver.wait_for(1)
    await asyncio.sleep(0.3)

    key = base64.b64decode(BR01_SECRET[len("whsec_") :])
    signed = (
        f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
        + request.body
    )
    expected = "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert request.headers["webhook-signature"] == expected
    assert created["secret"] == BR01_SECRET
    assert fetched["secret"] != BR01_SECRET
    assert fetched["secret"].startswith("whsec_...")
    assert BR01_SECRET.endswith(fetched["secret"].removeprefix("whsec_..."))
    assert len(receiver.requests) == 1


async def test_plain_secret_signs_with_its_utf8_bytes(hook_client, tenant, receiver):
    secret = "your_webhook_secret"
    await create_webhook(hook_client, tenant, receiver.url, ["conversation.created"], secret=secret)
    await create_conversation(hook_client, tenant)
    (request,) = await receiver.wait_for(1)

    signed = (
        f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode()
        + request.body
    )
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    assert request.headers["webhook-signature"] == "v1," + base64.b64encode(digest).decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:9/x", "events": ["conversation.exploded"]}, "events[0]"),
        ({"url": "http://127.0.0.1:9/x", "events": []}, "events"),
        ({"url": "http://127.0.0.1:9/x"}, "events"),
        ({"url": "ftp://127.0.0.1/x", "events": ["*"]}, "url"),
        ({"url": "not a url", "events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:9/x#frag", "events": ["*"]}, "url"),
        ({"url": "http://user:pass@127.0.0.1:9/x", "events": ["*"]}, "url"),
        ({"url": "http://user@127.0.0.1:9/x", "events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:0/x", "events": ["*"]}, "url"),
        ({"url": "http://10.1.2.3/x", "events": ["*"]}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data", "events": ["*"]}, "url"),
        ({"url": "http://127.0.0.1:9/x", "events": ["*"], "secret": "short"}, "secret"),
        (
            {"url": "http://127.0.0.1:9/x", "events": ["*"], "secret": "whsec_!!notbase64!!"},
            "secret",
        ),
        (
            {"url": "http://127.0.0.1:9/x", "events": ["*"], "secret": "has a space in it ok"},
            "secret",
        ),
        ({"url": "http://127.0.0.1:9/x", "events": ["*"], "extra": 1}, "extra"),
    ],
)
async def test_invalid_create_is_400_and_stores_nothing(hook_client, tenant, db, body, field):
    response = await hook_client.post("/webhooks", json=body, headers=tenant.headers)
    error = response.json()["error"]

    assert response.status_code == 400
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert error["requestId"] == response.headers["x-request-id"]
    assert await _count(db, "webhooks", tenant.org_id) == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://user:hunter2@127.0.0.1:9/x#part",
        "ftp://user:hunter2@127.0.0.1:9/x",
        "http://user:hunter2@127.0.0.1:9/x y",
        "http://user:hunter2@127.0.0.1:99999/x",
    ],
)
async def test_credentials_hidden_by_other_rules(hook_client, tenant, url):
    response = await hook_client.post(
        "/webhooks", json={"url": url, "events": ["*"]}, headers=tenant.headers
    )

    assert response.status_code == 400
    assert "hunter2" not in response.text
    assert response.json()["error"]["details"]["value"].startswith(url.split("//")[0] + "//***@")


async def test_url_credentials_are_not_echoed(hook_client, tenant):
    created = await hook_client.post(
        "/webhooks",
        json={"url": "http://user:hunter2@127.0.0.1:9/x", "events": ["*"]},
        headers=tenant.headers,
    )
    hook = await create_webhook(hook_client, tenant, "http://127.0.0.1:9/x", ["*"])
    patched = await hook_client.patch(
        f"/webhooks/{hook['id']}",
        json={"url": "http://user:hunter2@127.0.0.1:9/y"},
        headers=tenant.headers,
    )
    zero_port = await hook_client.patch(
        f"/webhooks/{hook['id']}", json={"url": "http://127.0.0.1:0/y"}, headers=tenant.headers
    )
    stored = (await hook_client.get(f"/webhooks/{hook['id']}", headers=tenant.headers)).json()

    assert created.status_code == 400
    assert "credentials" in created.json()["error"]["message"]
    assert "hunter2" not in created.text
    assert created.json()["error"]["details"]["value"] == "http://***@127.0.0.1:9/x"
    assert patched.status_code == 400
    assert "hunter2" not in patched.text
    assert zero_port.status_code == 400
    assert "port 0" in zero_port.json()["error"]["message"]
    assert stored["url"] == "http://127.0.0.1:9/x"


async def test_unknown_event_names_the_value(hook_client, tenant):
    response = await hook_client.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/x", "events": ["message.sent", "message.exploded"]},
        headers=tenant.headers,
    )
    error = response.json()["error"]

    assert error["details"]["value"] == "message.exploded"
    for name in records.CATALOG:
        assert name in error["details"]["expected"]


async def test_only_admins_manage_webhooks(hook_client, tenant, db):
    issued = await db.write(
        lambda tx: keys.create_key(tx, org_id=tenant.org_id, name="agent", role="agent")
    )
    headers = {"Authorization": f"Bearer {issued.key}"}

    created = await hook_client.post(
        "/webhooks", json={"url": "http://127.0.0.1:9/x", "events": ["*"]}, headers=headers
    )
    listed = await hook_client.get("/webhooks", headers=headers)

    assert created.status_code == 403
    assert created.json()["error"]["code"] == "AUTHORIZATION_ERROR"
    assert listed.status_code == 403


async def test_other_organization_gets_404(hook_client, tenant, other_tenant, receiver):
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["*"])
    paths = [
        ("GET", f"/webhooks/{webhook['id']}"),
        ("PATCH", f"/webhooks/{webhook['id']}"),
        ("DELETE", f"/webhooks/{webhook['id']}"),
        ("POST", f"/webhooks/{webhook['id']}/rotate-secret"),
        ("GET", f"/webhooks/{webhook['id']}/deliveries"),
        ("POST", f"/webhooks/{webhook['id']}/test"),
    ]
    for method, path in paths:
        body = {"enabled": False} if method == "PATCH" else None
        response = await hook_client.request(method, path, json=body, headers=other_tenant.headers)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "NOT_FOUND"

    still = (await hook_client.get(f"/webhooks/{webhook['id']}", headers=tenant.headers)).json()
    assert still["enabled"] is True


async def test_patch_changes_events_and_enabled(hook_client, tenant, receiver):
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["message.sent"])
    path = f"/webhooks/{webhook['id']}"

    changed = await hook_client.patch(
        path, json={"events": ["conversation.created"]}, headers=tenant.headers
    )
    assert changed.status_code == 200
    assert changed.json()["events"] == ["conversation.created"]
    assert changed.json()["secret"].startswith("whsec_...")

    invalid = await hook_client.patch(path, json={"events": ["nope"]}, headers=tenant.headers)
    assert invalid.status_code == 400
    assert invalid.json()["error"]["details"]["field"] == "events[0]"
    empty = await hook_client.patch(path, json={}, headers=tenant.headers)
    assert empty.status_code == 400

    disabled = await hook_client.patch(path, json={"enabled": False}, headers=tenant.headers)
    assert disabled.json()["enabled"] is False
    assert disabled.json()["disabledReason"]
    await create_conversation(hook_client, tenant)
    await asyncio.sleep(0.5)
    assert receiver.requests == []

    enabled = await hook_client.patch(path, json={"enabled": True}, headers=tenant.headers)
    assert enabled.json()["enabled"] is True
    assert enabled.json()["disabledReason"] is None
    await create_conversation(hook_client, tenant)
    (request,) = await receiver.wait_for(1)
    assert b"conversation.created" in request.body


async def test_delete_stops_deliveries(hook_client, tenant, db, receiver):
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["*"])
    await create_conversation(hook_client, tenant)
    await receiver.wait_for(1)

    deleted = await hook_client.delete(f"/webhooks/{webhook['id']}", headers=tenant.headers)
    again = await hook_client.get(f"/webhooks/{webhook['id']}", headers=tenant.headers)
    await create_conversation(hook_client, tenant)
    await asyncio.sleep(0.5)

    assert deleted.status_code == 204
    assert again.status_code == 404
    assert len(receiver.requests) == 1
    assert await _count(db, "webhook_deliveries", tenant.org_id) == 0


async def test_ping_and_replay(hook_client, tenant, receiver):
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["message.sent"])

    ping = await hook_client.post(f"/webhooks/{webhook['id']}/test", headers=tenant.headers)
    assert ping.status_code == 202
    assert ping.json()["eventType"] == "ping"
    (first,) = await receiver.wait_for(1)
    assert b'"type":"ping"' in first.body
    await wait_settled(hook_client, tenant, webhook["id"], 1)

    replay = await hook_client.post(
        f"/webhooks/{webhook['id']}/deliveries/{ping.json()['id']}/retry",
        headers=tenant.headers,
    )
    assert replay.status_code == 202
    _, second = await receiver.wait_for(2)
    assert second.webhook_id == first.webhook_id
    assert second.body == first.body
    assert second.headers["webhook-timestamp"] >= first.headers["webhook-timestamp"]

    missing = await hook_client.post(
        f"/webhooks/{webhook['id']}/deliveries/dlv_missing/retry", headers=tenant.headers
    )
    assert missing.status_code == 404


async def test_replay_of_disabled_webhook_is_409(hook_client, tenant, make_receiver):
    receiver = await make_receiver(lambda request: Reply(status=410))
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["*"])
    ping = (
        await hook_client.post(f"/webhooks/{webhook['id']}/test", headers=tenant.headers)
    ).json()
    await receiver.wait_for(1)
    await hook_client.patch(
        f"/webhooks/{webhook['id']}", json={"enabled": False}, headers=tenant.headers
    )

    replay = await hook_client.post(
        f"/webhooks/{webhook['id']}/deliveries/{ping['id']}/retry", headers=tenant.headers
    )
    test = await hook_client.post(f"/webhooks/{webhook['id']}/test", headers=tenant.headers)

    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "WEBHOOK_DISABLED"
    assert test.status_code == 409


async def test_deliveries_list_filters_and_pages(hook_client, tenant, receiver):
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["conversation.created"])
    for _ in range(3):
        await create_conversation(hook_client, tenant)
    await receiver.wait_for(3)
    # The receiver replies before the worker records the attempt.
    await wait_settled(hook_client, tenant, webhook["id"], 3)
    path = f"/webhooks/{webhook['id']}/deliveries"

    first = (await hook_client.get(path, params={"limit": 2}, headers=tenant.headers)).json()
    rest = (
        await hook_client.get(
            path,
            params={"limit": 2, "cursor": first["pagination"]["nextCursor"]},
            headers=tenant.headers,
        )
    ).json()
    failed = (
        await hook_client.get(path, params={"status": "failed"}, headers=tenant.headers)
    ).json()
    bad = await hook_client.get(path, params={"status": "lost"}, headers=tenant.headers)

    ids = [item["id"] for item in first["data"] + rest["data"]]
    assert len(ids) == 3
    assert len(set(ids)) == 3
    assert first["pagination"]["total"] == 3
    assert all(item["status"] == "succeeded" for item in first["data"])
    assert failed["data"] == []
    assert bad.status_code == 400
