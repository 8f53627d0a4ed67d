"""Request helpers shared by the API tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn

CREATE_CONVERSATION = {
    "customerId": "customer_test_A",
    "mailboxId": "mailbox_test_1",
    "subject": "Test subject",
    "priority": "medium",
    "metadata": {"source": "api"},
}


async def create_conversation(client: httpx.AsyncClient, tenant: Any, **overrides: Any) -> dict:
    response = await client.post(
        "/conversations", json={**CREATE_CONVERSATION, **overrides}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def send_message(
    client: httpx.AsyncClient,
    tenant: Any,
    conversation_id: str,
    content: str = "hello",
    author_type: str = "customer",
    **extra: Any,
) -> httpx.Response:
    """Send a message with the tenant's API key.

    An agent message without ``authorId`` is written as the agent
    ``HELPER_AGENT``, created on first use, because an API key's agent
    messages must name an agent of the organization.
    """
    if author_type == "agent" and "authorId" not in extra:
        await ensure_agent(client, tenant, HELPER_AGENT)
        extra["authorId"] = HELPER_AGENT
    return await client.post(
        f"/conversations/{conversation_id}/messages",
        json={"content": content, "authorType": author_type, **extra},
        headers=tenant.headers,
    )


async def get_conversation(client: httpx.AsyncClient, tenant: Any, conversation_id: str) -> dict:
    response = await client.get(f"/conversations/{conversation_id}", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


# The agent that ``send_message`` writes agent messages as by default.
HELPER_AGENT = "agent_helper"


async def ensure_agent(client: httpx.AsyncClient, tenant: Any, agent_id: str) -> None:
    """Create the agent ``agent_id`` unless the tenant already has it."""
    body = {"id": agent_id, "name": agent_id.replace("_", " ").title()}
    response = await client.post("/agents", json=body, headers=tenant.headers)
    assert response.status_code in (201, 409), response.text


async def create_agent(
    client: httpx.AsyncClient, tenant: Any, agent_id: str, **fields: Any
) -> dict:
    body = {"id": agent_id, "name": agent_id.replace("_", " ").title(), **fields}
    response = await client.post("/agents", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def writer_headers(client: httpx.AsyncClient, tenant: Any, path: str) -> dict[str, str]:
    """Return headers of a credential that the route of ``path`` admits.

    That is a new publishable key for a widget session, which no secret key
    may open, and the tenant's admin key for every other route.
    """
    if path.rstrip("/").endswith("/widget/session"):
        response = await client.post(
            "/keys",
            json={"name": "widget session test", "kind": "publishable"},
            headers=tenant.headers,
        )
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['key']}"}
    return tenant.headers


@contextmanager
def served_in_thread(config: uvicorn.Config, start_timeout: float = 60) -> Iterator[None]:
    """Run a uvicorn server on a daemon thread of this process until the block ends."""
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, f"the test server did not start within {start_timeout} s"
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(30)
