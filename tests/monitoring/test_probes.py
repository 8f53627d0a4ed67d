"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

import httpx

from campfire_server.app import create_app
from campfire_server.monitoring import metrics
from tests.conftest import free_port
from tests.conftest import test_settings as make_settings


async def root_client(app):
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_healthz_and_readyz(app):
    async with await root_client(app) as client:
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {"status": "ok"}
        assert "x-ratelimit-limit" not in health.headers
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}


async def test_readyz_reports_redis_down(db):
    settings = make_settings(db.url, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings, db=db)
    async with app.router.lifespan_context(app):
        async with await root_client(app) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            error = ready.json()["error"]
            assert error["code"] == "SERVICE_UNAVAILABLE"
            assert error["details"]["checks"]["database"] == "ok"
            assert error["details"]["checks"]["redis"] != "ok"
            assert ready.headers["retry-after"] == "5"
            # The API keeps answering with per-process limits meanwhile.
            answered = await client.get(
                "/api/v2/conversations", headers={"Authorization": "Bearer test_sk_123456789"}
            )
            assert answered.status_code == 200
            assert "x-ratelimit-remaining" in answered.headers


async def test_readyz_reports_old_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(make_settings(url, env="test"))
    async with app.router.lifespan_context(app):
        async with await root_client(app) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert "migrate" in ready.json()["error"]["details"]["checks"]["migrations"]


async def test_metrics_exposition(client, app, tenant):
    metrics.webhook_queue_depth.set(7)
    metrics.handoffs.labels(status="queued").inc()
    await client.get("/conversations", headers=tenant.headers)
    await client.get("/conversations/conv_absent", headers=tenant.headers)
    async with await root_client(app) as root:
        response = await root.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'campfire_http_requests_total{method="GET",route="/api/v2/conversations",status="200"}'
        in text
    )
    assert 'route="/api/v2/conversations/{conversation_id}",status="404"' in text
    assert "campfire_http_request_duration_seconds_bucket" in text
    assert "campfire_webhook_queue_depth 7.0" in text
    assert "campfire_websocket_connections" in text
    assert "campfire_ai_answer_duration_seconds" in text
    assert 'campfire_handoffs_total{status="queued"}' in text
    assert (
        "campfire_rate_limit_rejections_total" in text or "campfire_rate_limit_rejections" in text
    )


async def test_metrics_token(db):
    app = create_app(make_settings(db.url, metrics_token="scrape-token-123"), db=db)
    async with app.router.lifespan_context(app):
        async with await root_client(app) as client:
            assert (await client.get("/metrics")).status_code == 401
            wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
            assert wrong.status_code == 401
            good = await client.get(
                "/metrics", headers={"Authorization": "Bearer scrape-token-123"}
            )
            assert good.status_code == 200


async def test_rate_limit_rejections_counted(db, tenant):
    from tests.ratelimit.conftest import limited_client

    before = metrics.rate_limit_rejections.labels(limit="requestsPerMinute")._value.get()
    async with limited_client(db, rate_limit_requests_per_minute=1) as client:
        await client.get("/conversations", headers=tenant.headers)
        await client.get("/conversations", headers=tenant.headers)
    after = metrics.rate_limit_rejections.labels(limit="requestsPerMinute")._value.get()
    assert after == before + 1
