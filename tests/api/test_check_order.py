"""The order of a request's checks: route and method, then credential, then body."""

from __future__ import annotations

from tests.api.test_errors import assert_envelope
from tests.helpers import create_conversation

JSON = {"Content-Type": "application/json"}
BAD_KEY = {"Authorization": "Bearer sk_live_" + "x" * 44}


async def test_bad_key_and_bad_body_is_401(client, tenant):
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}/messages"
    for headers in (BAD_KEY, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic abc"}):
        response = await client.post(path, content=b"{bad", headers={**JSON, **headers})

        error = assert_envelope(response, 401, "AUTHENTICATION_ERROR")
        assert "JSON" not in error["message"], headers
        assert response.headers["connection"] == "close"


async def test_no_key_and_oversized_body_is_401(client, tenant):
    conversation = await create_conversation(client, tenant)
    huge = b'{"content":"' + b"a" * (1024 * 1024 + 10) + b'"}'

    response = await client.post(
        f"/conversations/{conversation['id']}/messages", content=huge, headers=JSON
    )

    assert_envelope(response, 401, "AUTHENTICATION_ERROR")


async def test_wrong_method_and_bad_body_is_405(client, tenant):
    conversation = await create_conversation(client, tenant)
    for headers in (tenant.headers, BAD_KEY, {}):
        response = await client.put(
            f"/conversations/{conversation['id']}", content=b"{bad", headers={**JSON, **headers}
        )

        assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
        assert response.headers["allow"] == "GET, HEAD, PATCH, OPTIONS"


async def test_unknown_path_and_bad_body_is_404(client):
    response = await client.post("/nothing-here", content=b"{bad", headers={**JSON, **BAD_KEY})

    assert_envelope(response, 404, "NOT_FOUND")


async def test_good_key_and_bad_body_is_400(client, tenant):
    conversation = await create_conversation(client, tenant)

    response = await client.post(
        f"/conversations/{conversation['id']}/messages",
        content=b"{bad",
        headers={**JSON, **tenant.headers},
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert "not valid JSON" in error["message"]
    assert "connection" not in response.headers


async def test_public_routes_need_no_credential(client):
    for path in ("/openapi.json", "/docs"):
        response = await client.get(path)
        assert response.status_code == 200, path

    login = await client.post("/auth/login", content=b"{bad", headers=JSON)
    assert_envelope(login, 400, "VALIDATION_ERROR")


async def test_pipeline_authenticates_once(app, client, tenant, monkeypatch):
    from campfire_server.api import deps

    calls = []
    original = deps.identify

    async def counted(*args):
        calls.append(args)
        return await original(*args)

    monkeypatch.setattr(deps, "identify", counted)
    conversation = await create_conversation(client, tenant)

    assert conversation["id"]
    assert len(calls) == 1
