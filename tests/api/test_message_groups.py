"""Messages that the writer commits in one group: order, counts, events and failures.

On PostgreSQL a message of a group is stored by one statement and its events
are logged after the group's sync, so these tests hold the writer while the
requests queue, which puts them in one group.
"""

from __future__ import annotations

import asyncio
import json
import threading

from campfire_server.conversations import message_statement, service
from campfire_server.conversations.rules import effect_of_message
from campfire_server.conversations.schemas import CustomerSummary
from campfire_server.db.database import Database
from campfire_server.errors import Conflict
from tests.helpers import create_conversation as create
from tests.helpers import get_conversation as get
from tests.helpers import send_message as send


async def _in_one_group(db: Database, requests: list) -> list:  # type: ignore[type-arg]
    """Send ``requests`` while a work keeps the writer busy, so they commit as one group."""
    release = threading.Event()
    holding = threading.Event()

    def hold(tx):  # type: ignore[no-untyped-def]
        holding.set()
        release.wait(5)

    held = asyncio.ensure_future(db.write(hold))
    await asyncio.get_running_loop().run_in_executor(None, holding.wait, 5)
    queued = [asyncio.ensure_future(request) for request in requests]
    await asyncio.sleep(0.2)
    release.set()
    await held
    return await asyncio.gather(*queued)


async def _events(db: Database, conversation_id: str) -> list[dict]:
    rows = await db.read(
        lambda tx: tx.all(
            "SELECT sequence, type, data FROM events WHERE conversation_id = :id ORDER BY position",
            id=conversation_id,
        )
    )
    return [{**row, "data": json.loads(row["data"])} for row in rows]


async def test_group_messages_one_conversation(client, tenant, db):
    conversation = await create(client, tenant)
    contents = [f"message {number}" for number in range(8)]

    responses = await _in_one_group(
        db,
        [
            send(client, tenant, conversation["id"], content, authorId="customer_test_A")
            for content in contents
        ],
    )

    assert [response.status_code for response in responses] == [201] * 8
    detail = await get(client, tenant, conversation["id"])
    assert detail["unreadCount"] == 8
    assert detail["messageCount"] == 8
    events = await _events(db, conversation["id"])
    sent = [event for event in events if event["type"] == "message.sent"]
    assert [event["sequence"] for event in events] == list(range(1, 10))
    assert sorted(event["data"]["message"]["content"] for event in sent) == sorted(contents)
    unread = sorted(event["data"]["conversation"]["unreadCount"] for event in sent)
    assert unread == list(range(1, 9))


async def test_group_messages_many_conversations(client, tenant, db):
    conversations = [await create(client, tenant) for _ in range(5)]
    requests = []
    for round_number in range(3):
        for index, conversation in enumerate(conversations):
            content = f"round {round_number} to {index}"
            requests.append(
                send(client, tenant, conversation["id"], content, authorId="customer_test_A")
            )

    responses = await _in_one_group(db, requests)

    assert [response.status_code for response in responses] == [201] * 15
    for index, conversation in enumerate(conversations):
        detail = await get(client, tenant, conversation["id"])
        assert detail["messageCount"] == 3
        assert detail["unreadCount"] == 3
        listed = await client.get(
            f"/conversations/{conversation['id']}/messages", headers=tenant.headers
        )
        assert listed.status_code == 200, listed.text
        contents = [message["content"] for message in listed.json()["data"]]
        assert sorted(contents) == [f"round {number} to {index}" for number in range(3)]
        events = await _events(db, conversation["id"])
        assert [event["sequence"] for event in events] == [1, 2, 3, 4]
        sent = [event["data"]["message"]["content"] for event in events[1:]]
        assert sent == contents
        unread = [event["data"]["conversation"]["unreadCount"] for event in events[1:]]
        assert unread == [1, 2, 3]


async def test_group_failures_store_nothing(client, tenant, db):
    stored = await create(client, tenant)
    closed = await create(client, tenant)
    response = await client.patch(
        f"/conversations/{closed['id']}", json={"status": "closed"}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text

    responses = await _in_one_group(
        db,
        [
            send(client, tenant, stored["id"], "before", authorId="customer_test_A"),
            send(client, tenant, closed["id"], "to a closed one", authorId="customer_test_A"),
            send(client, tenant, "conv_missing", "to a missing one", authorId="customer_test_A"),
            send(client, tenant, stored["id"], "after", authorId="customer_test_A"),
        ],
    )

    assert [response.status_code for response in responses] == [201, 409, 404, 201]
    assert responses[1].json()["error"]["code"] == "CONVERSATION_CLOSED"
    assert responses[2].json()["error"]["code"] == "NOT_FOUND"
    assert (await get(client, tenant, closed["id"]))["messageCount"] == 0
    assert (await get(client, tenant, stored["id"]))["messageCount"] == 2
    closed_events = await _events(db, closed["id"])
    assert [event["type"] for event in closed_events if event["type"] == "message.sent"] == []


async def test_group_reopen_logs_update(client, tenant, db):
    conversation = await create(client, tenant)
    response = await client.patch(
        f"/conversations/{conversation['id']}",
        json={"status": "resolved"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    before = await _events(db, conversation["id"])

    responses = await _in_one_group(
        db,
        [
            send(client, tenant, conversation["id"], "back again", authorId="customer_test_A"),
            send(client, tenant, conversation["id"], "note", "agent", private=True),
        ],
    )

    assert [response.status_code for response in responses] == [201, 201]
    detail = await get(client, tenant, conversation["id"])
    assert detail["status"] == "open"
    assert detail["resolvedAt"] is None
    assert detail["unreadCount"] == 1
    events = (await _events(db, conversation["id"]))[len(before) :]
    assert [event["type"] for event in events] == [
        "message.sent",
        "conversation.updated",
        "message.sent",
    ]
    assert [event["sequence"] for event in events] == [
        before[-1]["sequence"] + step for step in (1, 2, 3)
    ]
    assert events[1]["data"]["changes"] == {"status": "open"}


async def test_group_events_carry_conversation(client, tenant, db):
    customer_id = "customer_grouped"
    conversation = await create(client, tenant, customerId=customer_id)
    named = await db.write(
        lambda tx: tx.execute(
            "UPDATE customers SET name = :name, email = :email WHERE org_id = :org_id AND id = :id",
            name="Ana Silva",
            email="ana@example.test",
            org_id=tenant.org_id,
            id=customer_id,
        )
    )
    assert named == 1
    response = await client.patch(
        f"/conversations/{conversation['id']}",
        json={"status": "resolved", "subject": "Grouped"},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    before = await _events(db, conversation["id"])

    responses = await _in_one_group(
        db,
        [
            send(client, tenant, conversation["id"], "back again", authorId=customer_id),
            send(client, tenant, conversation["id"], "and again", authorId=customer_id),
        ],
    )

    assert [response.status_code for response in responses] == [201, 201]
    detail = await get(client, tenant, conversation["id"])
    events = (await _events(db, conversation["id"]))[len(before) :]
    assert [event["type"] for event in events] == [
        "message.sent",
        "conversation.updated",
        "message.sent",
    ]
    snapshots = [event["data"]["conversation"] for event in events]
    for snapshot in snapshots:
        assert set(snapshot) == set(detail)
        assert snapshot["customer"] == {
            "id": customer_id,
            "name": "Ana Silva",
            "email": "ana@example.test",
        }
        assert snapshot["subject"] == "Grouped"
        assert snapshot["createdAt"] == detail["createdAt"]
    assert snapshots[0]["status"] == "open"
    assert snapshots[0]["resolvedAt"] is None
    assert snapshots[0]["messageCount"] == 1
    assert snapshots[0]["unreadCount"] == 1
    assert snapshots[1] == snapshots[0]
    assert snapshots[2] == detail


async def test_group_positions_follow_sequence(client, tenant, db):
    conversation = await create(client, tenant)

    responses = await _in_one_group(
        db,
        [
            send(client, tenant, conversation["id"], "first", authorId="customer_test_A"),
            client.patch(
                f"/conversations/{conversation['id']}",
                json={"priority": "high"},
                headers=tenant.headers,
            ),
            send(client, tenant, conversation["id"], "second", authorId="customer_test_A"),
        ],
    )

    assert [response.status_code for response in responses] == [201, 200, 201]
    events = await _events(db, conversation["id"])
    assert [event["type"] for event in events] == [
        "conversation.created",
        "message.sent",
        "conversation.updated",
        "message.sent",
    ]
    assert [event["sequence"] for event in events] == [1, 2, 3, 4]
    assert events[3]["data"]["message"]["content"] == "second"


def test_message_statement_rules_match_python():
    for author in ("customer", "agent", "ai", "system"):
        table = message_statement.rule_table(author)
        for status in ("open", "pending", "resolved", "closed"):
            try:
                effect = effect_of_message(status, 3, author)
            except Conflict:
                assert f"('{status}'," not in table
                continue
            row = f"('{status}', '{effect.status}', "
            assert row in table
            factor, offset, releases = table.split(row)[1].split(")")[0].split(", ")
            assert 3 * int(factor) + int(offset) == effect.unread_count
            assert releases == ("TRUE" if effect.releases_assignee else "FALSE")


def test_conversation_json_matches_model():
    rows = [
        {
            "id": "conv_a",
            "customer_id": "customer_a",
            "mailbox_id": "mbx_a",
            "subject": None,
            "status": "open",
            "priority": "medium",
            "assigned_agent_id": None,
            "unread_count": 0,
            "message_count": 1,
            "last_message_at": None,
            "resolved_at": None,
            "created_at": 1_733_500_000_000,
            "updated_at": 1_733_500_000_001,
            "metadata": None,
        },
        {
            "id": "conv_b",
            "customer_id": "customer_b",
            "mailbox_id": "mbx_b",
            "subject": "Billing «question»",
            "status": "resolved",
            "priority": "urgent",
            "assigned_agent_id": "agt_b",
            "unread_count": 7,
            "message_count": 12,
            "last_message_at": 1_733_500_000_999,
            "resolved_at": 1_733_500_001_000,
            "created_at": 1_733_400_000_000,
            "updated_at": 1_733_500_001_000,
            "metadata": '{"plan": "pro", "tags": ["a", 1, null], "nested": {"x": 1.5}}',
        },
    ]
    customers = [
        CustomerSummary(id="customer_a", name=None, email=None),
        CustomerSummary(id="customer_b", name="Ana Silva", email="ana@example.test"),
    ]

    for row, customer in zip(rows, customers, strict=True):
        expected = service.conversation_from_row(row, customer).model_dump(mode="json")
        assert service.conversation_json(row, customer) == expected
