"""Every list method of the SDK takes the paging and filter parameters of its route.

The signature check reads the server's OpenAPI document, so a query
parameter added to a list route fails here until the SDK takes it. The
live checks page through real lists of a development server with
``limit`` and ``cursor``.
"""

from __future__ import annotations

import inspect
import re
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from campfire import CampfireClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from conftest import AGENT_ID
from openapi import openapi_document

PREFIX = "/api/v2"

# "GET /path with {} for each parameter" -> the SDK method that lists it.
LIST_METHODS: dict[str, Callable[[CampfireClient], Callable[..., Any]]] = {
    "GET /conversations": lambda c: c.conversations.list,
    "GET /conversations/{}/messages": lambda c: c.messages.list,
    "GET /mailboxes": lambda c: c.mailboxes.list,
    "GET /knowledge/articles": lambda c: c.knowledge.list,
    "GET /agents": lambda c: c.agents.list,
    "GET /handoffs": lambda c: c.handoffs.list,
    "GET /events": lambda c: c.events.list,
    "GET /webhooks": lambda c: c.webhooks.list,
    "GET /webhooks/{}/deliveries": lambda c: c.webhooks.deliveries,
    "GET /keys": lambda c: c.keys.list,
}

# Page numbers are left out on purpose: the SDK pages by cursor.
NOT_IN_SDK = {"page"}


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def list_routes() -> list[tuple[str, set[str]]]:
    """Return each paginated GET route (one with a cursor) and its query parameters."""
    routes = []
    for path, item in openapi_document()["paths"].items():
        operation = item.get("get")
        if operation is None or not path.startswith(PREFIX):
            continue
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if "cursor" in names:
            key = "GET " + re.sub(r"\{[^}]+\}", "{}", path[len(PREFIX) :])
            routes.append((key, names))
    return sorted(routes)


LIST_ROUTES = list_routes()


def test_every_list_route_has_method():
    assert len(LIST_ROUTES) >= 10
    assert {key for key, _ in LIST_ROUTES} == set(LIST_METHODS)


@pytest.mark.parametrize(("route", "names"), LIST_ROUTES, ids=[key for key, _ in LIST_ROUTES])
def test_list_method_takes_route_parameters(route, names):
    client = CampfireClient(api_key="k", base_url="http://127.0.0.1:9")
    method = LIST_METHODS[route](client)
    parameters = inspect.signature(method).parameters

    for name in sorted(names - NOT_IN_SDK):
        assert snake(name) in parameters, f"{route}: the SDK method takes no {snake(name)}"
        assert parameters[snake(name)].kind is inspect.Parameter.KEYWORD_ONLY


def page_through(list_call: Callable[..., Any], **filters: Any) -> None:
    """Check ``limit`` and ``cursor`` of one list, which must hold at least three items."""
    everything = [item.id for item in list_call(**filters, limit=100)]
    assert len(everything) >= 3
    assert len(set(everything)) == len(everything)

    first = list_call(**filters, limit=1).first_page()
    assert [item.id for item in first.data] == everything[:1]
    assert first.pagination.has_more is True
    assert first.pagination.next_cursor

    resumed = list_call(**filters, limit=1, cursor=first.pagination.next_cursor).first_page()
    assert [item.id for item in resumed.data] == everything[1:2]
    # Iterating with a small page follows every cursor to the end.
    assert [item.id for item in list_call(**filters, limit=2)] == everything
    rest = list_call(**filters, limit=2, cursor=first.pagination.next_cursor)
    assert [item.id for item in rest] == everything[1:]


def test_keys_page_by_cursor(client):
    created = [client.keys.create(name=f"lists {n}", role="agent") for n in range(3)]
    try:
        page_through(client.keys.list)
        listed = [key.id for key in client.keys.list(limit=1)]
        assert [key.id for key in created] == [i for i in listed if i in {k.id for k in created}]
    finally:
        for key in created:
            client.keys.revoke(key.id)


def test_mailboxes_page_by_cursor(client):
    for number in range(3):
        client.mailboxes.create(name=f"Lists {number}", id=f"mailbox_lists_{number}")
    page_through(client.mailboxes.list)


def test_agents_page_by_cursor(client):
    skill = f"lists-{uuid.uuid4().hex[:8]}"
    for number in range(3):
        client.agents.create(name=f"Lists {number}", skills=[skill], status="offline")
    page_through(client.agents.list, skill=skill, status="offline")


def test_articles_page_by_cursor(client):
    tag = f"lists-{uuid.uuid4().hex[:8]}"
    for number in range(3):
        client.knowledge.create(title=f"Lists {number}", content="Paging text.", tags=[tag])
    page_through(client.knowledge.list, tag=tag)


def test_conversations_and_messages_page_by_cursor(client, customer_id):
    conversations = [client.conversations.create(customer_id=customer_id) for _ in range(3)]
    page_through(client.conversations.list, customer_id=customer_id, status="open")
    # Agent messages, so no automatic reply adds messages while the test pages.
    for number in range(3):
        client.messages.create(
            conversations[0].id,
            content=f"message {number}",
            author_type="agent",
            author_id=AGENT_ID,
        )
    page_through(lambda **options: client.messages.list(conversations[0].id, **options))


def test_webhooks_page_by_cursor(client):
    created = [
        client.webhooks.create(url=f"http://127.0.0.1:9/lists/{n}", events=["satisfaction.rated"])
        for n in range(3)
    ]
    try:
        page_through(client.webhooks.list)
    finally:
        for webhook in created:
            client.webhooks.delete(webhook.id)


def test_events_continue_from_since(client, customer_id):
    conversation = client.conversations.create(customer_id=customer_id)
    for number in range(3):
        client.messages.create(
            conversation.id, content=f"event {number}", author_type="agent", author_id=AGENT_ID
        )
    channel = f"conversation:{conversation.id}"

    sequences = [event.sequence for event in client.events.list(channel=channel, limit=1)]
    assert sequences == sorted(sequences)
    assert len(sequences) >= 4
    # The first page starts after ``since``, and later pages follow nextCursor.
    after_first = [
        event.sequence for event in client.events.list(channel=channel, since=1, limit=1)
    ]
    assert after_first == sequences[1:]
    first = client.events.list(channel=channel, limit=2).first_page()
    resumed = client.events.list(channel=channel, cursor=first.pagination.next_cursor, limit=2)
    assert [event.sequence for event in resumed] == sequences[2:]
    with pytest.raises(ValueError, match="pass only one of them"):
        client.events.list(channel=channel, since=1, cursor="1")
