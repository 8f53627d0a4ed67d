"""The Redis broker's subscription loop against the running Redis."""

from __future__ import annotations

import asyncio
import logging

import pytest

from campfire_server.realtime.brokers import RedisBroker
from tests.realtime.test_scaled import REDIS_URL, _redis_reachable


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
