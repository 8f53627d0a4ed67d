"""The Redis broker's subscription loop against the running Redis."""

from __future__ import annotations

import asyncio
import logging

import pytest

from campfire_server.outage_log import OutageLog
from campfire_server.realtime.brokers import RESYNC, RedisBroker
from campfire_server.redis_namespace import RedisNamespace
from tests.ratelimit.conftest import OwnRedis
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


class _Clock:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _lines(caplog: pytest.LogCaptureFixture, start: str) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.getMessage().startswith(start)]


async def _wait_for_line(
    caplog: pytest.LogCaptureFixture, start: str, count: int, timeout: float = 20.0
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(_lines(caplog, start)) < count:
        assert loop.time() < deadline, f"fewer than {count} lines {start!r} in {timeout} s"
        await asyncio.sleep(0.05)


async def test_outage_logs_start_reminder_recovery(caplog) -> None:
    redis_server = OwnRedis()
    clock = _Clock()
    outages = OutageLog(logging.getLogger("campfire_server.realtime.brokers"), monotonic=clock)
    broker = RedisBroker(redis_server.url, outages=outages)
    received: list[dict] = []
    caplog.set_level(logging.INFO, logger="campfire_server.realtime.brokers")
    try:
        await broker.start(received.append)
        await _wait_for(received, RESYNC)
        redis_server.stop()

        # Every publish of the outage fails and is delivered in this process only.
        for number in range(5):
            broker.publish({"kind": "typing", "n": number})
            await _wait_for(received, "typing")
            received.clear()
        await _wait_for_line(caplog, "redis subscription lost", 1)
        published_before = len(_lines(caplog, "redis publish failed"))
        lost_before = len(_lines(caplog, "redis subscription lost"))

        clock.now = 61.0
        broker.publish({"kind": "typing", "n": 5})
        await _wait_for_line(caplog, "redis publish failed", 2)

        redis_server = OwnRedis(port=redis_server.port)
        await _wait_for_line(caplog, "redis subscription restored", 1)
        broker.publish({"kind": "typing", "n": 6})
        await _wait_for_line(caplog, "redis publish recovered", 1)
    finally:
        await broker.stop()
        redis_server.stop()

    assert published_before == 1
    assert lost_before == 1
    failed = _lines(caplog, "redis publish failed")
    assert len(failed) == 2
    assert failed[0].levelno == logging.ERROR
    assert failed[0].getMessage() == "redis publish failed; delivering locally only"
    assert "failures in the last 61 s)" in failed[1].getMessage()
    assert failed[1].failures >= 6
    recovered = _lines(caplog, "redis publish recovered")
    assert len(recovered) == 1
    assert recovered[0].levelno == logging.INFO
    assert recovered[0].failures >= 6
    lost = _lines(caplog, "redis subscription lost")
    assert lost[0].getMessage() == "redis subscription lost; resubscribing"
    assert lost[0].levelno == logging.WARNING
    # After the clock's jump, the retries may have written one reminder.
    assert len(lost) <= 2
    for reminder in lost[1:]:
        assert "failures in the last 6" in reminder.getMessage()
    restored = _lines(caplog, "redis subscription restored")
    assert len(restored) == 1
    assert restored[0].failures >= 1
    assert _lines(caplog, "redis resubscribe failed") == []
