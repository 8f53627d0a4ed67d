"""kill -9 of a server during 500 concurrent message POSTs loses no acknowledged message."""

from __future__ import annotations

import asyncio

import httpx

from tests.conftest import make_tenant, start_server


async def _hammer(api: str, headers: dict, conversation_id: str, total: int) -> list[str]:
    acknowledged: list[str] = []
    limits = httpx.Limits(max_connections=50)

    async with httpx.AsyncClient(base_url=api, headers=headers, timeout=20, limits=limits) as http:

        async def one(index: int) -> None:
            try:
                response = await http.post(
                    f"/conversations/{conversation_id}/messages",
                    json={"content": f"message {index}"},
                )
            except httpx.HTTPError:
                return
            if 200 <= response.status_code < 300:
                acknowledged.append(response.json()["id"])

        await asyncio.gather(*(one(index) for index in range(total)))
    return acknowledged


async def test_kill9_keeps_acknowledged_messages(db, tmp_path):
    tenant = await make_tenant(db, "Crash org")
    server = start_server(db.url, tmp_path)
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        conversation_id = (
            await http.post("/conversations", json={"customerId": "customer_crash"})
        ).json()["id"]

    load = asyncio.create_task(_hammer(server.api, tenant.headers, conversation_id, 500))

    async def kill_after_first_acknowledgements() -> None:
        for _ in range(400):
            count = await db.read(
                lambda tx: tx.value(
                    "SELECT COUNT(*) AS n FROM messages WHERE conversation_id = :id",
                    id=conversation_id,
                )
            )
            if count >= 100:
                break
            await asyncio.sleep(0.02)
        server.kill()

    await kill_after_first_acknowledgements()
    acknowledged = await load

    stored = set(
        await db.read(
            lambda tx: [
                row["id"]
                for row in tx.all(
                    "SELECT id FROM messages WHERE conversation_id = :id", id=conversation_id
                )
            ]
        )
    )
    assert acknowledged, "the server was killed before it acknowledged anything"
    assert len(acknowledged) < 500, "the server finished before it was killed"
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} acknowledged messages were lost"

    restarted = start_server(db.url, tmp_path)
    try:
        async with httpx.AsyncClient(base_url=restarted.api, headers=tenant.headers) as http:
            detail = (await http.get(f"/conversations/{conversation_id}")).json()
        assert detail["messageCount"] == len(stored)
    finally:
        restarted.stop()


async def test_kill9_acknowledged_keys_replay_at_once(db, tmp_path):
    """Every POST acknowledged before kill -9 replays its response at once after a restart."""
    tenant = await make_tenant(db, "Crash key org")
    server = start_server(db.url, tmp_path)
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        conversation_id = (
            await http.post("/conversations", json={"customerId": "customer_crash_keys"})
        ).json()["id"]
    path = f"/conversations/{conversation_id}/messages"
    acknowledged: dict[str, str] = {}

    async def post(http: httpx.AsyncClient, index: int) -> None:
        key = f"crash-key-{index}"
        try:
            response = await http.post(
                path, json={"content": f"keyed {index}"}, headers={"Idempotency-Key": key}
            )
        except httpx.HTTPError:
            return
        if 200 <= response.status_code < 300:
            acknowledged[key] = response.json()["id"]

    async def kill_after_first_acknowledgements() -> None:
        for _ in range(400):
            if len(acknowledged) >= 50:
                break
            await asyncio.sleep(0.01)
        server.kill()

    limits = httpx.Limits(max_connections=24)
    async with httpx.AsyncClient(
        base_url=server.api, headers=tenant.headers, timeout=20, limits=limits
    ) as http:
        killer = asyncio.create_task(kill_after_first_acknowledgements())
        await asyncio.gather(*(post(http, index) for index in range(400)))
        await killer

    assert acknowledged, "the server was killed before it acknowledged anything"
    restarted = start_server(db.url, tmp_path)
    try:
        async with httpx.AsyncClient(
            base_url=restarted.api, headers=tenant.headers, timeout=30
        ) as http:
            retries = {
                key: await http.post(
                    path,
                    json={"content": f"keyed {key.rpartition('-')[2]}"},
                    headers={"Idempotency-Key": key},
                )
                for key in acknowledged
            }
    finally:
        restarted.stop()

    failed = {key: r.status_code for key, r in retries.items() if r.status_code >= 300}
    assert not failed, f"acknowledged keys that did not replay: {failed}"
    changed = [key for key, r in retries.items() if r.json()["id"] != acknowledged[key]]
    assert not changed
    fresh = [key for key, r in retries.items() if r.headers.get("idempotent-replayed") != "true"]
    assert not fresh
