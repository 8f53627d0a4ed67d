"""Routes that the request pipeline serves without FastAPI's router respond as the router does."""

from __future__ import annotations

import logging
import re

from campfire_server.api import route_table
from campfire_server.api.route_table import RouteTable
from tests.api.test_errors import assert_envelope
from tests.helpers import create_conversation, ensure_agent

MESSAGES = "/api/v2/conversations/{conversation_id}/messages"
CONVERSATION = "/api/v2/conversations/{conversation_id}"
_IDS = re.compile(r"\b(conv|msg|req|evt|cus)_[0-9A-Za-z]+")
_TIMESTAMPS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
# Headers whose values differ between two requests of the same kind.
_VARYING_HEADERS = {"x-request-id", "x-ratelimit-remaining", "x-ratelimit-reset"}


def _normalized(text: str) -> str:
    return _TIMESTAMPS.sub("<time>", _IDS.sub(r"\1_<id>", text))


async def _exchanges(client, tenant, other_tenant) -> list[tuple[str, int, list, str]]:
    """Send one request for each outcome of the two direct routes and return the responses."""
    conversation = await create_conversation(client, tenant)
    closed = await create_conversation(client, tenant, customerId="customer_closed")
    response = await client.patch(
        f"/conversations/{closed['id']}", json={"status": "closed"}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    messages = f"/conversations/{conversation['id']}/messages"
    message = {"content": "Where is my order?", "authorType": "customer"}
    await ensure_agent(client, tenant, "agent_direct")
    agent_reply = {"content": "On its way", "authorType": "agent", "authorId": "agent_direct"}
    requests = {
        "created": ("POST", messages, message, tenant),
        "agent reply": ("POST", messages, agent_reply, tenant),
        "agent reply without author": ("POST", messages, {**agent_reply, "authorId": None}, tenant),
        "too long": ("POST", messages, {**message, "content": "x" * 10_001}, tenant),
        "wrong type": ("POST", messages, {**message, "authorType": 3}, tenant),
        "unknown field": ("POST", messages, {**message, "colour": "red"}, tenant),
        "no such conversation": ("POST", "/conversations/conv_missing/messages", message, tenant),
        "closed": ("POST", f"/conversations/{closed['id']}/messages", message, tenant),
        "other tenant": ("POST", messages, message, other_tenant),
        "read": ("GET", f"/conversations/{conversation['id']}", None, tenant),
        "read missing": ("GET", "/conversations/conv_missing", None, tenant),
        "read other tenant": ("GET", f"/conversations/{conversation['id']}", None, other_tenant),
    }
    seen = []
    for name, (method, path, body, caller) in requests.items():
        response = await client.request(method, path, json=body, headers=caller.headers)
        if response.status_code >= 400:
            error = response.json()["error"]
            assert error["requestId"] == response.headers["x-request-id"], name
        headers = [
            (key, _normalized(value))
            for key, value in response.headers.items()
            if key not in _VARYING_HEADERS
        ]
        seen.append((name, response.status_code, headers, _normalized(response.text)))
    return seen


async def test_hot_routes_are_direct(app):
    table = RouteTable.of(app)

    messages = table.resource("/api/v2/conversations/conv_1/messages")
    conversation = table.resource("/api/v2/conversations/conv_1")

    assert messages is not None and conversation is not None
    assert "POST" in messages.direct
    assert "GET" in conversation.direct
    # Listing takes query parameters, which the router checks.
    assert "GET" not in messages.direct


async def test_direct_answers_match_router(app, client, tenant, other_tenant, monkeypatch):
    direct = await _exchanges(client, tenant, other_tenant)
    monkeypatch.setattr(route_table, "direct_route", lambda context: None)
    delattr(app.state, "route_table")
    assert not RouteTable.of(app).resource("/api/v2/conversations/conv_1/messages").direct

    routed = await _exchanges(client, tenant, other_tenant)

    statuses = {name: status for name, status, _, _ in direct}
    assert statuses == {
        "created": 201,
        "agent reply": 201,
        "agent reply without author": 400,
        "too long": 400,
        "wrong type": 400,
        "unknown field": 400,
        "no such conversation": 404,
        "closed": 409,
        "other tenant": 404,
        "read": 200,
        "read missing": 404,
        "read other tenant": 404,
    }
    for served, expected in zip(direct, routed, strict=True):
        assert served == expected, served[0]


async def test_query_string_goes_through_router(client, tenant):
    conversation = await create_conversation(client, tenant)

    response = await client.post(
        f"/conversations/{conversation['id']}/messages?draft=1",
        json={"content": "hello", "authorType": "customer"},
        headers=tenant.headers,
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "draft"


async def test_direct_request_logs_one_line(client, tenant, caplog):
    conversation = await create_conversation(client, tenant)
    with caplog.at_level(logging.INFO, logger="campfire_server.access"):
        posted = await client.post(
            f"/conversations/{conversation['id']}/messages",
            json={"content": "hello", "authorType": "customer"},
            headers=tenant.headers,
        )
        missing = await client.get("/conversations/conv_missing", headers=tenant.headers)

    lines = [record for record in caplog.records if record.name == "campfire_server.access"]
    assert len(lines) == 2
    expected = ((lines[0], posted, MESSAGES), (lines[1], missing, CONVERSATION))
    for record, response, template in expected:
        assert record.request_id == response.headers["x-request-id"]
        assert record.route == template
        assert record.status == response.status_code
        assert record.organization_id == tenant.org_id
