"""A smoke pass over real HTTP against a `campfire serve` process."""

from __future__ import annotations

import httpx


async def test_conversation_flow_over_http(live_server, tenant):
    async with httpx.AsyncClient(base_url=live_server.api, headers=tenant.headers) as http:
        created = await http.post(
            "/conversations", json={"customerId": "customer_http", "subject": "Over the wire"}
        )
        assert created.status_code == 201
        conversation_id = created.json()["id"]

        sent = await http.post(
            f"/conversations/{conversation_id}/messages", json={"content": "Hello 👋 — end"}
        )
        assert sent.status_code == 201
        assert sent.headers["x-request-id"].startswith("req_")

        listed = await http.get(f"/conversations/{conversation_id}/messages")
        assert [item["content"] for item in listed.json()["data"]] == ["Hello 👋 — end"]

        detail = await http.get(f"/conversations/{conversation_id}")
        assert detail.json()["unreadCount"] == 1

        bad = await http.post(
            f"/conversations/{conversation_id}/messages",
            content=b'{"content": "x",}',
            headers={"Content-Type": "application/json"},
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["requestId"] == bad.headers["x-request-id"]

        docs = await http.get("/docs")
        assert docs.status_code == 200
