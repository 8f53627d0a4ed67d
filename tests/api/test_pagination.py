"""Keyset pagination: nothing skipped or repeated while rows arrive."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from types import SimpleNamespace

from campfire_server import clock
from tests.helpers import create_conversation, get_conversation, send_message


async def walk(client, tenant, path, limit, **params):
    seen, cursor = [], None
    for _ in range(100):
        query = {"limit": limit, **params}
        if cursor:
            query["cursor"] = cursor
        response = await client.get(path, params=query, headers=tenant.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [item["id"] for item in body["data"]]
        cursor = body["pagination"]["nextCursor"]
        if not body["pagination"]["hasMore"]:
            assert cursor is None
            return seen
    raise AssertionError("pagination did not end")


async def test_backdated_and_tied_messages_all_listed(client, tenant):
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}/messages"
    ids = []
    for text in ("m1", "m2", "m3"):
        ids.append((await send_message(client, tenant, conversation["id"], text)).json()["id"])
    backdated = clock.to_iso(clock.now_ms() - int(timedelta(hours=1).total_seconds() * 1000))
    ids.append(
        (
            await send_message(
                client, tenant, conversation["id"], "m4", metadata={"timestamp": backdated}
            )
        ).json()["id"]
    )
    concurrent = await asyncio.gather(
        *(send_message(client, tenant, conversation["id"], t) for t in ("m5", "m6", "m7"))
    )
    ids += [response.json()["id"] for response in concurrent]

    walked = await walk(client, tenant, path, 2)
    assert len(walked) == 7
    assert set(walked) == set(ids)

    listed = (await client.get(path, params={"limit": 100}, headers=tenant.headers)).json()["data"]
    times = [item["createdAt"] for item in listed]
    assert times == sorted(times)
    assert [item["id"] for item in listed] == walked
    assert walked == await stored_order(client, tenant, conversation["id"])


async def stored_order(client, tenant, conversation_id: str) -> list[str]:
    """Return the conversation's message ids in the order their events were sequenced."""
    response = await client.get(
        "/events",
        params={"channel": f"conversation:{conversation_id}", "limit": 1000},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    frames = response.json()["data"]
    return [frame["data"]["id"] for frame in frames if frame["type"] == "message"]


async def test_same_millisecond_messages_list_in_stored_order(client, tenant):
    frozen = clock.FrozenClock(clock.now_ms())
    previous = clock.set_clock(frozen)
    try:
        conversation = await create_conversation(client, tenant)
        path = f"/conversations/{conversation['id']}/messages"
        sent = []
        for index in range(12):
            author = "agent" if index == 11 else "customer"
            response = await send_message(client, tenant, conversation["id"], f"m{index}", author)
            assert response.status_code == 201, response.text
            sent.append(response.json()["id"])
        # One more customer message after the agent's reply leaves one unread.
        last = await send_message(client, tenant, conversation["id"], "after the reply")
        sent.append(last.json()["id"])
    finally:
        clock.set_clock(previous)

    listed = (await client.get(path, params={"limit": 100}, headers=tenant.headers)).json()["data"]
    walked = await walk(client, tenant, path, 3)
    detail = await get_conversation(client, tenant, conversation["id"])

    assert len({item["createdAt"] for item in listed}) == 1
    assert [item["id"] for item in listed] == sent
    assert walked == sent
    assert await stored_order(client, tenant, conversation["id"]) == sent
    # The unread count agrees with the list: one customer message after the
    # last agent reply.
    assert listed[-2]["authorType"] == "agent"
    assert detail["unreadCount"] == 1


async def test_message_cursor_of_earlier_version_continues(client, tenant):
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}/messages"
    for text in ("one", "two", "three"):
        await send_message(client, tenant, conversation["id"], text)
    listed = (await client.get(path, headers=tenant.headers)).json()["data"]
    first_page = await client.get(path, params={"limit": 1}, headers=tenant.headers)
    new_cursor = first_page.json()["pagination"]["nextCursor"]
    tag, created_at, seq = json.loads(base64.urlsafe_b64decode(new_cursor + "=" * 4))
    assert seq == 1
    # A cursor as earlier versions wrote it: the last item's id, not its seq.
    old_cursor = (
        base64.urlsafe_b64encode(json.dumps([tag, created_at, listed[0]["id"]]).encode())
        .decode()
        .rstrip("=")
    )

    response = await client.get(
        path, params={"limit": 1, "cursor": old_cursor}, headers=tenant.headers
    )
    unknown = (
        base64.urlsafe_b64encode(json.dumps([tag, created_at, "msg_unknown"]).encode())
        .decode()
        .rstrip("=")
    )
    rejected = await client.get(path, params={"cursor": unknown}, headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert [item["content"] for item in response.json()["data"]] == ["two"]
    assert rejected.status_code == 400
    assert rejected.json()["error"]["details"]["field"] == "cursor"
    assert "msg_unknown" in rejected.json()["error"]["message"]


async def test_conversation_cursor_with_number_is_400(client, tenant):
    await create_conversation(client, tenant)
    await create_conversation(client, tenant)
    first = await client.get("/conversations", params={"limit": 1}, headers=tenant.headers)
    cursor = first.json()["pagination"]["nextCursor"]
    tag, created_at, _id = json.loads(base64.urlsafe_b64decode(cursor + "=" * 4))
    edited = base64.urlsafe_b64encode(json.dumps([tag, created_at, 7]).encode()).decode()

    response = await client.get("/conversations", params={"cursor": edited}, headers=tenant.headers)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["field"] == "cursor"


async def test_new_messages_between_pages(client, tenant):
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}/messages"
    original = [
        (await send_message(client, tenant, conversation["id"], f"m{i}")).json()["id"]
        for i in range(10)
    ]
    first = (await client.get(path, params={"limit": 4}, headers=tenant.headers)).json()
    for text in ("new1", "new2"):
        await send_message(client, tenant, conversation["id"], text)

    seen = [item["id"] for item in first["data"]]
    cursor = first["pagination"]["nextCursor"]
    while cursor:
        page = (
            await client.get(path, params={"limit": 4, "cursor": cursor}, headers=tenant.headers)
        ).json()
        seen += [item["id"] for item in page["data"]]
        cursor = page["pagination"]["nextCursor"]

    assert len(seen) == len(set(seen))
    assert set(original) <= set(seen)


async def test_bumped_conversation_not_repeated(client, tenant):
    created = [
        (await create_conversation(client, tenant, customerId="customer_page"))["id"]
        for _ in range(6)
    ]
    params = {"status": "open", "customerId": "customer_page", "limit": 3}
    first = (await client.get("/conversations", params=params, headers=tenant.headers)).json()
    last_listed = first["data"][-1]["id"]
    await send_message(client, tenant, last_listed, "bump", customerId="customer_page")
    second = (
        await client.get(
            "/conversations",
            params={**params, "cursor": first["pagination"]["nextCursor"]},
            headers=tenant.headers,
        )
    ).json()

    seen = [item["id"] for item in first["data"] + second["data"]]
    assert len(seen) == len(set(seen)) == 6
    assert set(seen) == set(created)
    assert first["pagination"]["total"] == 6
    assert first["pagination"]["totalPages"] == 2


async def test_page_offsets_still_work(client, tenant):
    for _ in range(5):
        await create_conversation(client, tenant, customerId="customer_offsets")
    params = {"customerId": "customer_offsets", "limit": 2}
    pages = [
        (
            await client.get(
                "/conversations", params={**params, "page": page}, headers=tenant.headers
            )
        ).json()
        for page in (1, 2, 3)
    ]
    ids = [item["id"] for page in pages for item in page["data"]]

    assert len(ids) == len(set(ids)) == 5
    assert pages[2]["pagination"]["hasMore"] is False


async def test_bad_cursor_and_limit_are_400(client, tenant):
    response = await client.get("/conversations", params={"cursor": "%%%"}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "cursor"

    for limit in (0, 101):
        response = await client.get(
            "/conversations", params={"limit": limit}, headers=tenant.headers
        )
        assert response.status_code == 400
        assert response.json()["error"]["details"]["field"] == "limit"


async def test_cursor_only_continues_own_list(client, tenant):
    first = await create_conversation(client, tenant, customerId="customer_lists")
    second = await create_conversation(client, tenant, customerId="customer_lists")
    for conversation in (first, second):
        for text in ("one", "two", "three"):
            await send_message(client, tenant, conversation["id"], text)
    messages = (
        await client.get(
            f"/conversations/{first['id']}/messages", params={"limit": 1}, headers=tenant.headers
        )
    ).json()
    conversations = (
        await client.get(
            "/conversations",
            params={"limit": 1, "customerId": "customer_lists"},
            headers=tenant.headers,
        )
    ).json()
    message_cursor = messages["pagination"]["nextCursor"]
    conversation_cursor = conversations["pagination"]["nextCursor"]

    rejected = [
        ("/conversations", {"cursor": message_cursor}),
        (f"/conversations/{second['id']}/messages", {"cursor": message_cursor}),
        (f"/conversations/{first['id']}/messages", {"cursor": conversation_cursor}),
        ("/conversations", {"cursor": conversation_cursor, "customerId": "someone_else"}),
    ]
    for path, params in rejected:
        response = await client.get(path, params={"limit": 1, **params}, headers=tenant.headers)
        assert response.status_code == 400, (path, params, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["field"] == "cursor"
        assert "another list" in error["message"]

    again = await client.get(
        f"/conversations/{first['id']}/messages",
        params={"limit": 1, "cursor": message_cursor},
        headers=tenant.headers,
    )
    assert again.status_code == 200
    assert again.json()["data"][0]["content"] == "two"


def _edited_cursor(cursor: str, created_at: object, item_id: object) -> str:
    """Return ``cursor`` with its position replaced, keeping its list tag."""
    tag = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[0]
    raw = json.dumps([tag, created_at, item_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_edited_cursor_values_are_400(client, tenant):
    conversation = await create_conversation(client, tenant)
    for text in ("one", "two"):
        await send_message(client, tenant, conversation["id"], text)
    path = f"/conversations/{conversation['id']}/messages"
    first = await client.get(path, params={"limit": 1}, headers=tenant.headers)
    cursor = first.json()["pagination"]["nextCursor"]

    positions = [
        (2**63, "msg_x"),
        (10**30, "msg_x"),
        (-1, "msg_x"),
        (True, "msg_x"),
        (0, "msg_\x00"),
        (0, "msg_\ud800"),
        (0, "m" * 65),
    ]
    for created_at, item_id in positions:
        edited = _edited_cursor(cursor, created_at, item_id)
        response = await client.get(
            path, params={"limit": 1, "cursor": edited}, headers=tenant.headers
        )
        assert response.status_code == 400, (created_at, item_id, response.text)
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert error["details"]["field"] == "cursor"


async def test_cursor_of_another_tenant_is_400(client, tenant, other_tenant):
    for owner in (tenant, other_tenant):
        for _ in range(2):
            await create_conversation(client, owner, customerId="customer_tenant_cursor")
    params = {"limit": 1, "customerId": "customer_tenant_cursor"}
    first = (await client.get("/conversations", params=params, headers=tenant.headers)).json()

    response = await client.get(
        "/conversations",
        params={**params, "cursor": first["pagination"]["nextCursor"]},
        headers=other_tenant.headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "cursor"


async def test_mailbox_list_pages_like_other_lists(client, tenant):
    for number in range(3):
        created = await client.post(
            "/mailboxes",
            json={"id": f"mailbox_paged_{number}", "name": f"Paged {number}"},
            headers=tenant.headers,
        )
        assert created.status_code == 201, created.text
    everything = await client.get("/mailboxes", params={"limit": 100}, headers=tenant.headers)
    assert everything.status_code == 200, everything.text
    listed = [item["id"] for item in everything.json()["data"]]
    assert {f"mailbox_paged_{number}" for number in range(3)} <= set(listed)
    meta = everything.json()["pagination"]
    assert meta["total"] == len(listed)
    assert meta["hasMore"] is False
    assert meta["nextCursor"] is None

    assert await walk(client, tenant, "/mailboxes", 2) == listed

    first = (await client.get("/mailboxes", params={"limit": 1}, headers=tenant.headers)).json()
    assert first["pagination"]["limit"] == 1
    assert first["pagination"]["totalPages"] == len(listed)
    for limit in (0, 101):
        response = await client.get("/mailboxes", params={"limit": limit}, headers=tenant.headers)
        assert response.status_code == 400
        assert response.json()["error"]["details"]["field"] == "limit"
    for _ in range(2):
        await create_conversation(client, tenant)
    other_list = await client.get("/conversations", params={"limit": 1}, headers=tenant.headers)
    foreign = other_list.json()["pagination"]["nextCursor"]
    response = await client.get("/mailboxes", params={"cursor": foreign}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "cursor"


async def test_article_list_pages_by_cursor(client, tenant):
    created = []
    for number in range(5):
        tags = ["paged", "even"] if number % 2 == 0 else ["paged"]
        response = await client.post(
            "/knowledge/articles",
            json={"title": f"Paged {number}", "content": "Paging text.", "tags": tags},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
        created.append(response.json()["id"])

    assert await walk(client, tenant, "/knowledge/articles", 2, tag="paged") == created
    evens = await walk(client, tenant, "/knowledge/articles", 1, tag="even")
    assert evens == created[0::2]
    first = await client.get(
        "/knowledge/articles", params={"limit": 2, "tag": "paged"}, headers=tenant.headers
    )
    meta = first.json()["pagination"]
    assert meta["total"] == 5
    assert meta["hasMore"] is True
    # A cursor names its filters, so it does not continue the list of another tag.
    response = await client.get(
        "/knowledge/articles",
        params={"tag": "even", "cursor": meta["nextCursor"]},
        headers=tenant.headers,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["field"] == "cursor"


async def test_key_list_pages_like_other_lists(client, tenant):
    for number in range(3):
        created = await client.post(
            "/keys", json={"name": f"paged {number}"}, headers=tenant.headers
        )
        assert created.status_code == 201, created.text
    everything = await client.get("/keys", params={"limit": 100}, headers=tenant.headers)
    assert everything.status_code == 200, everything.text
    listed = [item["id"] for item in everything.json()["data"]]
    meta = everything.json()["pagination"]
    assert meta["total"] == len(listed)
    assert meta["hasMore"] is False
    assert meta["nextCursor"] is None

    assert await walk(client, tenant, "/keys", 2) == listed

    later = await client.post("/keys", json={"name": "during the walk"}, headers=tenant.headers)
    first = (await client.get("/keys", params={"limit": 2}, headers=tenant.headers)).json()
    assert first["pagination"]["total"] == len(listed) + 1
    assert first["pagination"]["totalPages"] == (len(listed) + 2) // 2
    assert await walk(client, tenant, "/keys", 2) == listed + [later.json()["id"]]

    for _ in range(2):
        await create_conversation(client, tenant)
    conversations = await client.get("/conversations", params={"limit": 1}, headers=tenant.headers)
    foreign = conversations.json()["pagination"]["nextCursor"]
    response = await client.get("/keys", params={"cursor": foreign}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "cursor"


async def test_limited_key_list_pages_its_keys(client, tenant):
    scoped = []
    for number in range(3):
        created = await client.post(
            "/keys",
            json={"name": f"scoped {number}", "mailboxIds": [tenant.other_mailbox_id]},
            headers=tenant.headers,
        )
        assert created.status_code == 201, created.text
        scoped.append(created.json())
    unlimited = await client.post("/keys", json={"name": "everywhere"}, headers=tenant.headers)
    assert unlimited.status_code == 201, unlimited.text
    limited = SimpleNamespace(headers={"Authorization": f"Bearer {scoped[0]['key']}"})

    walked = await walk(client, limited, "/keys", 2)
    assert walked == [key["id"] for key in scoped]
    first = (await client.get("/keys", params={"limit": 2}, headers=limited.headers)).json()
    assert first["pagination"]["total"] == 3
    assert first["pagination"]["hasMore"] is True
    second = await client.get("/keys", params={"limit": 2, "page": 2}, headers=limited.headers)
    assert [item["id"] for item in second.json()["data"]] == [scoped[2]["id"]]


async def test_handoff_queue_pages_in_queue_order(client, tenant):
    priorities = ["low", "urgent", "medium", "urgent", "high", "low", "medium"]
    for priority in priorities:
        conversation = await create_conversation(client, tenant)
        response = await client.post(
            f"/conversations/{conversation['id']}/handoff",
            json={"priority": priority, "reason": "asked for a person"},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
    everything = await client.get("/handoffs", params={"limit": 200}, headers=tenant.headers)
    assert everything.status_code == 200, everything.text
    body = everything.json()
    listed = [item["id"] for item in body["data"]]
    assert len(listed) == len(priorities)
    ranks = [item["priority"] for item in body["data"]]
    assert ranks == ["urgent", "urgent", "high", "medium", "medium", "low", "low"]
    assert body["pagination"]["total"] == len(priorities)
    assert body["pagination"]["hasMore"] is False
    assert body["hasMore"] is False

    assert await walk(client, tenant, "/handoffs", 3) == listed
    first = (await client.get("/handoffs", params={"limit": 3}, headers=tenant.headers)).json()
    assert first["hasMore"] is True
    assert first["pagination"]["totalPages"] == 3
    by_page = await client.get("/handoffs", params={"limit": 3, "page": 3}, headers=tenant.headers)
    assert [item["id"] for item in by_page.json()["data"]] == listed[6:]

    cursor = first["pagination"]["nextCursor"]
    other_filter = await client.get(
        "/handoffs", params={"status": "assigned", "cursor": cursor}, headers=tenant.headers
    )
    assert other_filter.status_code == 400
    assert other_filter.json()["error"]["details"]["field"] == "cursor"
    keys_cursor = await client.get("/keys", params={"cursor": cursor}, headers=tenant.headers)
    assert keys_cursor.status_code == 400
    too_many = await client.get("/handoffs", params={"limit": 201}, headers=tenant.headers)
    assert too_many.status_code == 400
    assert too_many.json()["error"]["details"]["field"] == "limit"


async def test_handoff_walk_in_creation_order_is_stable(client, tenant):
    from tests.routing.support import add_agent

    statuses = {"status": ["queued", "assigned"], "order": "created"}
    await add_agent(client, tenant, "agent_leaving", capacity=1)
    created = []
    for priority in ["low", "urgent", "medium", "high", "urgent"]:
        conversation = await create_conversation(client, tenant)
        response = await client.post(
            f"/conversations/{conversation['id']}/handoff",
            json={"priority": priority, "reason": "asked for a person"},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    # The agent took the first handoff, which sits before the queued ones.
    assert created[0]["status"] == "assigned"

    first = await client.get("/handoffs", params={**statuses, "limit": 2}, headers=tenant.headers)
    assert first.status_code == 200, first.text
    seen = [item["id"] for item in first.json()["data"]]
    cursor = first.json()["pagination"]["nextCursor"]

    # Mid-walk, the assigned handoff returns to the front of the queue and a new one arrives.
    deleted = await client.delete("/agents/agent_leaving", headers=tenant.headers)
    assert deleted.status_code == 204
    conversation = await create_conversation(client, tenant)
    late = await client.post(
        f"/conversations/{conversation['id']}/handoff",
        json={"priority": "urgent", "reason": "asked for a person"},
        headers=tenant.headers,
    )
    assert late.status_code == 201, late.text
    while cursor:
        page = await client.get(
            "/handoffs", params={**statuses, "limit": 2, "cursor": cursor}, headers=tenant.headers
        )
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["data"]]
        cursor = page.json()["pagination"]["nextCursor"]

    everything = sorted(created + [late.json()], key=lambda item: (item["createdAt"], item["id"]))
    assert seen == [handoff["id"] for handoff in everything]
    returned = await client.get(
        f"/conversations/{created[0]['conversationId']}/handoff", headers=tenant.headers
    )
    assert returned.json()["status"] == "queued"

    # A cursor of one order is rejected by the other.
    queue_first = await client.get(
        "/handoffs", params={"status": ["queued", "assigned"], "limit": 2}, headers=tenant.headers
    )
    queue_cursor = queue_first.json()["pagination"]["nextCursor"]
    mixed = await client.get(
        "/handoffs", params={**statuses, "cursor": queue_cursor}, headers=tenant.headers
    )
    assert mixed.status_code == 400
    assert mixed.json()["error"]["details"]["field"] == "cursor"
    unknown = await client.get("/handoffs", params={"order": "priority"}, headers=tenant.headers)
    assert unknown.status_code == 400
    assert unknown.json()["error"]["details"]["field"] == "order"
