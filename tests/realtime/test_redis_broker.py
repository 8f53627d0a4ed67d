"""The Redis broker's subscription loop against the running Redis."""

from __future__ import annotations

import asyncio
import logging

import pytest

from campfire_server.realtime.brokers import RESYNC, RedisBroker
from campfire_server.redis_namespace import RedisNamespace
from tests.realtime.test_scaled import REDIS_URL, _redis_reachable
from tests.redis_support import claim_namespace


async def test_ended_subscription_retries_after_pause(monkeypatch, caplog) -> None:
    if not _redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    broker = RedisBroker(REDIS_URL)
    listens = 0

    async def ended_listen():  # type: ignore[no-untyped-def]
        # A pubsub with nothing subscribed ends its listen at once.
        nonlocal listens
        listens += 1
        if listens > 20:
            raise asyncio.CancelledError
        return
        yield

    real_pubsub = broker._subscriber.pubsub

    def pubsub(**options):  # type: ignore[no-untyped-def]
        created = real_pubsub(**options)
        monkeypatch.setattr(created, "listen", ended_listen)
        return created

    monkeypatch.setattr(broker._subscriber, "pubsub", pubsub)
    caplog.set_level(logging.WARNING, logger="campfire_server.realtime.brokers")

    task = asyncio.create_task(broker._receive_loop(pubsub()))
    await asyncio.sleep(1.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await broker._subscriber.aclose()
    await broker._redis.aclose()

    # Pauses of 0.5 s and then 1 s leave room for two or three listens in 1.2 s.
    assert listens <= 3
    lost = [record for record in caplog.records if "subscription lost" in record.getMessage()]
    assert 1 <= len(lost) <= 3


async def test_start_error_hides_password() -> None:
    # Nothing listens on port 1, so the subscription fails at once.
    broker = RedisBroker("redis://:hunter2secret@127.0.0.1:1/0")

    with pytest.raises(RuntimeError) as raised:
        await broker.start(lambda envelope: None)
    await broker._subscriber.aclose()
    await broker._redis.aclose()

    assert "hunter2secret" not in str(raised.value)
    assert "redis://:***@127.0.0.1:1/0" in str(raised.value)


async def _started(namespace: RedisNamespace) -> tuple[RedisBroker, list[dict]]:
    broker = RedisBroker(REDIS_URL, namespace)
    received: list[dict] = []
    await broker.start(received.append)
    return broker, received


async def _wait_for(received: list[dict], kind: str, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any(envelope.get("kind") == kind for envelope in received):
        assert loop.time() < deadline, f"no {kind} envelope in {timeout} s: {received}"
        await asyncio.sleep(0.02)


async def test_failed_publish_followed_by_resync() -> None:
    if not _redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    namespace = RedisNamespace.for_url(REDIS_URL, claim_namespace("publish"))
    publisher, published_here = await _started(namespace)
    listener, heard = await _started(namespace)
    try:
        # Each start confirms its subscription with a resync of its own hub.
        await _wait_for(published_here, RESYNC)
        await _wait_for(heard, RESYNC)
        published_here.clear()
        heard.clear()

        real_pipeline = publisher._redis.pipeline
        failures = 0

        def failing_pipeline(**options):  # type: ignore[no-untyped-def]
            nonlocal failures
            failures += 1
            raise ConnectionError("Redis cannot be reached")

        publisher._redis.pipeline = failing_pipeline  # type: ignore[method-assign]
        publisher.publish({"kind": "typing", "n": 1})
        await _wait_for(published_here, "typing")
        publisher._redis.pipeline = real_pipeline  # type: ignore[method-assign]

        # Nothing else is published, so the resync goes out alone within a second.
        await _wait_for(heard, RESYNC)
    finally:
        await publisher.stop()
        await listener.stop()

    assert failures == 1
    assert published_here[0] == {"kind": "typing", "n": 1}
    assert heard == [{"kind": RESYNC}]
