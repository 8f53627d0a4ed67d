"""Concurrent writers over real HTTP: nothing lost, nothing doubled, never a 500."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import make_tenant, start_server

# These tests load one conversation far beyond the default 60 messages per minute.
UNLIMITED = {
    "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000",
    "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
}


@pytest.fixture(scope="module")
def live_server(db, tmp_path_factory):
    server = start_server(db.url, tmp_path_factory.mktemp("live-server"), env=UNLIMITED)
    yield server
    server.stop()


async def _post_many(
    api: str,
    headers: dict,
    conversation_id: str,
    total: int,
    clients: int,
    idempotency_key: str | None = None,
) -> list[httpx.Response]:
    per_client = total // clients

    async def one_client(index: int) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=api, headers=headers, timeout=60) as http:
            results = []
            tasks = []
            for n in range(per_client):
                extra = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
                body = {"content": "same" if idempotency_key else f"client {index} message {n}"}
                tasks.append(
                    http.post(
                        f"/conversations/{conversation_id}/messages", json=body, headers=extra
                    )
                )
            results = await asyncio.gather(*tasks)
            return list(results)

    batches = await asyncio.gather(*(one_client(i) for i in range(clients)))
    return [response for batch in batches for response in batch]


async def _setup(db, api):
    tenant = await make_tenant(db, "Concurrency org")
    async with httpx.AsyncClient(base_url=api, headers=tenant.headers) as http:
        conversation = (
            await http.post("/conversations", json={"customerId": "customer_load"})
        ).json()
    return tenant, conversation["id"]


async def _stored(db, conversation_id):
    return await db.read(
        lambda tx: tx.value(
            "SELECT COUNT(*) AS n FROM messages WHERE conversation_id = :id", id=conversation_id
        )
    )


async def test_200_concurrent_posts_all_stored(db, live_server):
    tenant, conversation_id = await _setup(db, live_server.api)
    responses = await _post_many(live_server.api, tenant.headers, conversation_id, 200, 20)

    statuses = [response.status_code for response in responses]
    assert statuses.count(201) == 200, sorted(set(statuses))
    assert len({response.json()["id"] for response in responses}) == 200
    assert await _stored(db, conversation_id) == 200


async def test_200_concurrent_same_key_store_one(db, live_server):
    tenant, conversation_id = await _setup(db, live_server.api)
    responses = await _post_many(
        live_server.api, tenant.headers, conversation_id, 200, 20, idempotency_key="load-key-1"
    )

    assert all(response.status_code < 500 for response in responses)
    created = [response for response in responses if response.status_code == 201]
    assert len({response.json()["id"] for response in created}) == 1
    assert await _stored(db, conversation_id) == 1


@pytest.mark.parametrize("workers", [1, 4])
async def test_sqlite_contention_never_500(db, backend, tmp_path, workers):
    if backend != "sqlite":
        pytest.skip("SQLite lock contention only")
    server = start_server(db.url, tmp_path, env={"CAMPFIRE_WORKERS": str(workers), **UNLIMITED})
    try:
        tenant = await make_tenant(db, "Contention org")
        async with httpx.AsyncClient(
            base_url=server.api, headers=tenant.headers, timeout=60
        ) as http:
            conversations = [
                (await http.post("/conversations", json={"customerId": f"c{i}"})).json()["id"]
                for i in range(5)
            ]
            for _round in range(5):
                writes = [
                    http.post(f"/conversations/{cid}/messages", json={"content": f"m{n}"})
                    for cid in conversations
                    for n in range(10)
                ]
                reads = [http.get("/conversations", params={"limit": 10}) for _ in range(20)]
                patches = [
                    http.patch(
                        f"/conversations/{cid}", json={"priority": "high" if _round % 2 else "low"}
                    )
                    for cid in conversations
                ]
                responses = await asyncio.gather(*writes, *reads, *patches)
                for response in responses:
                    assert response.status_code in (200, 201), response.text
                    assert "database is locked" not in response.text
        for cid in conversations:
            assert await _stored(db, cid) == 50
    finally:
        server.stop()


async def test_concurrent_patches_keep_each_field(db, live_server):
    """PATCHes of different fields at once each change their own field and keep the others.

    The API has no If-Match, so two PATCHes of one field leave the last
    one's value, but a PATCH writes only the fields it names, under the
    conversation's row lock.
    """
    tenant, conversation_id = await _setup(db, live_server.api)
    priorities = ("low", "medium", "high", "urgent")
    async with httpx.AsyncClient(
        base_url=live_server.api, headers=tenant.headers, timeout=60
    ) as http:
        agent_ids = []
        for number in range(2):
            body = {"name": f"Patcher {number}", "email": f"patcher{number}@example.com"}
            created = await http.post("/agents", json=body)
            assert created.status_code == 201, created.text
            agent_ids.append(created.json()["id"])

        path = f"/conversations/{conversation_id}"
        for round_number in range(20):
            expected = {
                "priority": priorities[round_number % len(priorities)],
                "subject": f"Round {round_number}",
                "assignedAgentId": agent_ids[round_number % 2],
            }
            responses = await asyncio.gather(
                *(http.patch(path, json={field: value}) for field, value in expected.items())
            )
            for response in responses:
                assert response.status_code == 200, response.text

            stored = (await http.get(path)).json()
            for field, value in expected.items():
                assert stored[field] == value, (round_number, field)
