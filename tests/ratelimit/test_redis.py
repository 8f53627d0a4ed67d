"""Limits shared through Redis by several processes, and the fallback when Redis is down."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import redis

from campfire_server.auth.connections import ConnectionLimiter
from campfire_server.auth.ratelimit import RateLimits
from campfire_server.errors import RateLimited
from tests.conftest import SHARED_LIMIT_REDIS_TIMEOUT, free_port, start_server
from tests.conftest import test_settings as make_settings
from tests.ratelimit.conftest import OwnRedis
from tests.redis_support import REDIS_URL, claim_namespace, delete_namespace, redis_reachable


@dataclass
class RedisNamespaceClient:
    """A client of the test Redis server and the key prefix that one test owns."""

    client: redis.Redis
    prefix: str


@pytest.fixture
def redis_db() -> Iterator[RedisNamespaceClient]:
    """Yield a client and a new key prefix, then delete the prefix's keys after the test.

    Tests that run at the same time in other workers or other sessions on
    the same Redis server use other prefixes, so they never read these keys.
    """
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    prefix = claim_namespace("limits")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    yield RedisNamespaceClient(client, prefix)
    delete_namespace(prefix)
    client.close()


def test_two_servers_share_one_limit(db, tenant, redis_db, tmp_path):
    env = {
        "CAMPFIRE_REDIS_URL": REDIS_URL,
        "CAMPFIRE_REDIS_PREFIX": redis_db.prefix,
        "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "6",
    }
    servers = [start_server(db.url, tmp_path, env=env) for _ in range(2)]
    try:
        statuses = []
        remaining = []
        for index in range(8):
            server = servers[index % 2]
            response = httpx.get(f"{server.api}/conversations", headers=tenant.headers, timeout=10)
            statuses.append(response.status_code)
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
        assert statuses == [200] * 6 + [429, 429]
        assert remaining == [5, 4, 3, 2, 1, 0, 0, 0]
        limit_keys = list(redis_db.client.scan_iter(match=f"{redis_db.prefix}:ratelimit*"))
        assert limit_keys
    finally:
        for server in servers:
            server.stop()


async def test_redis_down_falls_back(db, caplog):
    # Nothing listens on this port, so every Redis call fails at once.
    settings = make_settings(
        db.url, redis_url=f"redis://127.0.0.1:{free_port()}/0", rate_limit_requests_per_minute=3
    )
    limits = RateLimits(settings, db)
    try:
        with caplog.at_level(logging.WARNING, logger="campfire_server.auth.ratelimit"):
            decisions = [await limits.hit_request("key:fallback", None) for _ in range(4)]
        assert [decision.allowed for decision in decisions] == [True, True, True, False]
        assert [decision.remaining for decision in decisions] == [2, 1, 0, 0]
        assert limits.degraded
        warnings = [r for r in caplog.records if "redis unavailable" in r.getMessage()]
        assert len(warnings) == 1
    finally:
        await limits.close()


class _Clock:
    """A monotonic clock that moves only when a test moves it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _limit_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "campfire_server.auth.ratelimit"]


async def test_redis_outage_logs_start_reminder_recovery(db, caplog):
    # Nothing listens on the port until the test starts a Redis server there.
    port = free_port()
    settings = make_settings(
        db.url,
        redis_url=f"redis://127.0.0.1:{port}/0",
        redis_prefix=claim_namespace("outage", url=f"redis://127.0.0.1:{port}/0"),
        rate_limit_requests_per_minute=1000,
    )
    clock = _Clock()
    limits = RateLimits(settings, db, monotonic=clock)
    redis_server = None
    try:
        with caplog.at_level(logging.INFO, logger="campfire_server.auth.ratelimit"):
            # One Redis attempt per retry period: at 0, 6, 12 and 18 s, then 80 s.
            for second in (0.0, 1.0, 6.0, 12.0, 18.0):
                clock.now = second
                assert (await limits.hit_request("key:outage", None)).allowed
            lines_before_reminder = len(_limit_lines(caplog))
            clock.now = 80.0
            await limits.hit_request("key:outage", None)
            lines_after_reminder = len(_limit_lines(caplog))

            redis_server = OwnRedis(port=port)
            clock.now = 86.0
            await limits.hit_request("key:outage", None)
            clock.now = 92.0
            await limits.hit_request("key:outage", None)
    finally:
        await limits.close()
        if redis_server is not None:
            redis_server.stop()

    assert lines_before_reminder == 1
    assert lines_after_reminder == 2
    lines = _limit_lines(caplog)
    assert [record.getMessage() for record in lines] == [
        "redis unavailable; rate limits fall back to per-process counters",
        "redis unavailable; rate limits fall back to per-process counters "
        "(4 failures in the last 80 s)",
        "redis reachable again; rate limits are shared again",
    ]
    assert lines[0].levelno == logging.WARNING
    assert lines[1].failures == 5
    assert lines[2].levelno == logging.INFO
    assert lines[2].failures == 5
    assert lines[2].outage_seconds == 86.0
    assert not limits.degraded


async def test_connection_slots_shared(db, redis_db, tenant):
    settings = make_settings(
        db.url,
        redis_url=REDIS_URL,
        redis_prefix=redis_db.prefix,
        rate_limit_websocket_connections=3,
    )
    first = RateLimits(settings, db, redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT)
    second = RateLimits(settings, db, redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT)
    try:
        slots = [
            await first.connections.acquire(tenant.org_id),
            await second.connections.acquire(tenant.org_id),
            await first.connections.acquire(tenant.org_id),
        ]
        with pytest.raises(RateLimited) as caught:
            await second.connections.acquire(tenant.org_id)
        assert caught.value.ws_close_code == 4429
        other_org = await second.connections.acquire("org_someone_else")
        await second.connections.release(other_org)

        await first.connections.release(slots[0])
        await first.connections.release(slots[0])  # twice is harmless
        replacement = await second.connections.acquire(tenant.org_id)
        with pytest.raises(RateLimited):
            await first.connections.acquire(tenant.org_id)
        await second.connections.release(replacement)
    finally:
        await first.close()
        await second.close()
    # Closing a process gives back every slot it held.
    assert redis_db.client.zcard(f"{redis_db.prefix}:ws:{tenant.org_id}") == 0


async def test_connection_slots_in_memory(db, tenant):
    limits = RateLimits(make_settings(db.url, rate_limit_websocket_connections=2), db)
    try:
        async with limits.connections.slot(tenant.org_id):
            held = await limits.connections.acquire(tenant.org_id)
            with pytest.raises(RateLimited):
                await limits.connections.acquire(tenant.org_id)
            assert limits.connections.open_count(tenant.org_id) == 2
            await limits.connections.release(held)
        assert limits.connections.open_count(tenant.org_id) == 0
    finally:
        await limits.close()


async def test_connection_slots_recreated_after_loss():
    # A prefix of its own, so deleting its keys touches no other test's slots.
    prefix = f"slots{secrets.token_hex(4)}"
    key = f"{prefix}:ws:org_loss"
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)

    async def limit_for(org_id: str) -> int:
        return 2

    limiter = ConnectionLimiter(
        REDIS_URL, limit_for, redis_prefix=prefix, redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT
    )
    try:
        slots = [await limiter.acquire("org_loss"), await limiter.acquire("org_loss")]
        # Redis restarting without its data loses the slots of open sockets.
        assert client.delete(key) == 1

        await limiter.refresh()

        assert client.zcard(key) == 2
        assert client.pttl(key) > 0
        with pytest.raises(RateLimited):
            await limiter.acquire("org_loss")

        # A slot released while a refresh waits for Redis is not written back.
        refreshing = asyncio.create_task(limiter.refresh())
        await asyncio.sleep(0)
        await limiter.release(slots[0])
        await refreshing
        assert client.zcard(key) == 1

        await limiter.release(slots[1])
        assert client.zcard(key) == 0
    finally:
        await limiter.close()
        client.delete(key)
        client.close()


async def test_outage_slots_written_back(tmp_path):
    from tests.resilience.services import PrivateRedis

    server = PrivateRedis(tmp_path)
    server.start()

    async def limit_for(org_id: str) -> int:
        return 2

    key = "campfire:ws:org_outage"
    first = ConnectionLimiter(server.url, limit_for, redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT)
    second = ConnectionLimiter(server.url, limit_for, redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT)
    client = redis.Redis.from_url(server.url, socket_connect_timeout=2)
    try:
        server.stop()
        # While Redis is down the first process counts its own sockets only.
        slots = [await first.acquire("org_outage"), await first.acquire("org_outage")]
        assert [slot.shared for slot in slots] == [False, False]

        server.start()
        await first.refresh()

        assert client.zcard(key) == 2
        assert client.pttl(key) > 0
        assert first.open_count("org_outage") == 2
        # The limit now applies to another process as well.
        with pytest.raises(RateLimited):
            await second.acquire("org_outage")

        await first.release(slots[0])
        assert client.zcard(key) == 1
        assert first.open_count("org_outage") == 1
        assert (await second.acquire("org_outage")).shared is True
        await first.release(slots[1])
        assert client.zcard(key) == 1
    finally:
        await first.close()
        await second.close()
        client.close()
        server.stop()


async def test_count_failures_logged_once_per_outage(tmp_path, caplog):
    from tests.resilience.services import PrivateRedis

    server = PrivateRedis(tmp_path)
    server.start()
    client = redis.Redis.from_url(server.url, socket_connect_timeout=2)
    # Redis refuses the counting script but still takes the lease refresh,
    # so counting fails on every socket while every refresh succeeds.
    client.execute_command("ACL", "SETUSER", "default", "-evalsha", "-eval")

    async def limit_for(org_id: str) -> int:
        return 10

    limiter = ConnectionLimiter(server.url, limit_for, redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT)
    try:
        with caplog.at_level(logging.INFO, logger="campfire_server.auth.connections"):
            for _ in range(3):
                slot = await limiter.acquire("org_flaky")
                assert slot.shared is False
                await limiter.refresh()

        lines = [record.getMessage() for record in caplog.records]
        count_failures = [line for line in lines if "connection count failed" in line]
        assert len(count_failures) == 1, lines
        assert not any("recovered" in line for line in lines), lines
        assert limiter.open_count("org_flaky") == 3
    finally:
        await limiter.close()
        client.close()
        server.stop()
