"""The process's Prometheus metrics, in the default registry.

Other layers import this module and update the metric that fits, e.g.::

    from campfire_server.monitoring import metrics
    metrics.webhook_delivery_failures.inc()
    with metrics.ai_answer_seconds.time():
        answer = await engine.answer(...)

Each process keeps its own values. NOTE: with ``CAMPFIRE_WORKERS`` above 1,
every scrape reaches one worker at random, because prometheus-client's
multiprocess mode is not set up.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Gauge, Histogram

# Latency buckets in seconds, from 5 ms (a cached GET) to 10 s.
_HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_AI_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)

http_requests = Counter(
    "campfire_http_requests",
    "HTTP requests answered, by method, route template and status code",
    ["method", "route", "status"],
)
http_request_seconds = Histogram(
    "campfire_http_request_duration_seconds",
    "Time from receiving an HTTP request to sending the end of its response",
    ["method", "route"],
    buckets=_HTTP_BUCKETS,
)
websocket_connections = Gauge(
    "campfire_websocket_connections",
    "WebSocket connections open in this process",
)
webhook_queue_depth = Gauge(
    "campfire_webhook_queue_depth",
    "Webhook deliveries waiting to be sent or retried, in the whole deployment",
)
webhook_deliveries_failed = Gauge(
    "campfire_webhook_deliveries_failed",
    "Webhook deliveries given up after their retry window, in the whole deployment",
)
webhook_delivery_failures = Counter(
    "campfire_webhook_delivery_failures",
    "Webhook delivery attempts of this process that did not get a 2xx answer",
)
ai_answer_seconds = Histogram(
    "campfire_ai_answer_duration_seconds",
    "Time to produce one AI answer, retrieval and model call included",
    buckets=_AI_BUCKETS,
)
ai_answers = Counter(
    "campfire_ai_answers",
    "AI answers produced, by whether they handed off (handoff=true|false)",
    ["handoff"],
)
conversations_created = Counter(
    "campfire_conversations_created",
    "Conversations created and committed by this process",
)
handoffs = Counter(
    "campfire_handoffs",
    "Handoff events committed by this process, by status (requested, assigned, completed)",
    ["status"],
)
rate_limit_rejections = Counter(
    "campfire_rate_limit_rejections",
    "Requests and connections rejected by a rate limit, by limit name",
    ["limit"],
)


# Labelled children, looked up once: ``labels()`` costs more than the update.
_request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """Count one completed HTTP request and record its latency."""
    key = (method, route, status)
    children = _request_children.get(key)
    if children is None:
        if len(_request_children) > 10_000:
            _request_children.clear()
        children = _request_children[key] = (
            http_requests.labels(method=method, route=route, status=str(status)),
            http_request_seconds.labels(method=method, route=route),
        )
    children[0].inc()
    children[1].observe(seconds)
