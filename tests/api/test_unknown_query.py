"""Every operation of the OpenAPI schema rejects a query parameter it does not declare."""

from __future__ import annotations

import re

import pytest

from campfire_server.app import create_app
from tests.auth.conftest import bearer, create_key
from tests.conftest import test_settings as make_settings

UNKNOWN = "unknownParameter"


def _operations() -> list[tuple[str, str]]:
    schema = create_app(make_settings("sqlite:///unused.db")).openapi()
    return [
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "patch", "put", "delete")
    ]


OPERATIONS = _operations()


def test_schema_lists_many_operations():
    assert len(OPERATIONS) > 40


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
async def test_unknown_query_parameter_rejected(client, db, tenant, method, path):
    url = re.sub(r"\{[^}]+\}", "id_missing", path).removeprefix("/api/v2")
    body = {} if method in ("POST", "PATCH", "PUT") else None
    headers = tenant.headers
    if path == "/api/v2/widget/session":
        # The route admits only a publishable key, and a caller it does not admit gets 403.
        key = await create_key(db, tenant.org_id, kind="publishable", role="customer")
        headers = bearer(key)

    response = await client.request(method, f"{url}?{UNKNOWN}=1", headers=headers, json=body)

    assert response.status_code == 400, (method, path, response.status_code, response.text)
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == UNKNOWN
    assert UNKNOWN in error["message"]
