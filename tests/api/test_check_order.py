"""The order of a request's checks: route and method, then credential, then body."""

from __future__ import annotations

import asyncio
import time

import pytest
from pydantic import ValidationError

from campfire_server.app import create_app
from campfire_server.config import Settings
from tests.api.test_errors import assert_envelope
from tests.conftest import test_settings as make_settings
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


async def _post_unknown_path(application, chunks: int, chunk_size: int, stall: bool = False):
    """POST a body in chunks to a path without a route; return (status, bytes read, seconds)."""
    read = 0
    sent: list[dict] = []

    async def receive():
        nonlocal read
        if read >= chunks * chunk_size:
            if stall:
                await asyncio.sleep(3600)
            return {"type": "http.disconnect"}
        read += chunk_size
        more = read < chunks * chunk_size or stall
        return {"type": "http.request", "body": b"x" * chunk_size, "more_body": more}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/v2/nothing-here",
        "raw_path": b"/api/v2/nothing-here",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(chunks * chunk_size + (1 if stall else 0)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    started = time.monotonic()
    await application(scope, receive, send)
    return sent[0]["status"], read, time.monotonic() - started


@pytest.fixture
async def small_discard_app(db):
    application = create_app(
        make_settings(db.url, early_error_discard_bytes=64 * 1024, early_error_discard_seconds=0.2),
        db=db,
    )
    async with application.router.lifespan_context(application):
        yield application


async def test_early_error_discard_limits_apply(app, small_discard_app):
    # 100 parts of 16 KiB: the default 4 MiB reads them all, 64 KiB about five.
    status, read, _ = await _post_unknown_path(app, 100, 16 * 1024)
    assert status == 404
    assert read == 100 * 16 * 1024

    status, read, _ = await _post_unknown_path(small_discard_app, 100, 16 * 1024)
    assert status == 404
    assert read <= 64 * 1024 + 16 * 1024

    # A client that stops sending is waited for at most the discard time.
    status, _, seconds = await _post_unknown_path(small_discard_app, 1, 1024, stall=True)
    assert status == 404
    assert 0.15 <= seconds < 0.9
    status, _, seconds = await _post_unknown_path(app, 1, 1024, stall=True)
    assert status == 404
    assert seconds >= 0.9


def test_early_error_discard_settings_from_environment(monkeypatch):
    monkeypatch.setenv("CAMPFIRE_EARLY_ERROR_DISCARD_BYTES", "65536")
    monkeypatch.setenv("CAMPFIRE_EARLY_ERROR_DISCARD_SECONDS", "0.25")
    settings = Settings()
    assert settings.early_error_discard_bytes == 65536
    assert settings.early_error_discard_seconds == 0.25


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("early_error_discard_bytes", -1, "from 0 to 1073741824"),
        ("early_error_discard_bytes", 2 * 1024**3, "from 0 to 1073741824"),
        ("early_error_discard_seconds", -0.5, "from 0 to 60"),
        ("early_error_discard_seconds", 61, "from 0 to 60"),
        ("early_error_discard_seconds", float("nan"), "from 0 to 60"),
    ],
)
def test_early_error_discard_settings_rejected(field, value, expected):
    with pytest.raises(ValidationError) as raised:
        Settings(**{field: value})
    message = str(raised.value)
    assert field in message
    assert expected in message
