"""Every operation in the server's OpenAPI document is reachable from the Python SDK.

Each operation is matched to an SDK call by method and path, so the table
keeps working whatever the operation ids are; the call is then made
through a recording transport, and the request it sends must hit exactly
that method and path. Only the operations of the server code under test
are checked, so table rows for endpoints that do not exist yet wait.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from campfire import AsyncCampfireClient, CampfireClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from openapi import openapi_document

A, B = "id_1", "id_2"

Call = Callable[[CampfireClient], object]

# "METHOD /path with {} for each parameter" -> the SDK call, with ids A then B.
CALLS: dict[str, Call] = {
    "POST /conversations": lambda c: c.conversations.create(customer_id="cus_1", subject="s"),
    "GET /conversations": lambda c: c.conversations.list(status="open").first_page(),
    "GET /conversations/{}": lambda c: c.conversations.get(A),
    "PATCH /conversations/{}": lambda c: c.conversations.update(A, status="resolved"),
    "POST /conversations/{}/satisfaction": lambda c: c.conversations.rate(A, rating=5),
    "POST /conversations/{}/messages": lambda c: c.messages.create(A, content="hi"),
    "GET /conversations/{}/messages": lambda c: c.messages.list(A).first_page(),
    "GET /conversations/{}/messages/{}": lambda c: c.messages.get(A, B),
    "POST /mailboxes": lambda c: c.mailboxes.create(name="Support"),
    "GET /mailboxes": lambda c: c.mailboxes.list().first_page(),
    "GET /mailboxes/{}": lambda c: c.mailboxes.get(A),
    "PATCH /mailboxes/{}": lambda c: c.mailboxes.update(A, name="n"),
    "DELETE /mailboxes/{}": lambda c: c.mailboxes.delete(A),
    "POST /ai/generate-response": lambda c: c.ai.generate_response(
        conversation_id=A, message_content="q"
    ),
    "POST /conversations/{}/handoff": lambda c: c.handoffs.create(A, reason="r"),
    "GET /conversations/{}/handoff": lambda c: c.handoffs.get(A),
    "POST /conversations/{}/handoff/complete": lambda c: c.handoffs.complete(A),
    "POST /conversations/{}/handoff/cancel": lambda c: c.handoffs.cancel(A),
    "GET /handoffs": lambda c: c.handoffs.list(status="queued").first_page(),
    "POST /auth/login": lambda c: c.auth.login(email="a@example.test", password="p"),
    "POST /agents": lambda c: c.agents.create(name="Ann"),
    "GET /agents": lambda c: c.agents.list().first_page(),
    "GET /agents/{}": lambda c: c.agents.get(A),
    "PATCH /agents/{}": lambda c: c.agents.update(A, status="online"),
    "DELETE /agents/{}": lambda c: c.agents.delete(A),
    "POST /knowledge/articles": lambda c: c.knowledge.create(title="t", content="c"),
    "GET /knowledge/articles": lambda c: c.knowledge.list().first_page(),
    "GET /knowledge/articles/{}": lambda c: c.knowledge.get(A),
    "GET /knowledge/search": lambda c: c.knowledge.search("billing"),
    "PATCH /knowledge/articles/{}": lambda c: c.knowledge.update(A, title="t"),
    "DELETE /knowledge/articles/{}": lambda c: c.knowledge.delete(A),
    "POST /knowledge/articles/import": lambda c: c.knowledge.import_articles([{"title": "t"}]),
    "GET /analytics/metrics": lambda c: c.analytics.metrics(period="7d"),
    "GET /analytics/conversations.csv": lambda c: c.analytics.export_conversations(period="7d"),
    "POST /webhooks": lambda c: c.webhooks.create(url="http://127.0.0.1:1/h", events=["*"]),
    "GET /webhooks": lambda c: c.webhooks.list().first_page(),
    "GET /webhooks/{}": lambda c: c.webhooks.get(A),
    "PATCH /webhooks/{}": lambda c: c.webhooks.update(A, enabled=False),
    "DELETE /webhooks/{}": lambda c: c.webhooks.delete(A),
    "POST /webhooks/{}/rotate-secret": lambda c: c.webhooks.rotate_secret(A),
    "GET /webhooks/{}/deliveries": lambda c: c.webhooks.deliveries(A).first_page(),
    "POST /webhooks/{}/deliveries/{}/retry": lambda c: c.webhooks.retry_delivery(A, B),
    "POST /webhooks/{}/test": lambda c: c.webhooks.test(A),
    "GET /events": lambda c: c.events.list(channel="conversation:id_1").first_page(),
    "POST /widget/session": lambda c: c.widget.create_session(mailbox_id=A),
    "POST /auth/tokens": lambda c: c.auth.create_token(role="agent"),
    "GET /conversations/{}/satisfaction": lambda c: c.conversations.get_satisfaction(A),
    "POST /keys": lambda c: c.keys.create(name="ci", role="agent"),
    "GET /keys": lambda c: c.keys.list().first_page(),
    "GET /keys/{}": lambda c: c.keys.get(A),
    "DELETE /keys/{}": lambda c: c.keys.revoke(A),
}

# A body that every response model of the SDK accepts.
GENERIC_BODY = {"id": A, "content": "c", "rating": 1, "type": "t", "data": [], "metrics": {}}

PREFIX = "/api/v2"


def operations() -> list[tuple[str, str, str]]:
    """(operation id, method, path under /api/v2) of every HTTP operation of the server."""
    found = []
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "put", "patch", "delete"} and path.startswith(PREFIX):
                found.append((operation["operationId"], method.upper(), path[len(PREFIX) :]))
    return sorted(found)


def normalise(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def expected_path(template: str) -> str:
    ids = iter([A, B])
    return PREFIX + re.sub(r"\{[^}]+\}", lambda _: next(ids), template)


OPERATIONS = operations()


def recording_client() -> tuple[CampfireClient, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith(".csv"):
            return httpx.Response(200, text="id\n")
        return httpx.Response(200, json=GENERIC_BODY)

    http = httpx.Client(transport=httpx.MockTransport(handler))
    client = CampfireClient(api_key="k", base_url="http://127.0.0.1:9" + PREFIX, http_client=http)
    return client, sent


def test_document_has_operations():
    assert len(OPERATIONS) >= 11
    assert len({op_id for op_id, _, _ in OPERATIONS}) == len(OPERATIONS)


@pytest.mark.parametrize(
    ("operation_id", "method", "path"), OPERATIONS, ids=[o[0] for o in OPERATIONS]
)
def test_operation_reachable(operation_id, method, path):
    key = f"{method} {normalise(path)}"
    assert key in CALLS, f"{operation_id} ({method} {path}) has no SDK method in CALLS"

    client, sent = recording_client()
    CALLS[key](client)

    assert len(sent) == 1
    assert sent[0].method == method
    assert sent[0].url.path == expected_path(path)


def test_async_client_has_same_resources():
    sync = CampfireClient(api_key="k", base_url="http://127.0.0.1:9")
    asynchronous = AsyncCampfireClient(api_key="k", base_url="http://127.0.0.1:9")
    for name, resource in vars(sync).items():
        if name.startswith("_"):
            continue
        other = getattr(asynchronous, name)
        assert type(other) is type(resource), name


@pytest.mark.parametrize(
    ("operation_id", "method", "path"), OPERATIONS, ids=[o[0] for o in OPERATIONS]
)
async def test_operation_reachable_async(operation_id, method, path):
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.url.path.endswith(".csv"):
            return httpx.Response(200, text="id\n")
        return httpx.Response(200, json=GENERIC_BODY)

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    client = AsyncCampfireClient(
        api_key="k", base_url="http://127.0.0.1:9" + PREFIX, http_client=http
    )
    await CALLS[f"{method} {normalise(path)}"](client)  # type: ignore[arg-type, misc]

    assert [(r.method, r.url.path) for r in sent] == [(method, expected_path(path))]
