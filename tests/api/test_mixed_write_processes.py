"""Mixed writes to shared conversations through three processes on one PostgreSQL database.

Messages, PATCHes, handoffs, ratings, agent status changes and new
conversations all lock rows that other processes' write groups lock too.
Each names the first row it locks, so groups take those locks in one
order, and none of the requests may fail with a 5xx.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from campfire_server.development import DEVELOPMENT_AGENT_ID
from tests.conftest import servers_on_new_postgres

HEADERS = {"Authorization": "Bearer test_sk_123456789"}
PROCESSES = 3
CONVERSATIONS = 6
AGENTS = 3
REQUESTS = 180
PRIORITIES = ["low", "medium", "high", "urgent"]


def mixed_request(
    number: int, api: str, conversation_ids: list[str], mailbox_id: str
) -> tuple[str, str, str, dict]:
    """Return the kind, method, URL and keyword arguments of request ``number``."""
    conversation = f"{api}/conversations/{conversation_ids[number % CONVERSATIONS]}"
    kind = number % 8
    if kind == 0:
        body = {"content": f"customer {number}", "authorType": "customer"}
        return (
            "message",
            "POST",
            f"{conversation}/messages",
            {
                "json": body,
                "headers": {"Idempotency-Key": f"mixed-{number}"},
            },
        )
    if kind == 1:
        body = {
            "content": f"agent {number}",
            "authorType": "agent",
            "authorId": DEVELOPMENT_AGENT_ID,
        }
        return "message", "POST", f"{conversation}/messages", {"json": body}
    if kind == 2:
        body = {"priority": PRIORITIES[number % len(PRIORITIES)]}
        return "patch", "PATCH", conversation, {"json": body}
    if kind == 3:
        body = {"reason": "asked for a person", "priority": PRIORITIES[number % 4]}
        return "handoff", "POST", f"{conversation}/handoff", {"json": body}
    if kind == 4:
        return "cancel", "POST", f"{conversation}/handoff/cancel", {}
    if kind == 5:
        body = {"rating": 1 + number % 5}
        return "rating", "POST", f"{conversation}/satisfaction", {"json": body}
    if kind == 6:
        body = {"status": "online" if number % 16 < 8 else "away"}
        return "agent", "PATCH", f"{api}/agents/agent_mixed_{number % AGENTS}", {"json": body}
    body = {"customerId": f"cus_mixed_{number % 4}", "mailboxId": mailbox_id}
    return "create", "POST", f"{api}/conversations", {"json": body}


# The statuses each kind may return: a cancel finds no open handoff when
# another request cancelled it first, and a handoff is 200 when one is open.
EXPECTED = {
    "message": {201},
    "patch": {200},
    "handoff": {200, 201},
    "cancel": {200, 404, 409},
    "rating": {200, 201},
    "agent": {200},
    "create": {201},
}


async def test_mixed_writes_across_processes(postgres_available, tmp_path: Path) -> None:
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    with servers_on_new_postgres(PROCESSES, tmp_path) as servers:
        limits = httpx.Limits(max_connections=REQUESTS)
        async with httpx.AsyncClient(headers=HEADERS, timeout=90, limits=limits) as client:
            api = servers[0].api
            mailbox = await client.post(f"{api}/mailboxes", json={"name": "Mixed"})
            assert mailbox.status_code == 201, mailbox.text
            mailbox_id = mailbox.json()["id"]
            for number in range(AGENTS):
                agent = await client.post(
                    f"{api}/agents",
                    json={
                        "id": f"agent_mixed_{number}",
                        "name": f"Agent {number}",
                        "status": "online",
                        "capacity": 2,
                    },
                )
                assert agent.status_code == 201, agent.text
            conversation_ids = []
            for number in range(CONVERSATIONS):
                created = await client.post(
                    f"{api}/conversations",
                    json={"customerId": f"cus_{number}", "mailboxId": mailbox_id},
                )
                assert created.status_code == 201, created.text
                conversation_ids.append(created.json()["id"])

            planned = [
                mixed_request(number, servers[number % PROCESSES].api, conversation_ids, mailbox_id)
                for number in range(REQUESTS)
            ]
            responses = await asyncio.gather(
                *(
                    client.request(method, target, **options)
                    for _kind, method, target, options in planned
                )
            )
            listed = {}
            for conversation_id in conversation_ids:
                page = await client.get(
                    f"{servers[1].api}/conversations/{conversation_id}/messages",
                    params={"limit": 100},
                )
                assert page.status_code == 200, page.text
                listed[conversation_id] = {m["content"] for m in page.json()["data"]}

    server_errors = [
        (kind, response.status_code, response.text[:200])
        for (kind, *_), response in zip(planned, responses, strict=True)
        if response.status_code >= 500
    ]
    assert server_errors == []
    unexpected = [
        (kind, response.status_code, response.text[:200])
        for (kind, *_), response in zip(planned, responses, strict=True)
        if response.status_code not in EXPECTED[kind]
    ]
    assert unexpected == []
    for number, (kind, _method, _target, options) in enumerate(planned):
        if kind == "message":
            conversation_id = conversation_ids[number % CONVERSATIONS]
            assert options["json"]["content"] in listed[conversation_id]
    logs = "".join(server.log_path.read_text() for server in servers)
    assert "write group failed" not in logs
