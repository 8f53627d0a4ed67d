"""Conversation frames carry the conversation in the shape that the REST API returns."""

from __future__ import annotations

from tests.realtime.conftest import (
    connect,
    frames_until_quiet,
    open_conversation,
    post_message,
    subscribe,
    token_for,
)


async def test_reopen_frame_matches_rest(server, http, org) -> None:
    conversation_id = await open_conversation(http, org, customer_id="customer_rt_shape")
    resolved = await http.patch(
        f"/conversations/{conversation_id}", json={"status": "resolved"}, headers=org.headers
    )
    assert resolved.status_code == 200, resolved.text
    agent_ws = await connect(server, org.key)
    customer_ws = await connect(server, token_for(org, "customer", customer_id="customer_rt_shape"))
    channel = f"conversation:{conversation_id}"
    assert (await subscribe(agent_ws, channel))["type"] == "subscribed"
    assert (await subscribe(customer_ws, channel))["type"] == "subscribed"

    # A customer message reopens the conversation, which sends a conversation frame.
    await post_message(http, org, conversation_id, "back again", author_type="customer")
    rest = (await http.get(f"/conversations/{conversation_id}", headers=org.headers)).json()
    agent_frames = [f for f in await frames_until_quiet(agent_ws) if f["type"] == "conversation"]
    customer_frames = [
        f for f in await frames_until_quiet(customer_ws) if f["type"] == "conversation"
    ]
    await agent_ws.close()
    await customer_ws.close()

    assert len(agent_frames) == 1
    data = agent_frames[0]["data"]
    assert data["action"] == "updated"
    assert data["changes"] == {"status": "open"}
    assert {key: value for key, value in data.items() if key not in ("action", "changes")} == rest
    assert data["customer"] == {"id": "customer_rt_shape", "name": None, "email": None}

    assert len(customer_frames) == 1
    seen = customer_frames[0]["data"]
    assert seen["customer"] == data["customer"]
    assert seen["status"] == "open"
    assert "messageCount" not in seen
    assert "lastMessageAt" not in seen
