"""Event frames, log pruning on both engines, and the unread count of conversations."""

from __future__ import annotations

import secrets

from campfire_server import clock
from campfire_server.events.records import EventRecord
from campfire_server.realtime.events import frame_for
from campfire_server.realtime.service import prune_events
from campfire_server.webhooks.delivery import fan_out_all
from tests.helpers import create_conversation, get_conversation, send_message


def record(type_: str, data: dict, sequence: int = 3) -> EventRecord:
    return EventRecord(
        position=77,
        id="evt_1",
        org_id="org_1",
        type=type_,
        data=data,
        created_at=1705314600123,
        conversation_id="conv_789",
        mailbox_id="mb_1",
        sequence=sequence,
    )


HANDOFF = {
    "handoff": {"id": "hnd_1"},
    "status": "assigned",
    "agentId": "agent_123",
    "estimatedWaitTime": 30,
    "position": 0,
}


def test_handoff_frame_carries_routing_fields() -> None:
    frame = frame_for(record("handoff.assigned", HANDOFF))
    assert frame is not None
    assert frame.agent_ids == frozenset({"agent_123"})
    assert frame.to_frame("conversation:conv_789") == {
        "type": "handoff",
        "channel": "conversation:conv_789",
        "data": {
            "handoffId": "hnd_1",
            "event": "handoff.assigned",
            "status": "assigned",
            "agentId": "agent_123",
            "agentName": None,
            "estimatedWaitTime": 30,
            "position": 0,
            "conversationId": "conv_789",
        },
        "sequence": 3,
        "cursor": 77,
        "eventId": "evt_1",
        "timestamp": "2024-01-15T10:30:00.123Z",
    }


def test_assigned_request_is_not_repeated() -> None:
    # An assignment at once logs requested and assigned; only the second is a frame.
    assert frame_for(record("handoff.requested", HANDOFF)) is None


def test_handoff_status_defaults_to_type() -> None:
    frame = frame_for(record("handoff.requested", {"reason": "billing"}))
    assert frame is not None
    assert frame.data["status"] == "requested"


def test_conversation_frame_flattens_snapshot() -> None:
    snapshot = {"id": "conv_789", "status": "resolved", "assignedAgentId": "agent_9"}
    frame = frame_for(record("conversation.resolved", {"conversation": snapshot}))
    assert frame is not None
    assert frame.type == "conversation"
    assert frame.data == {**snapshot, "action": "resolved"}
    assert frame.agent_ids == frozenset({"agent_9"})


def test_message_frame_marks_private() -> None:
    message = {"id": "msg_1", "content": "note", "createdAt": "2024-01-15T10:30:00.000Z"}
    frame = frame_for(record("message.sent", {"message": {**message, "private": True}}))
    assert frame is not None
    assert frame.private is True
    assert frame.data["timestamp"] == "2024-01-15T10:30:00.000Z"
    assert frame.data["conversationId"] == "conv_789"


def test_customer_frame_omits_note_counts() -> None:
    snapshot = {"id": "conv_789", "status": "open", "messageCount": 4, "lastMessageAt": "x"}
    frame = frame_for(record("conversation.updated", {"conversation": snapshot}))
    assert frame is not None

    agent_view = frame.to_frame("conversation:conv_789")["data"]
    customer_view = frame.to_frame("conversation:conv_789", customer=True)["data"]

    assert agent_view["messageCount"] == 4
    assert agent_view["lastMessageAt"] == "x"
    assert "messageCount" not in customer_view
    assert "lastMessageAt" not in customer_view
    assert customer_view["status"] == "open"


def test_unmapped_types_have_no_frame() -> None:
    assert frame_for(record("webhook.delivered", {})) is None


def test_rating_has_its_own_frame() -> None:
    rating = {"conversationId": "conv_789", "rating": 4, "comment": "Kind"}
    data = {
        "rating": rating,
        "previousRating": None,
        "conversation": {"id": "conv_789", "customerId": "cus_1", "mailboxId": "mailbox_456"},
    }
    frame = frame_for(record("satisfaction.rated", data))
    assert frame is not None

    sent = frame.to_frame("conversation:conv_789", customer=True)
    assert sent["type"] == "rating"
    assert sent["data"] == rating
    assert sent["sequence"] == 3


# Pruning ---------------------------------------------------------------------------


def _insert_events(tx, org_id: str, conversation_id: str, count: int, created_at: int) -> None:  # type: ignore[no-untyped-def]
    for index in range(count):
        tx.execute(
            "INSERT INTO events (id, org_id, conversation_id, mailbox_id, sequence, type, data, "
            "created_at) VALUES (:id, :org_id, :conversation_id, 'mb_prune', :sequence, "
            "'message.sent', '{}', :created_at)",
            id=f"evt_prune_{secrets.token_hex(8)}",
            org_id=org_id,
            conversation_id=conversation_id,
            sequence=index + 1,
            created_at=created_at + index,
        )


async def test_prune_keeps_recent_and_last_per_channel(db) -> None:  # type: ignore[no-untyped-def]
    org_id = f"org_prune_{secrets.token_hex(4)}"
    now = clock.now_ms()
    old = now - 48 * 3_600_000

    def seed(tx):  # type: ignore[no-untyped-def]
        _insert_events(tx, org_id, "conv_small", 10, old - 10_000)
        _insert_events(tx, org_id, "conv_big", 1100, old)
        for index in range(5):
            tx.execute(
                "INSERT INTO events (id, org_id, conversation_id, mailbox_id, sequence, type, "
                "data, created_at) VALUES (:id, :org_id, 'conv_big', 'mb_prune', :sequence, "
                "'message.sent', '{}', :created_at)",
                id=f"evt_prune_{secrets.token_hex(8)}",
                org_id=org_id,
                sequence=1101 + index,
                created_at=now + index,
            )

    await db.write(seed)
    # The log keeps every event until the webhook fan-out has read it.
    await fan_out_all(db)
    deleted = await db.write(
        lambda tx: prune_events(tx, cutoff_ms=now - 24 * 3_600_000, keep=1000, batch=50)
    )
    assert deleted == 50
    while await db.write(
        lambda tx: prune_events(tx, cutoff_ms=now - 24 * 3_600_000, keep=1000, batch=50)
    ):
        pass

    def counts(tx):  # type: ignore[no-untyped-def]
        rows = tx.all(
            "SELECT conversation_id, COUNT(*) AS n, MIN(sequence) AS first FROM events "
            "WHERE org_id = :org_id GROUP BY conversation_id ORDER BY conversation_id",
            org_id=org_id,
        )
        return {row["conversation_id"]: (int(row["n"]), int(row["first"])) for row in rows}

    remaining = await db.read(counts)
    # conv_big keeps its newest 1000 (5 fresh plus 995 old); conv_small keeps all 10,
    # because they are among the newest 1000 of their own conversation.
    assert remaining == {"conv_big": (1000, 106), "conv_small": (10, 1)}


# Unread count (an agent-side counter carried by conversation snapshots) ------------------


async def test_unread_count_counts_customer_messages(client, tenant) -> None:  # type: ignore[no-untyped-def]
    conversation = await create_conversation(client, tenant)
    conversation_id = conversation["id"]
    assert (await send_message(client, tenant, conversation_id, "first")).status_code == 201
    assert (await get_conversation(client, tenant, conversation_id))["unreadCount"] == 1

    for text in ("second", "third"):
        assert (await send_message(client, tenant, conversation_id, text)).status_code == 201
    assert (await get_conversation(client, tenant, conversation_id))["unreadCount"] == 3

    assert (await send_message(client, tenant, conversation_id, "ai", "ai")).status_code == 201
    assert (await get_conversation(client, tenant, conversation_id))["unreadCount"] == 3
    reply = await send_message(client, tenant, conversation_id, "agent reply", "agent")
    assert reply.status_code == 201
    detail = await get_conversation(client, tenant, conversation_id)
    assert detail["unreadCount"] == 0

    listed = await client.get(
        "/conversations", params={"customerId": "customer_test_A"}, headers=tenant.headers
    )
    match = [item for item in listed.json()["data"] if item["id"] == conversation_id]
    assert match[0]["unreadCount"] == detail["unreadCount"]

    events = await client.get(
        "/events", params={"channel": f"conversation:{conversation_id}"}, headers=tenant.headers
    )
    assert events.status_code == 200, events.text
    kinds = [frame["type"] for frame in events.json()["data"]]
    assert kinds == ["conversation"] + ["message"] * 5


async def test_rating_frame_replays(client, tenant):
    conversation = await create_conversation(client, tenant)
    channel = f"conversation:{conversation['id']}"
    rated = await client.post(
        f"/conversations/{conversation['id']}/satisfaction",
        json={"rating": 4, "comment": "Kind"},
        headers=tenant.headers,
    )
    assert rated.status_code == 201, rated.text

    events = await client.get("/events", params={"channel": channel}, headers=tenant.headers)
    assert events.status_code == 200, events.text
    frames = events.json()["data"]
    assert [frame["type"] for frame in frames] == ["conversation", "rating"]
    assert frames[1]["data"] == rated.json()
    assert frames[1]["sequence"] > frames[0]["sequence"]


async def test_events_malformed_cursor_is_400(client, tenant):
    conversation = await create_conversation(client, tenant)
    channel = f"conversation:{conversation['id']}"

    for params in ({"cursor": "zz"}, {"since": "0", "cursor": "zz"}):
        response = await client.get(
            "/events", params={"channel": channel, **params}, headers=tenant.headers
        )
        assert response.status_code == 400, params
        error = response.json()["error"]
        assert error["details"]["field"] == "cursor"
        assert error["message"].startswith('cursor "zz" is invalid')


async def test_events_since_and_cursor_is_400(client, tenant):
    conversation = await create_conversation(client, tenant)

    response = await client.get(
        "/events",
        params={"channel": f"conversation:{conversation['id']}", "since": "0", "cursor": "1"},
        headers=tenant.headers,
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["details"]["field"] == "cursor"
    assert "send only one of them" in error["message"]


async def test_events_cursor_alone_resumes(client, tenant):
    conversation = await create_conversation(client, tenant)
    await send_message(client, tenant, conversation["id"], "one")

    response = await client.get(
        "/events",
        params={"channel": f"conversation:{conversation['id']}", "cursor": "1"},
        headers=tenant.headers,
    )

    assert response.status_code == 200, response.text
    assert [frame["type"] for frame in response.json()["data"]] == ["message"]
