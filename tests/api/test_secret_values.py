"""Validation errors about secret fields never echo the secret value."""

from __future__ import annotations

import logging

import pytest

from tests.auth.conftest import bearer, create_key

SECRET_NUMBER = 12345678
SECRET_TEXT = "s3cr3t-" + "x" * 300

# (method, path, body, secret field)
CASES = [
    ("post", "/auth/login", {"email": "a@example.com", "password": SECRET_NUMBER}, "password"),
    ("post", "/auth/login", {"email": "a@example.com", "password": SECRET_TEXT}, "password"),
    (
        "post",
        "/agents",
        {"name": "Alex", "email": "alex@example.com", "password": SECRET_NUMBER},
        "password",
    ),
    (
        "post",
        "/mailboxes",
        {"name": "Support", "identitySecret": SECRET_NUMBER},
        "identitySecret",
    ),
    (
        "post",
        "/webhooks",
        {"url": "https://example.com/hook", "events": ["message.created"], "secret": SECRET_NUMBER},
        "secret",
    ),
    (
        "post",
        "/widget/session",
        {"mailboxId": "mbx_1", "customerId": "c1", "customerHash": SECRET_NUMBER},
        "customerHash",
    ),
    (
        "post",
        "/widget/session",
        {"mailboxId": "mbx_1", "customerId": "c1", "customerHash": SECRET_TEXT},
        "customerHash",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES)
async def test_secret_value_not_echoed(client, db, tenant, caplog, method, path, body, field):
    secret = str(body[field])
    caplog.set_level(logging.DEBUG)
    headers = tenant.headers
    if path == "/widget/session":
        # The route admits only a publishable key, and a caller it does not admit gets 403.
        headers = bearer(await create_key(db, tenant.org_id, kind="publishable", role="customer"))

    response = await client.request(method, path, json=body, headers=headers)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["details"]["field"] == field
    assert error["details"]["expected"]
    assert secret not in response.text
    assert secret[:12] not in response.text
    # A placeholder such as "<307 characters>" shows the size only.
    value = error["details"].get("value")
    assert value is None or (value.startswith("<") and value.endswith(">"))
    assert secret not in caplog.text


async def test_secret_type_error_names_type(client):
    body = {"email": "a@example.com", "password": SECRET_NUMBER}

    response = await client.post("/auth/login", json=body)

    error = response.json()["error"]
    assert error["message"] == "password must be a string, not an integer"
    assert error["details"]["expected"] == "a string"


async def test_other_values_still_echoed(client):
    body = {"email": 5, "password": "correct horse battery"}

    response = await client.post("/auth/login", json=body)

    error = response.json()["error"]
    assert error["details"]["field"] == "email"
    assert error["details"]["value"] == 5
    assert "the integer 5" in error["message"]
