"""Errors show an overlong id or path as its length, the same way for every route."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute, iter_route_contexts

LONG_ID = "c" * 5000
SHOWN = "<5000 characters>"


def _templates(app) -> list[tuple[str, str]]:
    """Return (method, path template) for every API route with a path parameter."""
    found = []
    for context in iter_route_contexts(app.router.routes):
        route = context.original_route
        template = context.path_format or ""
        if not isinstance(route, APIRoute) or "{" not in template:
            continue
        if not template.startswith("/api/v2/"):
            continue
        for method in sorted(set(context.methods or ()) - {"HEAD"}):
            found.append((method, template))
    return found


async def test_conversation_404_shortens_id(client, tenant):
    response = await client.get(f"/conversations/{LONG_ID}", headers=tenant.headers)

    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["message"] == f"conversation {SHOWN} was not found"
    assert error["details"]["value"] == SHOWN
    assert LONG_ID not in response.text


async def test_every_route_shortens_long_ids(client, tenant, app):
    routes = _templates(app)
    assert len(routes) > 20

    failures = []
    for method, template in routes:
        path = re.sub(r"\{[^}]+\}", LONG_ID, template).removeprefix("/api/v2")
        body = {} if method in ("POST", "PUT", "PATCH") else None
        response = await client.request(method, path, json=body, headers=tenant.headers)
        if LONG_ID in response.text:
            failures.append(f"{method} {template}: {response.status_code} echoes the whole id")
        elif response.status_code == 404 and SHOWN not in response.text:
            failures.append(f"{method} {template}: 404 without {SHOWN}: {response.text[:200]}")

    assert not failures, "\n".join(failures)


async def test_unknown_long_path_is_shortened(client, tenant):
    response = await client.get(f"/{LONG_ID}", headers=tenant.headers)

    assert response.status_code == 404, response.text
    assert LONG_ID not in response.text
    assert response.json()["error"]["message"] == "no route matches GET <5008 characters>"
