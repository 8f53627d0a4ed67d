"""Credentials limited to mailboxes against every route, with ids from another mailbox.

Each credential below is limited to ``mailbox_test_2``; every resource the
table names lives in ``mailbox_test_1`` (or serves it alone). A role that
may call the route must get 404, exactly as for an id that does not exist.
A role that may not call it gets 403 from the role check first. Lists must
leave the other mailbox's items out, the realtime agent channel must send
none of its frames, and a limited key's webhook must receive none of its
events. Both engines run every test through the ``db`` fixture.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import websockets

from campfire_server.auth.permissions import POLICY
from tests.auth.conftest import bearer, create_key, mint
from tests.helpers import create_conversation, send_message

SCOPE = ["mailbox_test_2"]
OTHER_MAILBOX = "mailbox_test_1"
LIMITED_ROLES = ("admin", "agent", "viewer", "customer")
# A word that only the other mailbox's article contains.
SECRET_WORD = "zanzibarquartz"


@dataclass
class World:
    """Resources of the other mailbox, made with the organization's unlimited admin key."""

    conversation_id: str
    message_id: str
    article_id: str
    shared_article_id: str
    webhook_id: str
    key_id: str
    agent_id: str
    customer_id: str
    own_conversation_id: str


async def _ok(response: Any) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
async def world(client, tenant) -> World:
    admin = tenant.headers
    customer_id = "customer_scope_A"
    agent = await _ok(await client.post("/agents", json={"name": "Scope agent"}, headers=admin))

    conversation = await create_conversation(
        client, tenant, customerId=customer_id, mailboxId=OTHER_MAILBOX
    )
    message = await _ok(await send_message(client, tenant, conversation["id"], "order 1234"))
    await _ok(
        await client.patch(
            f"/conversations/{conversation['id']}",
            json={"assignedAgentId": agent["id"]},
            headers=admin,
        )
    )
    await _ok(
        await client.post(
            f"/conversations/{conversation['id']}/satisfaction", json={"rating": 4}, headers=admin
        )
    )
    await _ok(
        await client.post(
            f"/conversations/{conversation['id']}/handoff", json={"reason": "x"}, headers=admin
        )
    )

    article = await _ok(
        await client.post(
            "/knowledge/articles",
            json={
                "title": "Wholesale price list",
                "content": f"The {SECRET_WORD} discount is 40 percent.",
                "mailboxIds": [OTHER_MAILBOX],
            },
            headers=admin,
        )
    )
    shared = await _ok(
        await client.post(
            "/knowledge/articles",
            json={"title": "Opening hours", "content": "We open at nine."},
            headers=admin,
        )
    )

    webhook = await _ok(
        await client.post(
            "/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "events": ["message.sent"]},
            headers=admin,
        )
    )
    key = await _ok(await client.post("/keys", json={"name": "unlimited"}, headers=admin))
    own = await create_conversation(client, tenant, customerId=customer_id, mailboxId=SCOPE[0])
    return World(
        conversation_id=conversation["id"],
        message_id=message["id"],
        article_id=article["id"],
        shared_article_id=shared["id"],
        webhook_id=webhook["id"],
        key_id=key["id"],
        agent_id=agent["id"],
        customer_id=customer_id,
        own_conversation_id=own["id"],
    )


async def limited_credentials(app, db, tenant, world: World) -> dict[str, dict[str, str]]:
    """Return headers for a credential of each role, all limited to ``SCOPE``."""
    found = {}
    for role in ("admin", "agent", "viewer"):
        found[role] = bearer(await create_key(db, tenant.org_id, role=role, mailbox_ids=SCOPE))
    customer = mint(
        app,
        tenant.org_id,
        "customer",
        subject=world.customer_id,
        cid=world.customer_id,
        mbx=SCOPE,
    )
    found["customer"] = bearer(customer)
    return found


@dataclass(frozen=True)
class Row:
    method: str
    path: str
    # Every policy action the route checks before it looks the id up.
    actions: tuple[str, ...]
    body: Any = None


CONVERSATION = "/conversations/{conversation}"

ROWS = [
    Row("GET", CONVERSATION, ("conversations:read",)),
    Row("PATCH", CONVERSATION, ("conversations:manage",), {"priority": "high"}),
    Row(
        "POST",
        CONVERSATION + "/messages",
        ("messages:write",),
        {"content": "hi", "authorType": "customer"},
    ),
    Row("GET", CONVERSATION + "/messages", ("messages:read",)),
    Row("GET", CONVERSATION + "/messages/{message}", ("messages:read",)),
    Row("POST", CONVERSATION + "/handoff", ("handoffs:write",), {"reason": "scope"}),
    Row("GET", CONVERSATION + "/handoff", ("handoffs:read",)),
    Row("POST", CONVERSATION + "/handoff/complete", ("handoffs:write",)),
    Row("POST", CONVERSATION + "/handoff/cancel", ("handoffs:write",)),
    Row("POST", CONVERSATION + "/satisfaction", ("satisfaction:write",), {"rating": 1}),
    Row("GET", CONVERSATION + "/satisfaction", ("conversations:read",)),
    Row(
        "POST",
        "/ai/generate-response",
        ("ai:generate",),
        {"conversationId": "{conversation}", "messageContent": "Where is my order?"},
    ),
    Row(
        "POST",
        "/ai/generate-response",
        ("ai:generate",),
        {"conversationId": "{conversation}", "messageContent": "Draft", "draft": True},
    ),
    Row("GET", "/events?channel=conversation:{conversation}", ("events:read",)),
    Row("GET", "/events?channel=mailbox:{mailbox}", ("events:read", "realtime:mailbox")),
    Row("GET", "/mailboxes/{mailbox}", ("mailboxes:read",)),
    Row("PATCH", "/mailboxes/{mailbox}", ("mailboxes:write",), {"name": "Renamed"}),
    Row("DELETE", "/mailboxes/{mailbox}", ("mailboxes:write",)),
    Row("GET", "/analytics/metrics?period=7d&mailboxId={mailbox}", ("analytics:read",)),
    Row("GET", "/analytics/conversations.csv?mailboxId={mailbox}", ("analytics:read",)),
    Row("GET", "/knowledge/articles?mailboxId={mailbox}", ("knowledge:read",)),
    Row("GET", "/knowledge/search?q=discount&mailboxId={mailbox}", ("knowledge:read",)),
    Row("GET", "/knowledge/articles/{article}", ("knowledge:read",)),
    Row("PATCH", "/knowledge/articles/{article}", ("knowledge:write",), {"title": "Mine"}),
    Row("DELETE", "/knowledge/articles/{article}", ("knowledge:write",)),
    Row("GET", "/webhooks/{webhook}", ("webhooks:manage",)),
    Row("PATCH", "/webhooks/{webhook}", ("webhooks:manage",), {"enabled": False}),
    Row("POST", "/webhooks/{webhook}/rotate-secret", ("webhooks:manage",)),
    Row("GET", "/webhooks/{webhook}/deliveries", ("webhooks:manage",)),
    Row("POST", "/webhooks/{webhook}/test", ("webhooks:manage",)),
    Row("DELETE", "/webhooks/{webhook}", ("webhooks:manage",)),
    Row("GET", "/keys/{key}", ("keys:manage",)),
    Row("DELETE", "/keys/{key}", ("keys:manage",)),
]


def fill(value: Any, world: World) -> Any:
    """Put the world's ids into a path template or a body."""
    ids = {
        "conversation": world.conversation_id,
        "message": world.message_id,
        "mailbox": OTHER_MAILBOX,
        "article": world.article_id,
        "webhook": world.webhook_id,
        "key": world.key_id,
    }
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, dict):
        return {name: fill(item, world) for name, item in value.items()}
    return value


def expected_status(row: Row, role: str) -> int:
    return 404 if all(role in POLICY[action] for action in row.actions) else 403


async def test_other_mailbox_ids_not_found(app, client, db, tenant, world):
    credentials = await limited_credentials(app, db, tenant, world)
    failures = []
    for row in ROWS:
        for role in LIMITED_ROLES:
            response = await client.request(
                row.method,
                fill(row.path, world),
                json=fill(row.body, world),
                headers=credentials[role],
            )
            expected = expected_status(row, role)
            if response.status_code != expected:
                failures.append(
                    f"{row.method} {row.path} as a limited {role}: {response.status_code}, "
                    f"expected {expected}: {response.text[:160]}"
                )
    assert not failures, "\n".join(failures)


async def test_unlimited_admin_reaches_same_ids(client, tenant, world):
    """The ids of the table exist: the organization's unlimited key reads each of them."""
    for row in ROWS:
        if row.method != "GET":
            continue
        response = await client.get(fill(row.path, world), headers=tenant.headers)
        assert response.status_code == 200, (row.path, response.text[:160])


def _ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item.get("conversationId") or item.get("id") for item in response.json()["data"]]


LIST_ROWS: list[tuple[str, str, Callable[[World], str]]] = [
    ("/conversations", "conversations:read", lambda w: w.conversation_id),
    ("/handoffs?status=queued&status=assigned", "handoffs:list", lambda w: w.conversation_id),
    ("/mailboxes", "mailboxes:read", lambda w: OTHER_MAILBOX),
    ("/knowledge/articles", "knowledge:read", lambda w: w.article_id),
    (f"/knowledge/search?q={SECRET_WORD}", "knowledge:read", lambda w: w.article_id),
    ("/webhooks", "webhooks:manage", lambda w: w.webhook_id),
    ("/keys", "keys:manage", lambda w: w.key_id),
]


async def test_lists_leave_other_mailbox_out(app, client, db, tenant, world):
    admin = tenant.headers
    credentials = await limited_credentials(app, db, tenant, world)
    for path, action, hidden in LIST_ROWS:
        unlimited = _ids(await client.get(path, headers=admin))
        assert hidden(world) in unlimited, path
        for role in LIMITED_ROLES:
            if role not in POLICY[action]:
                continue
            listed = _ids(await client.get(path, headers=credentials[role]))
            assert hidden(world) not in listed, (path, role)

    mailboxes = _ids(await client.get("/mailboxes", headers=credentials["agent"]))
    assert mailboxes == SCOPE
    articles = _ids(await client.get("/knowledge/articles", headers=credentials["viewer"]))
    assert world.shared_article_id in articles


async def test_agent_channel_feed_filtered(app, client, db, tenant, world):
    """The polling feed of an agent channel leaves out the other mailbox's frames."""
    credentials = await limited_credentials(app, db, tenant, world)
    path = f"/events?channel=agent:{world.agent_id}"
    unlimited = await client.get(path, headers=tenant.headers)
    assert world.conversation_id in unlimited.text
    for role in ("admin", "agent"):
        response = await client.get(path, headers=credentials[role])
        assert response.status_code == 200, response.text
        assert world.conversation_id not in response.text, role


async def test_limited_admin_org_wide_writes(app, client, db, tenant, world):
    credentials = await limited_credentials(app, db, tenant, world)
    admin = credentials["admin"]
    forbidden = [
        ("POST", "/mailboxes", {"id": "mbx_scope_new", "name": "New"}),
        ("POST", "/agents", {"name": "Another agent"}),
        ("PATCH", f"/agents/{world.agent_id}", {"name": "Renamed"}),
        ("PATCH", f"/agents/{world.agent_id}", {"status": "online"}),
        ("DELETE", f"/agents/{world.agent_id}", None),
        ("POST", "/keys", {"mailboxIds": [OTHER_MAILBOX]}),
        ("POST", "/auth/tokens", {"role": "viewer", "subject": "x", "mailboxIds": [OTHER_MAILBOX]}),
        (
            "POST",
            "/webhooks",
            {"url": "http://127.0.0.1:9/h", "events": ["*"], "mailboxIds": [OTHER_MAILBOX]},
        ),
        (
            "POST",
            "/knowledge/articles",
            {"title": "T", "content": "C", "mailboxIds": [OTHER_MAILBOX]},
        ),
        ("PATCH", f"/knowledge/articles/{world.shared_article_id}", {"title": "Mine"}),
        ("DELETE", f"/knowledge/articles/{world.shared_article_id}", None),
    ]
    for method, path, body in forbidden:
        response = await client.request(method, path, json=body, headers=admin)
        assert response.status_code == 403, (method, path, response.text[:200])
        assert response.json()["error"]["code"] == "AUTHORIZATION_ERROR"

    created = await _ok(
        await client.post(
            "/knowledge/articles", json={"title": "Ours", "content": "Ours."}, headers=admin
        )
    )
    assert created["mailboxIds"] == SCOPE
    renamed = await client.patch(
        f"/knowledge/articles/{created['id']}", json={"title": "Still ours"}, headers=admin
    )
    assert renamed.status_code == 200, renamed.text
    imported = await client.post(
        "/knowledge/articles/import",
        json={"articles": [{"title": "Opening hours", "content": "Changed."}]},
        headers=admin,
    )
    assert imported.status_code == 403, imported.text


async def test_limited_agent_key_status_403(app, client, db, tenant, world):
    """An agent's status decides its routing in every mailbox, so a limited key may not set it."""
    credentials = await limited_credentials(app, db, tenant, world)
    path = f"/agents/{world.agent_id}"
    for role in ("admin", "agent", "viewer"):
        response = await client.patch(path, json={"status": "online"}, headers=credentials[role])
        assert response.status_code == 403, (role, response.text[:200])
        assert response.json()["error"]["code"] == "AUTHORIZATION_ERROR", role

    unlimited = bearer(await create_key(db, tenant.org_id, role="agent"))
    changed = await client.patch(path, json={"status": "away"}, headers=unlimited)
    assert changed.status_code == 200, changed.text
    assert changed.json()["status"] == "away"

    # An agent's own token sets that agent's status. A limited one is rejected
    # outright, because it could not see the handoffs the status routes to it.
    own = mint(app, tenant.org_id, "agent", subject=world.agent_id, aid=world.agent_id)
    own_change = await client.patch(path, json={"status": "online"}, headers=bearer(own))
    assert own_change.status_code == 200, own_change.text
    assert own_change.json()["status"] == "online"
    limited = mint(
        app, tenant.org_id, "agent", subject=world.agent_id, aid=world.agent_id, mbx=SCOPE
    )
    limited_change = await client.patch(path, json={"status": "away"}, headers=bearer(limited))
    assert limited_change.status_code == 401, limited_change.text
    assert "mbx" in limited_change.json()["error"]["message"]


async def _deliveries(db, webhook_id: str) -> list[str]:
    """Return the mailbox of each event queued for ``webhook_id``."""
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT e.mailbox_id FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
            "WHERE d.webhook_id = :webhook_id",
            webhook_id=webhook_id,
        )
    )
    return [row["mailbox_id"] for row in rows]


async def test_limited_webhook_gets_own_mailbox_only(app, client, db, tenant, world):
    credentials = await limited_credentials(app, db, tenant, world)
    body = {"url": "http://127.0.0.1:9/hook", "events": ["message.sent"]}
    limited = await _ok(await client.post("/webhooks", json=body, headers=credentials["admin"]))
    assert limited["mailboxIds"] == SCOPE
    unlimited = await _ok(await client.post("/webhooks", json=body, headers=tenant.headers))
    assert unlimited["mailboxIds"] == []

    await _ok(await send_message(client, tenant, world.conversation_id, "other mailbox"))
    await _ok(await send_message(client, tenant, world.own_conversation_id, "own mailbox"))
    # Both webhooks get their deliveries of one event in the same fan-out transaction.
    for _ in range(200):
        if len(await _deliveries(db, unlimited["id"])) == 2:
            break
        await asyncio.sleep(0.05)
    assert sorted(await _deliveries(db, unlimited["id"])) == [OTHER_MAILBOX, SCOPE[0]]
    for _ in range(40):
        if await _deliveries(db, limited["id"]):
            break
        await asyncio.sleep(0.05)
    assert await _deliveries(db, limited["id"]) == SCOPE


async def _frames_for(ws, seconds: float) -> list[dict]:
    frames = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (left := deadline - loop.time()) > 0:
        try:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            break
    return frames


async def test_websocket_agent_channel_filtered(db, tenant, world, live_server):
    """Over a real socket, a limited key on an agent channel gets its mailboxes' frames only."""
    import httpx

    limited_key = await create_key(db, tenant.org_id, role="admin", mailbox_ids=SCOPE)
    url = f"ws://127.0.0.1:{live_server.port}/api/v2/realtime"
    sockets = {}
    for name, key in (("limited", limited_key), ("unlimited", tenant.key)):
        ws = await websockets.connect(url)
        await ws.send(json.dumps({"type": "auth", "token": key}))
        assert json.loads(await ws.recv())["type"] == "authenticated"
        channel = f"agent:{world.agent_id}"
        await ws.send(json.dumps({"type": "subscribe", "channel": channel}))
        assert json.loads(await ws.recv())["type"] == "subscribed"
        sockets[name] = ws

    async with httpx.AsyncClient(base_url=live_server.api, timeout=30) as http:
        for conversation_id in (world.conversation_id, world.own_conversation_id):
            response = await http.patch(
                f"/conversations/{conversation_id}",
                json={"assignedAgentId": world.agent_id, "priority": "urgent"},
                headers=tenant.headers,
            )
            assert response.status_code == 200, response.text

    try:
        seen = {name: await _frames_for(ws, 1.5) for name, ws in sockets.items()}
    finally:
        for ws in sockets.values():
            await ws.close()
    unlimited_text = json.dumps(seen["unlimited"])
    limited_text = json.dumps(seen["limited"])
    assert world.conversation_id in unlimited_text
    assert world.own_conversation_id in limited_text
    assert world.conversation_id not in limited_text
