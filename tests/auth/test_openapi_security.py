"""Every operation's OpenAPI security against what its route enforces.

Each operation of the document is called with every kind of credential.
A route checks its caller before it reads the body or looks anything up,
so a request with an invalid body and ids that exist nowhere shows the
check alone. A 403 ``AUTHORIZATION_ERROR`` is a rejected credential, and
a 400, a 404 or a success is an admitted one.
"""

from __future__ import annotations

import pytest

from tests.auth.conftest import bearer, create_key, mint
from tests.auth.test_roles import concrete

# Campfire's own credentials of each security scheme, by the role they carry.
SCHEME_CREDENTIALS = {
    "secretKey": ("admin key", "agent key", "viewer key"),
    "agentToken": ("admin token", "agent token", "viewer token"),
    "widgetToken": ("customer token",),
    "publishableKey": ("publishable key",),
}


@pytest.fixture
async def credentials(client, app, db, tenant) -> dict[str, dict[str, str]]:
    org_id = tenant.org_id
    created = await client.post(
        "/agents", json={"id": "agt_scheme", "name": "Scheme agent"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    agent_key = await create_key(db, org_id, role="agent")
    viewer_key = await create_key(db, org_id, role="viewer")
    publishable = await create_key(
        db, org_id, kind="publishable", role="customer", allowed_origins=[]
    )
    customer = mint(app, org_id, "customer", subject="customer_scheme", cid="customer_scheme")
    return {
        "admin key": tenant.headers,
        "agent key": bearer(agent_key),
        "viewer key": bearer(viewer_key),
        # An identity provider's admin JWT; Campfire itself issues none.
        "admin token": bearer(mint(app, org_id, "admin")),
        "agent token": bearer(mint(app, org_id, "agent", aid="agt_scheme")),
        "viewer token": bearer(mint(app, org_id, "viewer")),
        "customer token": bearer(customer),
        "publishable key": bearer(publishable),
    }


def document_operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method.upper() in {"GET", "POST", "PUT", "PATCH", "DELETE"}
    ]


async def test_security_matches_enforcement(client, credentials):
    document = (await client.get("/openapi.json")).json()
    mismatches = []
    checked = 0
    for method, path, operation in document_operations(document):
        declared = {name for entry in operation["security"] for name in entry}
        if not declared:
            continue
        # An object with an unknown field is invalid for every body model.
        body = {"fieldThatNoRouteTakes": 1} if "requestBody" in operation else None
        target = concrete(path)
        for scheme, names in SCHEME_CREDENTIALS.items():
            admitted_by = []
            for name in names:
                response = await client.request(
                    method,
                    target,
                    json=body,
                    headers=credentials[name],
                )
                assert response.status_code != 401, (method, path, name, response.text)
                assert response.status_code < 500, (method, path, name, response.text)
                rejected = (
                    response.status_code == 403
                    and response.json()["error"]["code"] == "AUTHORIZATION_ERROR"
                )
                if not rejected:
                    admitted_by.append(name)
            if bool(admitted_by) != (scheme in declared):
                mismatches.append(
                    f"{operation['operationId']}: {scheme} is "
                    f"{'listed' if scheme in declared else 'not listed'}, "
                    f"admitted by {admitted_by or 'none'}"
                )
            checked += 1
    assert checked > 150
    assert not mismatches, "\n".join(mismatches)


def is_authorization_error(response) -> bool:
    return response.status_code == 403 and response.json()["error"]["code"] == "AUTHORIZATION_ERROR"


async def test_permission_before_validation(client, credentials):
    """A caller that an operation does not admit gets 403, whatever is wrong with the request."""
    document = (await client.get("/openapi.json")).json()
    failures = []
    checked = 0
    for method, path, operation in document_operations(document):
        declared = {name for entry in operation["security"] for name in entry}
        if not declared:
            continue
        target = concrete(path) + "?fieldThatNoRouteTakes=1"
        # Sent to every operation, including those that take no body.
        body = {"fieldThatNoRouteTakes": 1}
        for scheme, names in SCHEME_CREDENTIALS.items():
            if scheme in declared:
                continue
            for name in names:
                response = await client.request(
                    method, target, json=body, headers=credentials[name]
                )
                if not is_authorization_error(response):
                    failures.append(
                        f"{method} {path} with {name}: {response.status_code} {response.text}"
                    )
                checked += 1
    assert checked > 90
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"x=1", "application/x-www-form-urlencoded"),
        (b"{" + b" " * 3_000_000 + b"}", "application/json"),
    ],
    ids=["invalid json", "media type", "too large"],
)
async def test_permission_before_body_guard(client, credentials, content, content_type):
    """A body that the guard would reject (400, 415, 413) still gets the route's 403 first."""
    headers = {**credentials["viewer key"], "content-type": content_type}

    deleted = await client.request("DELETE", "/keys/key_missing", content=content, headers=headers)
    completed = await client.post(
        "/conversations/conv_missing/handoff/complete", content=content, headers=headers
    )
    # A path that the template /knowledge/articles/{article_id} also matches.
    imported = await client.post("/knowledge/articles/import", content=content, headers=headers)

    assert is_authorization_error(deleted), deleted.text
    assert is_authorization_error(completed), completed.text
    assert is_authorization_error(imported), imported.text
