"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

import httpx

from campfire_server.app import create_app
from campfire_server.monitoring import metrics
from tests.conftest import test_settings as make_settings
from tests.helpers import create_conversation
from tests.ratelimit.conftest import OwnRedis

DEV = {"Authorization": "Bearer test_sk_123456789"}


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


async def test_redis_outage_keeps_answering(db, caplog):
    redis_server = OwnRedis()
    try:
        settings = make_settings(db.url, redis_url=redis_server.url)
        app = create_app(settings, db=db)
        async with app.router.lifespan_context(app):
            async with await root_client(app) as client:
                ready = await client.get("/readyz")
                assert ready.status_code == 200, ready.text
                assert ready.json()["checks"]["redis"] == "ok"
                redis_server.stop()

                ready = await client.get("/readyz")
                assert ready.status_code == 503
                error = ready.json()["error"]
                assert error["code"] == "SERVICE_UNAVAILABLE"
                assert error["details"]["checks"]["database"] == "ok"
                assert error["details"]["checks"]["redis"] == (
                    "failed: Redis did not answer PING; check that it is running and reachable "
                    "at CAMPFIRE_REDIS_URL"
                )
                assert error["message"] == (
                    "the server is not ready: redis failed: Redis did not answer PING; check "
                    "that it is running and reachable at CAMPFIRE_REDIS_URL"
                )
                assert ready.headers["retry-after"] == "5"

                # The API keeps answering, counting per process meanwhile, and says so once.
                with caplog.at_level(logging.WARNING, logger="campfire_server.auth.ratelimit"):
                    for expected_remaining in (999, 998, 997):
                        answered = await client.get("/api/v2/conversations", headers=DEV)
                        assert answered.status_code == 200
                        remaining = int(answered.headers["x-ratelimit-remaining"])
                        assert remaining == expected_remaining
                warnings = [r for r in caplog.records if "redis unavailable" in r.getMessage()]
                assert len(warnings) == 1
    finally:
        redis_server.stop()


async def test_readyz_reports_old_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    app = create_app(make_settings(url, env="test"))
    async with app.router.lifespan_context(app):
        async with await root_client(app) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["error"]["details"]["checks"]["migrations"] == (
                "failed: the database schema is behind; run `campfire migrate`"
            )


def sample(name: str, **labels: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_exposition(client, app, tenant):
    created_before = sample("campfire_conversations_created_total")
    handoffs_before = sample("campfire_handoffs_total", status="requested")
    conversation = await create_conversation(client, tenant)
    handoff = await client.post(
        f"/conversations/{conversation['id']}/handoff",
        json={"reason": "customer asked for a person"},
        headers=tenant.headers,
    )
    assert handoff.status_code in (200, 201), handoff.text
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
    for name in (
        "campfire_webhook_queue_depth",
        "campfire_webhook_deliveries_failed",
        "campfire_webhook_delivery_failures_total",
        "campfire_websocket_connections",
        "campfire_ai_answer_duration_seconds_bucket",
        "campfire_rate_limit_rejections_total",
    ):
        assert name in text, name
    assert sample("campfire_conversations_created_total") == created_before + 1
    assert sample("campfire_handoffs_total", status="requested") == handoffs_before + 1


async def test_metrics_read_other_layers(client, app, db, tenant):
    def work(tx):
        return tx.value(
            "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status IN ('pending', 'delivering')"
        )

    async with await root_client(app) as root:
        await root.get("/metrics")
    assert sample("campfire_webhook_queue_depth") == await db.read(work)
    assert sample("campfire_websocket_connections") == len(app.state.realtime.hub.connections)


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
