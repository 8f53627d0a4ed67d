"""Who may act as an agent, and over which frames, on a live server over HTTP and WebSocket."""

from __future__ import annotations

import json
from typing import Any

import httpx
import websockets

from campfire_server.db.database import Database
from tests.conftest import LiveServer, Tenant
from tests.realtime.conftest import (
    connect,
    frames_until_quiet,
    next_frame,
    open_conversation,
    subscribe,
    token_for,
    ws_url,
)
from tests.realtime.test_credentials import close_of

CLOSE_AUTH_FAILED = 4401


async def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


async def _issue(http: httpx.AsyncClient, tenant: Tenant, **body: Any) -> httpx.Response:
    return await http.post("/auth/tokens", json=body, headers=tenant.headers)


async def _agent(http: httpx.AsyncClient, tenant: Tenant, agent_id: str) -> dict[str, Any]:
    body = {"id": agent_id, "name": agent_id.title(), "capacity": 50, "status": "offline"}
    return await _created(await http.post("/agents", json=body, headers=tenant.headers))


async def _handoff(http: httpx.AsyncClient, tenant: Tenant, conversation: str) -> dict[str, Any]:
    response = await http.get(f"/conversations/{conversation}/handoff", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _auth_close(server: LiveServer, token: str) -> tuple[int, str]:
    """Send ``auth`` with ``token`` on a new socket; return the close code and reason."""
    ws = await websockets.connect(ws_url(server))
    await ws.send(json.dumps({"type": "auth", "token": token}))
    return await close_of(ws, 5)


async def _widget_token(http: httpx.AsyncClient, tenant: Tenant, customer_id: str) -> str:
    key = await _created(
        await http.post(
            "/keys",
            json={"kind": "publishable", "mailboxIds": [tenant.mailbox_id]},
            headers=tenant.headers,
        )
    )
    session = await http.post(
        "/widget/session",
        json={"mailboxId": tenant.mailbox_id, "customerId": customer_id},
        headers={"Authorization": f"Bearer {key['key']}"},
    )
    assert session.status_code == 201, session.text
    return session.json()["token"]


# Agent tokens and mailboxes -------------------------------------------------------


async def test_agent_token_with_mailboxes_rejected(
    server: LiveServer, http: httpx.AsyncClient, org: Tenant
) -> None:
    """A token narrower than its agent's routing never sets the agent online."""
    await _agent(http, org, "agent_scoped")
    conversation = await _created(
        await http.post(
            "/conversations",
            json={"customerId": "cust_scope", "mailboxId": org.other_mailbox_id},
            headers=org.headers,
        )
    )
    handoff = await http.post(
        f"/conversations/{conversation['id']}/handoff",
        json={"reason": "scope test", "priority": "urgent"},
        headers=org.headers,
    )
    assert handoff.status_code in (200, 201), handoff.text
    assert handoff.json()["status"] == "queued"

    refused = await _issue(
        http, org, role="agent", agentId="agent_scoped", mailboxIds=[org.mailbox_id]
    )
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["details"]["field"] == "mailboxIds"
    assert "agent_scoped" in error["message"]

    limited_key = await _created(
        await http.post(
            "/keys", json={"role": "admin", "mailboxIds": [org.mailbox_id]}, headers=org.headers
        )
    )
    from_limited = await http.post(
        "/auth/tokens",
        json={"role": "agent", "agentId": "agent_scoped"},
        headers={"Authorization": f"Bearer {limited_key['key']}"},
    )
    assert from_limited.status_code == 403, from_limited.text

    # A token signed elsewhere with both claims is rejected on the socket too.
    minted = token_for(org, "agent", agent_id="agent_scoped", mailbox_ids=[org.mailbox_id])
    code, reason = await _auth_close(server, minted)
    assert code == CLOSE_AUTH_FAILED
    assert "mbx" in reason

    agent = await http.get("/agents/agent_scoped", headers=org.headers)
    assert agent.json()["status"] == "offline"
    still = await _handoff(http, org, conversation["id"])
    assert still["status"] == "queued"
    assert still.get("agentId") is None

    # A viewer token may still be limited to mailboxes.
    viewer = await _issue(http, org, role="viewer", subject="auditor", mailboxIds=[org.mailbox_id])
    assert viewer.status_code == 201, viewer.text


# Frames of every role -------------------------------------------------------------


async def test_frames_of_every_role(
    server: LiveServer, http: httpx.AsyncClient, org: Tenant, realtime_db: Database
) -> None:
    """Every role reads; only admins, agents and customers send typing to the other side."""
    customer_token = await _widget_token(http, org, "cust_frames")
    conversation = await open_conversation(http, org, customer_id="cust_frames")
    channel = f"conversation:{conversation}"
    await _agent(http, org, "agent_frames")
    viewer_key = await _created(
        await http.post("/keys", json={"role": "viewer"}, headers=org.headers)
    )
    agent_key = await _created(
        await http.post("/keys", json={"role": "agent"}, headers=org.headers)
    )
    viewer_jwt = (await _created(await _issue(http, org, role="viewer", subject="auditor1")))[
        "token"
    ]
    viewer_of_agent = (
        await _created(await _issue(http, org, role="viewer", agentId="agent_frames"))
    )["token"]
    agent_jwt = (await _created(await _issue(http, org, role="agent", agentId="agent_frames")))[
        "token"
    ]
    credentials = {
        "admin key": (org.key, True),
        "agent key": (agent_key["key"], True),
        "agent token": (agent_jwt, True),
        "customer token": (customer_token, True),
        "viewer key": (viewer_key["key"], False),
        "viewer token": (viewer_jwt, False),
        "viewer token with agentId": (viewer_of_agent, False),
    }

    observer = await connect(server, org.key)
    assert (await subscribe(observer, channel))["type"] == "subscribed"
    for name, (credential, may_type) in credentials.items():
        ws = await connect(server, credential)
        await ws.send(json.dumps({"type": "ping", "id": "p1"}))
        assert (await next_frame(ws))["type"] == "pong", name
        assert (await subscribe(ws, channel))["type"] == "subscribed", name

        await ws.send(
            json.dumps({"type": "typing", "channel": channel, "data": {"isTyping": True}})
        )
        relayed = [f for f in await frames_until_quiet(observer, 0.5) if f["type"] == "typing"]
        if may_type:
            assert [f["data"]["isTyping"] for f in relayed] == [True], name
        else:
            error = await next_frame(ws)
            assert error["type"] == "error", name
            assert error["data"]["code"] == "AUTHORIZATION_ERROR", name
            assert relayed == [], name

        await ws.send(json.dumps({"type": "unsubscribe", "channel": channel}))
        assert (await next_frame(ws))["type"] == "unsubscribed", name
        await ws.close()
        # Closing a typing socket sends isTyping false; let it pass before the next role.
        await frames_until_quiet(observer, 0.5)
    await observer.close()

    # A viewer socket never sets the agent it names online.
    agent = await http.get("/agents/agent_frames", headers=org.headers)
    assert agent.json()["status"] == "offline"


# Deleted agents -------------------------------------------------------------------


async def test_deleted_agent_loses_token_and_socket(
    server: LiveServer, http: httpx.AsyncClient, org: Tenant
) -> None:
    conversation = await open_conversation(http, org, customer_id="cust_deleted")
    await _agent(http, org, "agent_gone")
    token = (await _created(await _issue(http, org, role="agent", agentId="agent_gone")))["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await http.get(f"/conversations/{conversation}", headers=headers)).status_code == 200
    ws = await connect(server, token)

    deleted = await http.delete("/agents/agent_gone", headers=org.headers)
    assert deleted.status_code == 204, deleted.text
    code, reason = await close_of(ws, 5)
    assert code == CLOSE_AUTH_FAILED
    assert "deleted" in reason
    read = await http.get(f"/conversations/{conversation}", headers=headers)
    assert read.status_code == 401, read.text

    # A new agent with the same id is another person: the old token stays rejected.
    await _agent(http, org, "agent_gone")
    read_again = await http.get(f"/conversations/{conversation}", headers=headers)
    assert read_again.status_code == 401, read_again.text
    posted = await http.post(
        f"/conversations/{conversation}/messages",
        json={"content": "from the old token", "authorType": "agent"},
        headers=headers,
    )
    assert posted.status_code == 401, posted.text
    code, _ = await _auth_close(server, token)
    assert code == CLOSE_AUTH_FAILED

    fresh = (await _created(await _issue(http, org, role="agent", agentId="agent_gone")))["token"]
    fresh_read = await http.get(
        f"/conversations/{conversation}", headers={"Authorization": f"Bearer {fresh}"}
    )
    assert fresh_read.status_code == 200, fresh_read.text


# Customer tokens ------------------------------------------------------------------


async def test_customer_token_defaults_customer_id(http: httpx.AsyncClient, org: Tenant) -> None:
    token = await _widget_token(http, org, "cust_default")
    created = await http.post(
        "/conversations",
        json={"mailboxId": org.mailbox_id},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201, created.text
    assert created.json()["customerId"] == "cust_default"

    before = await http.get("/conversations?limit=100", headers=org.headers)
    missing = await http.post(
        "/conversations", json={"mailboxId": org.mailbox_id}, headers=org.headers
    )
    assert missing.status_code == 400, missing.text
    error = missing.json()["error"]
    assert error["details"]["field"] == "customerId"
    assert "customerId is missing" in error["message"]
    after = await http.get("/conversations?limit=100", headers=org.headers)
    assert len(after.json()["data"]) == len(before.json()["data"])
