"""Every route that may take a body rejects a field it does not know, before any change."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from tests.helpers import create_conversation, writer_headers

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _write_routes(app) -> list[tuple[str, str, bool]]:
    """Return (method, path template, has a body model) for every route that writes."""
    found = []
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.path_format.startswith("/api/v2/"):
            continue
        for method in sorted(set(context.methods or ()) & WRITE_METHODS):
            found.append((method, context.path_format, route.body_field is not None))
    return found


def _fill(template: str) -> str:
    path = re.sub(r"\{[^}]+\}", "missing_id", template)
    return path.removeprefix("/api/v2")


async def test_every_write_route_rejects_unknown_field(client, tenant, app):
    routes = _write_routes(app)
    assert len(routes) > 20
    assert ("POST", "/api/v2/conversations/{conversation_id}/handoff/cancel", False) in routes

    failures = []
    for method, template, _has_model in routes:
        headers = await writer_headers(client, tenant, template)
        response = await client.request(
            method, _fill(template), json={"bogusField": 1}, headers=headers
        )
        body = response.json() if response.content else {}
        error = body.get("error", {})
        if response.status_code != 400 or error.get("code") != "VALIDATION_ERROR":
            failures.append(f"{method} {template}: {response.status_code} {response.text[:200]}")
        elif "bogusField" not in response.text:
            failures.append(f"{method} {template}: the error does not name bogusField")

    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("body", [b"[]", b"1", b'"text"', b"null"])
async def test_bodiless_route_rejects_non_object(client, tenant, body):
    conversation = await create_conversation(client, tenant)
    headers = {**tenant.headers, "Content-Type": "application/json"}

    response = await client.post(
        f"/conversations/{conversation['id']}/handoff/cancel", content=body, headers=headers
    )

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert response.json()["error"]["details"]["field"] == "body"


async def test_cancel_with_unknown_field_changes_nothing(client, tenant):
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}/handoff"
    requested = await client.post(path, json={"reason": "billing"}, headers=tenant.headers)
    assert requested.status_code in (200, 201), requested.text

    rejected = await client.post(f"{path}/cancel", json={"bogus": 1}, headers=tenant.headers)
    after = await client.get(path, headers=tenant.headers)

    assert rejected.status_code == 400, rejected.text
    error = rejected.json()["error"]
    assert error["details"]["field"] == "bogus"
    assert "bogus" in error["message"]
    assert after.json()["status"] == requested.json()["status"]


@pytest.mark.parametrize("body", [None, {}])
async def test_bodiless_route_accepts_empty_body(client, tenant, body):
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}/handoff"
    await client.post(path, json={"reason": "billing"}, headers=tenant.headers)

    if body is None:
        response = await client.post(f"{path}/cancel", headers=tenant.headers)
    else:
        response = await client.post(f"{path}/cancel", json=body, headers=tenant.headers)

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
