"""CORS for the widget keys' origins only, and security headers on pages and scripts."""

from __future__ import annotations

from fastapi.responses import HTMLResponse, Response

from tests.auth.conftest import bearer

ORIGIN = "https://shop.example"


async def test_preflight_allowed_origin(client, publishable_key):
    response = await client.options(
        "/widget/session",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "Authorization" in response.headers["access-control-allow-headers"]
    assert response.headers["vary"] == "Origin"


async def test_preflight_unknown_origin(client, publishable_key):
    response = await client.options(
        "/widget/session",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    error = response.json()["error"]
    assert error["code"] == "AUTHORIZATION_ERROR"
    assert "'https://evil.example'" in error["message"]
    assert "allowedOrigins" in error["message"]
    assert "--origin https://evil.example" in error["message"]


async def test_cors_on_actual_requests(client, publishable_key):
    allowed = await client.post(
        "/widget/session",
        json={"mailboxId": "mailbox_test_1"},
        headers=bearer(publishable_key, Origin=ORIGIN),
    )
    assert allowed.status_code == 201
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "X-RateLimit-Remaining" in allowed.headers["access-control-expose-headers"]
    other = await client.post(
        "/widget/session",
        json={"mailboxId": "mailbox_test_1"},
        headers=bearer(publishable_key, Origin="https://evil.example"),
    )
    assert "access-control-allow-origin" not in other.headers


async def test_revoked_key_origin_no_longer_allowed(client, tenant):
    created = await client.post(
        "/keys",
        json={"kind": "publishable", "allowedOrigins": ["https://gone.example"]},
        headers=tenant.headers,
    )
    preflight = {"Origin": "https://gone.example", "Access-Control-Request-Method": "POST"}
    assert (await client.options("/widget/session", headers=preflight)).status_code == 204
    await client.delete(f"/keys/{created.json()['id']}", headers=tenant.headers)
    assert (await client.options("/widget/session", headers=preflight)).status_code == 403


async def test_security_headers(app, client):
    @app.get("/demo-page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>")

    @app.get("/widget/frame-test")
    async def widget_page() -> HTMLResponse:
        return HTMLResponse("<p>widget</p>")

    @app.get("/static/app.js")
    async def script() -> Response:
        return Response("1", media_type="application/javascript")

    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as root:
        page_response = await root.get("/demo-page")
        widget_response = await root.get("/widget/frame-test")
        script_response = await root.get("/static/app.js")
        docs = await root.get("/api/v2/docs")

    csp = page_response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp
    assert page_response.headers["x-frame-options"] == "DENY"
    assert page_response.headers["x-content-type-options"] == "nosniff"
    assert page_response.headers["referrer-policy"] == "strict-origin-when-cross-origin"

    assert "x-frame-options" not in widget_response.headers
    assert "frame-ancestors" not in widget_response.headers["content-security-policy"]
    assert widget_response.headers["x-content-type-options"] == "nosniff"

    assert script_response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in script_response.headers
    assert docs.status_code == 200
    assert "frame-ancestors 'none'" in docs.headers["content-security-policy"]


async def test_json_gets_nosniff_only(client, tenant):
    response = await client.get("/conversations", headers=tenant.headers)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in response.headers


async def test_development_key_from_own_origin_only(client, app):
    from campfire_server.auth.keys import DEVELOPMENT_PUBLISHABLE_KEY

    own = f"http://127.0.0.1:{app.state.settings.port}"
    body = {"mailboxId": "mailbox_456"}
    local = await client.post(
        "/widget/session", json=body, headers=bearer(DEVELOPMENT_PUBLISHABLE_KEY, Origin=own)
    )
    assert local.status_code == 201, local.text
    for origin in ("http://127.0.0.1:5555", "https://evil.example"):
        remote = await client.post(
            "/widget/session",
            json=body,
            headers=bearer(DEVELOPMENT_PUBLISHABLE_KEY, Origin=origin),
        )
        assert remote.status_code == 403, origin
        assert "access-control-allow-origin" not in remote.headers
