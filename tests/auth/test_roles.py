"""Every role against every endpoint.

``ROWS`` states, per endpoint, which roles may call it. Each row is run with
an admin key, agent, viewer and customer tokens, a publishable key and no
credential. Routes without a row still get the checks that hold for any
endpoint (no credential is 401, a publishable key and a viewer never
change anything), so an endpoint added later is covered at once and its
row only sharpens the check.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.auth.conftest import bearer, create_key, mint
from tests.helpers import create_conversation

ROLES = ("admin", "agent", "viewer", "customer", "publishable", "anonymous")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_counter = itertools.count()


@dataclass
class Context:
    client: Any
    app: Any
    db: Any
    tenant: Any
    customer_id: str
    conversation_id: str

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.headers


Prepare = Callable[[Context], Awaitable[tuple[str, Any]]]


def fixed(path: str, body: Any = None) -> Prepare:
    async def prepare(context: Context) -> tuple[str, Any]:
        return path.format(conversation=context.conversation_id), body

    return prepare


async def fresh_mailbox(context: Context) -> tuple[str, Any]:
    mailbox_id = f"mbx_role_{next(_counter)}"
    response = await context.client.post(
        "/mailboxes", json={"id": mailbox_id, "name": "Temporary"}, headers=context.admin
    )
    assert response.status_code == 201, response.text
    return f"/mailboxes/{mailbox_id}", None


async def fresh_key(context: Context) -> tuple[str, Any]:
    response = await context.client.post("/keys", json={}, headers=context.admin)
    assert response.status_code == 201, response.text
    return f"/keys/{response.json()['id']}", None


async def new_mailbox_body(context: Context) -> tuple[str, Any]:
    return "/mailboxes", {"id": f"mbx_new_{next(_counter)}", "name": "New"}


async def own_conversation_body(context: Context) -> tuple[str, Any]:
    return "/conversations", {"customerId": context.customer_id, "mailboxId": "mailbox_test_1"}


async def _admin_post(context: Context, path: str, body: Any) -> dict:
    response = await context.client.post(path, json=body, headers=context.admin)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def fresh_agent(context: Context) -> tuple[str, Any]:
    agent = await _admin_post(context, "/agents", {"name": f"Agent {next(_counter)}"})
    return f"/agents/{agent['id']}", None


async def fresh_agent_patch(context: Context) -> tuple[str, Any]:
    path, _ = await fresh_agent(context)
    return path, {"status": "away"}


async def fresh_article(context: Context) -> tuple[str, Any]:
    article = await _admin_post(
        context, "/knowledge/articles", {"title": "Role test", "content": "Billing help text."}
    )
    return f"/knowledge/articles/{article['id']}", None


async def fresh_article_patch(context: Context) -> tuple[str, Any]:
    path, _ = await fresh_article(context)
    return path, {"title": "Renamed"}


async def fresh_webhook(context: Context) -> tuple[str, Any]:
    webhook = await _admin_post(
        context,
        "/webhooks",
        {"url": "http://127.0.0.1:9/hook", "events": ["conversation.created"]},
    )
    return f"/webhooks/{webhook['id']}", None


def on_fresh_webhook(suffix: str, body: Any = None) -> Prepare:
    async def prepare(context: Context) -> tuple[str, Any]:
        path, _ = await fresh_webhook(context)
        return path + suffix, body

    return prepare


async def fresh_delivery_retry(context: Context) -> tuple[str, Any]:
    path, _ = await fresh_webhook(context)
    await create_conversation(context.client, context.tenant, customerId=context.customer_id)
    # The worker queues the delivery from the committed event, a moment later.
    for _ in range(200):
        deliveries = await context.client.get(f"{path}/deliveries", headers=context.admin)
        if deliveries.json()["data"]:
            break
        await asyncio.sleep(0.05)
    delivery_id = deliveries.json()["data"][0]["id"]
    return f"{path}/deliveries/{delivery_id}/retry", None


async def fresh_customer_conversation(context: Context) -> str:
    conversation = await create_conversation(
        context.client, context.tenant, customerId=context.customer_id
    )
    return f"/conversations/{conversation['id']}"


async def handoff_request(context: Context) -> tuple[str, Any]:
    path = await fresh_customer_conversation(context)
    return f"{path}/handoff", {"reason": "role test"}


def on_handoff(suffix: str) -> Prepare:
    async def prepare(context: Context) -> tuple[str, Any]:
        path = await fresh_customer_conversation(context)
        await _admin_post(context, f"{path}/handoff", {"reason": "role test"})
        return f"{path}/handoff{suffix}", None

    return prepare


async def ai_request(context: Context) -> tuple[str, Any]:
    return "/ai/generate-response", {
        "conversationId": context.conversation_id,
        "messageContent": "How do I update my billing information?",
    }


@dataclass(frozen=True)
class Row:
    method: str
    route: str
    allowed: frozenset[str]
    prepare: Prepare
    # Statuses that show an allowed caller got past authorization.
    passed: frozenset[int] = frozenset({200, 201, 202, 204})


def row(method: str, route: str, allowed: str, prepare: Prepare, also: tuple[int, ...] = ()) -> Row:
    passed = frozenset({200, 201, 202, 204, *also})
    return Row(method, route, frozenset(allowed.split()), prepare, passed)


MESSAGE = {"content": "hello"}

ROWS = [
    row("POST", "/api/v2/conversations", "admin agent customer", own_conversation_body),
    row("GET", "/api/v2/conversations", "admin agent viewer customer", fixed("/conversations")),
    row(
        "GET",
        "/api/v2/conversations/{conversation_id}",
        "admin agent viewer customer",
        fixed("/conversations/{conversation}"),
    ),
    row(
        "PATCH",
        "/api/v2/conversations/{conversation_id}",
        "admin agent",
        fixed("/conversations/{conversation}", {"priority": "high"}),
    ),
    row(
        "POST",
        "/api/v2/conversations/{conversation_id}/messages",
        "admin agent customer",
        fixed("/conversations/{conversation}/messages", MESSAGE),
    ),
    row(
        "GET",
        "/api/v2/conversations/{conversation_id}/messages",
        "admin agent viewer customer",
        fixed("/conversations/{conversation}/messages"),
    ),
    row("POST", "/api/v2/mailboxes", "admin", new_mailbox_body),
    row("GET", "/api/v2/mailboxes", "admin agent viewer", fixed("/mailboxes")),
    row(
        "GET",
        "/api/v2/mailboxes/{mailbox_id}",
        "admin agent viewer",
        fixed("/mailboxes/mailbox_test_1"),
    ),
    row(
        "PATCH",
        "/api/v2/mailboxes/{mailbox_id}",
        "admin",
        fixed("/mailboxes/mailbox_test_2", {"name": "Renamed"}),
    ),
    row("DELETE", "/api/v2/mailboxes/{mailbox_id}", "admin", fresh_mailbox),
    row("POST", "/api/v2/keys", "admin", fixed("/keys", {"name": "made by a role test"})),
    row("GET", "/api/v2/keys", "admin", fixed("/keys")),
    row("DELETE", "/api/v2/keys/{key_id}", "admin", fresh_key),
    row(
        "POST",
        "/api/v2/auth/tokens",
        "admin",
        fixed("/auth/tokens", {"role": "viewer", "subject": "someone"}),
    ),
    row("POST", "/api/v2/agents", "admin", fixed("/agents", {"name": "New agent"})),
    row("GET", "/api/v2/agents", "admin agent viewer", fixed("/agents")),
    row("GET", "/api/v2/agents/{agent_id}", "admin agent viewer", fresh_agent),
    row("PATCH", "/api/v2/agents/{agent_id}", "admin", fresh_agent_patch),
    row("DELETE", "/api/v2/agents/{agent_id}", "admin", fresh_agent),
    row("POST", "/api/v2/ai/generate-response", "admin agent", ai_request),
    row(
        "POST",
        "/api/v2/knowledge/articles",
        "admin",
        fixed("/knowledge/articles", {"title": "T", "content": "Some text."}),
    ),
    row(
        "POST",
        "/api/v2/knowledge/articles/import",
        "admin",
        fixed(
            "/knowledge/articles/import",
            {"articles": [{"title": "Imported", "content": "Imported text."}]},
        ),
    ),
    row("GET", "/api/v2/knowledge/articles", "admin agent viewer", fixed("/knowledge/articles")),
    row(
        "GET",
        "/api/v2/knowledge/search",
        "admin agent viewer",
        fixed("/knowledge/search?q=billing"),
    ),
    row("GET", "/api/v2/knowledge/articles/{article_id}", "admin agent viewer", fresh_article),
    row("PATCH", "/api/v2/knowledge/articles/{article_id}", "admin", fresh_article_patch),
    row("DELETE", "/api/v2/knowledge/articles/{article_id}", "admin", fresh_article),
    row("POST", "/api/v2/conversations/{conversation_id}/handoff", "admin agent", handoff_request),
    row(
        "GET",
        "/api/v2/conversations/{conversation_id}/handoff",
        "admin agent viewer customer",
        on_handoff(""),
    ),
    row(
        "POST",
        "/api/v2/conversations/{conversation_id}/handoff/complete",
        "admin agent",
        on_handoff("/complete"),
        # Nobody took the handoff, so an allowed caller gets past the role check to a 409.
        also=(409,),
    ),
    row(
        "POST",
        "/api/v2/conversations/{conversation_id}/handoff/cancel",
        "admin agent",
        on_handoff("/cancel"),
    ),
    row(
        "POST",
        "/api/v2/conversations/{conversation_id}/satisfaction",
        # Agents may not rate their own work; the route rejects them beyond the policy.
        "admin customer",
        fixed("/conversations/{conversation}/satisfaction", {"rating": 5}),
    ),
    row(
        "GET",
        "/api/v2/conversations/{conversation_id}/satisfaction",
        "admin agent viewer customer",
        fixed("/conversations/{conversation}/satisfaction"),
    ),
    row(
        "GET",
        "/api/v2/events",
        "admin agent viewer customer",
        fixed("/events?channel=conversation:{conversation}"),
    ),
    row(
        "GET",
        "/api/v2/analytics/metrics",
        "admin agent viewer",
        fixed("/analytics/metrics?period=7d"),
    ),
    row(
        "GET",
        "/api/v2/analytics/conversations.csv",
        "admin agent viewer",
        fixed("/analytics/conversations.csv"),
    ),
    row(
        "POST",
        "/api/v2/webhooks",
        "admin",
        fixed("/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["message.sent"]}),
    ),
    row("GET", "/api/v2/webhooks", "admin", fixed("/webhooks")),
    row("GET", "/api/v2/webhooks/{webhook_id}", "admin", fresh_webhook),
    row(
        "PATCH",
        "/api/v2/webhooks/{webhook_id}",
        "admin",
        on_fresh_webhook("", {"events": ["message.sent"]}),
    ),
    row("DELETE", "/api/v2/webhooks/{webhook_id}", "admin", fresh_webhook),
    row(
        "POST",
        "/api/v2/webhooks/{webhook_id}/rotate-secret",
        "admin",
        on_fresh_webhook("/rotate-secret"),
    ),
    row(
        "GET",
        "/api/v2/webhooks/{webhook_id}/deliveries",
        "admin",
        on_fresh_webhook("/deliveries"),
    ),
    row(
        "POST",
        "/api/v2/webhooks/{webhook_id}/deliveries/{delivery_id}/retry",
        "admin",
        fresh_delivery_retry,
        # The app's delivery worker may hold the delivery at that moment, which is a 409.
        also=(409,),
    ),
    row("POST", "/api/v2/webhooks/{webhook_id}/test", "admin", on_fresh_webhook("/test")),
    row(
        "POST",
        "/api/v2/widget/session",
        "publishable",
        fixed("/widget/session", {"mailboxId": "mailbox_test_1", "customerId": "customer_role"}),
    ),
]

# Reachable without any credential.
# The inbox sign-in takes an email and password in place of a credential.
PUBLIC_ROUTES = {
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("POST", "/api/v2/auth/login"),
}


def expected_status(row_: Row, role: str) -> set[int]:
    if role in row_.allowed:
        return set(row_.passed)
    if role == "anonymous":
        return {401}
    return {403}


@pytest.fixture
async def context(client, app, db, tenant) -> Context:
    customer_id = f"customer_role_{next(_counter)}"
    conversation = await create_conversation(client, tenant, customerId=customer_id)
    return Context(client, app, db, tenant, customer_id, conversation["id"])


async def credentials(context: Context) -> dict[str, dict[str, str]]:
    org_id = context.tenant.org_id
    await context.client.post(
        "/agents", json={"id": "agt_role", "name": "Role agent"}, headers=context.tenant.headers
    )
    publishable = await create_key(
        context.db, org_id, kind="publishable", role="customer", allowed_origins=[]
    )
    return {
        "admin": context.admin,
        "agent": bearer(mint(context.app, org_id, "agent", aid="agt_role")),
        "viewer": bearer(mint(context.app, org_id, "viewer")),
        "customer": bearer(
            mint(
                context.app,
                org_id,
                "customer",
                subject=context.customer_id,
                cid=context.customer_id,
            )
        ),
        "publishable": bearer(publishable),
        "anonymous": {},
    }


async def test_role_table(context):
    headers_by_role = await credentials(context)
    failures = []
    for row_ in ROWS:
        for role in ROLES:
            path, body = await row_.prepare(context)
            response = await context.client.request(
                row_.method, path, json=body, headers=headers_by_role[role]
            )
            if response.status_code not in expected_status(row_, role):
                failures.append(
                    f"{row_.method} {row_.route} as {role}: {response.status_code} "
                    f"{response.text[:160]}"
                )
            elif response.status_code == 403:
                assert response.json()["error"]["code"] == "AUTHORIZATION_ERROR"
    assert not failures, "\n".join(failures)


def api_routes(app) -> list[tuple[str, str]]:
    """Return (method, path template) of every operation in the API document."""
    found = []
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                found.append((method.upper(), path))
    return found


def test_rows_name_real_routes(app):
    routes = set(api_routes(app))
    stale = [(r.method, r.route) for r in ROWS if (r.method, r.route) not in routes]
    assert not stale, f"rows for routes that no longer exist: {stale}"


def test_every_route_has_a_row(app):
    """Fails when an endpoint has no row yet; the generic checks below cover it meanwhile."""
    covered = {(r.method, r.route) for r in ROWS}
    missing = [route for route in api_routes(app) if route not in covered]
    if missing:
        pytest.xfail(f"endpoints without a role row: {missing}")


def concrete(path: str) -> str:
    """Fill every path parameter with an id that exists nowhere."""
    parts = []
    for part in path.split("/"):
        parts.append("id_absent_0000000000" if part.startswith("{") else part)
    return "/".join(parts).removeprefix("/api/v2")


async def test_every_route_checks_credentials(context):
    headers_by_role = await credentials(context)
    failures = []
    for method, path in api_routes(context.app):
        if (method, path) in PUBLIC_ROUTES or not path.startswith("/api/v2"):
            continue
        if path in ("/api/v2/openapi.json", "/api/v2/docs", "/api/v2/docs/oauth2-redirect"):
            continue
        target = concrete(path)
        body = {} if method in WRITE_METHODS else None
        anonymous = await context.client.request(method, target, json=body)
        if anonymous.status_code != 401:
            failures.append(f"{method} {path} without a credential: {anonymous.status_code}")
        if path == "/api/v2/widget/session":
            continue
        publishable = await context.client.request(
            method, target, json=body, headers=headers_by_role["publishable"]
        )
        if publishable.status_code not in (400, 401, 403, 404):
            failures.append(f"{method} {path} with a publishable key: {publishable.status_code}")
        if method in WRITE_METHODS:
            viewer = await context.client.request(
                method, target, json=body, headers=headers_by_role["viewer"]
            )
            if viewer.is_success or viewer.status_code >= 500:
                failures.append(f"{method} {path} as viewer: {viewer.status_code}")
    assert not failures, "\n".join(failures)


async def test_customer_cannot_reach_other_customer(context):
    org_id = context.tenant.org_id
    other = bearer(mint(context.app, org_id, "customer", subject="intruder", cid="intruder"))
    path = f"/conversations/{context.conversation_id}"
    for method, target, body in (
        ("GET", path, None),
        ("GET", f"{path}/messages", None),
        ("POST", f"{path}/messages", MESSAGE),
    ):
        response = await context.client.request(method, target, json=body, headers=other)
        assert response.status_code == 404, (method, target)
        assert response.json()["error"]["code"] == "NOT_FOUND"
