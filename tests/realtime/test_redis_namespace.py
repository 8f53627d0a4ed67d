"""Deployments that share one Redis server keep their channels and keys apart."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import redis

from campfire_server.auth.connections import ConnectionLimiter
from campfire_server.auth.ratelimit import RateLimits
from campfire_server.config import Settings
from campfire_server.errors import RateLimited
from campfire_server.realtime.brokers import RESYNC, RedisBroker, open_broker
from campfire_server.redis_namespace import RedisNamespace
from tests.conftest import SHARED_LIMIT_REDIS_TIMEOUT
from tests.conftest import test_settings as make_settings
from tests.redis_support import (
    REDIS_URL,
    claim_namespace,
    delete_namespace,
    redis_reachable,
    redis_url_for_db,
)

# Database numbers of the two deployments; each test uses a prefix of its own,
# so concurrent runs on the same server do not meet either.
FIRST_DB = 5
SECOND_DB = 6


@pytest.fixture(autouse=True)
def require_redis() -> None:
    if not redis_reachable():
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")


@pytest.fixture
def prefix() -> Iterator[str]:
    prefix = claim_namespace("namespace")
    yield prefix
    for number in (FIRST_DB, SECOND_DB):
        for used in (prefix, prefix + "-other"):
            delete_namespace(used, redis_url_for_db(number))


def _envelopes(tag: str) -> list[dict[str, Any]]:
    """Return one envelope of each kind the realtime service publishes, marked with ``tag``."""
    record = {
        "position": 1,
        "id": f"evt_{tag}",
        "org_id": "org_shared",
        "type": "message.sent",
        "data": {"tag": tag},
        "created_at": 0,
        "conversation_id": "conv_shared",
        "mailbox_id": None,
        "sequence": 1,
    }
    return [
        {"kind": "event", "record": record},
        {
            "kind": "event",
            "record": {**record, "id": f"evt_{tag}_handoff", "type": "handoff.requested"},
        },
        {
            "kind": "presence",
            "org": "org_shared",
            "agentId": f"agent_{tag}",
            "status": "online",
            "connections": 1,
            "mailboxIds": [],
            "ts": 0,
        },
        {
            "kind": "typing",
            "org": "org_shared",
            "channel": "conversation:conv_shared",
            "authorId": tag,
            "authorType": "agent",
            "isTyping": True,
            "origin": None,
            "ts": 0,
        },
    ]


class Listener:
    """A started broker and the envelopes its subscription received."""

    def __init__(self, broker: RedisBroker) -> None:
        self.broker = broker
        self.received: list[dict[str, Any]] = []

    def tags(self) -> list[str]:
        tags = []
        for envelope in self.received:
            if envelope["kind"] == "event":
                tags.append(envelope["record"]["data"]["tag"])
            elif envelope["kind"] == "presence":
                tags.append(envelope["agentId"].removeprefix("agent_"))
            elif envelope["kind"] == RESYNC:
                continue  # each confirmed subscription delivers one
            else:
                tags.append(envelope["authorId"])
        return tags


@pytest.fixture
async def start_listener() -> AsyncIterator[Any]:
    started: list[Listener] = []

    async def start(url: str, prefix: str) -> Listener:
        broker = open_broker(url, prefix)
        assert isinstance(broker, RedisBroker)
        listener = Listener(broker)
        await broker.start(listener.received.append)
        started.append(listener)
        return listener

    yield start
    for listener in started:
        await listener.broker.stop()


async def _publish_and_settle(*pairs: tuple[Listener, str]) -> None:
    for listener, tag in pairs:
        for envelope in _envelopes(tag):
            listener.broker.publish(envelope)
    # Every broker hears its own envelopes through Redis, so once each has
    # its own, the others' would have arrived too.
    for _ in range(100):
        if all(listener.tags().count(tag) == 4 for listener, tag in pairs):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)


def test_namespace_reads_database_number():
    assert RedisNamespace.for_url("redis://127.0.0.1:6379/5").database == 5
    assert RedisNamespace.for_url("redis://127.0.0.1:6379").database == 0
    assert RedisNamespace.for_url("redis://127.0.0.1:6379/0?db=3").database == 3
    assert RedisNamespace.for_url("redis://127.0.0.1/6", "staging").channel("realtime") == (
        "staging:db6:realtime"
    )
    assert RedisNamespace("staging", 6).key("ws", "org_1") == "staging:ws:org_1"


def test_invalid_prefix_rejected():
    with pytest.raises(ValueError, match="must be 1 to 64 letters, digits"):
        Settings(redis_prefix="two words")
    with pytest.raises(ValueError, match="redis_prefix"):
        Settings(redis_prefix="")


async def test_brokers_on_two_databases_stay_apart(start_listener, prefix):
    first = await start_listener(redis_url_for_db(FIRST_DB), prefix)
    second = await start_listener(redis_url_for_db(SECOND_DB), prefix)
    # A second process of the first deployment, which must hear the first's envelopes.
    first_peer = await start_listener(redis_url_for_db(FIRST_DB), prefix)

    await _publish_and_settle((first, "first"), (second, "second"))

    assert sorted(first.tags()) == ["first"] * 4
    assert sorted(second.tags()) == ["second"] * 4
    assert sorted(first_peer.tags()) == ["first"] * 4
    assert first.broker.channel != second.broker.channel


async def test_brokers_with_two_prefixes_stay_apart(start_listener, prefix):
    url = redis_url_for_db(FIRST_DB)
    first = await start_listener(url, prefix)
    second = await start_listener(url, prefix + "-other")

    await _publish_and_settle((first, "first"), (second, "second"))

    assert sorted(first.tags()) == ["first"] * 4
    assert sorted(second.tags()) == ["second"] * 4


async def test_presence_counts_stay_apart(start_listener, prefix):
    url = redis_url_for_db(FIRST_DB)
    first = await start_listener(url, prefix)
    second = await start_listener(url, prefix + "-other")

    first_count = await first.broker.join_presence("org_shared", "agent_1", "ws_first")
    second_count = await second.broker.join_presence("org_shared", "agent_1", "ws_second")
    first_left = await first.broker.leave_presence("org_shared", "agent_1", "ws_first")

    assert first_count == 1
    assert second_count == 1
    assert first_left == 0


async def test_connection_limits_stay_apart(prefix):
    url = redis_url_for_db(FIRST_DB)

    async def one_socket(org_id: str) -> int:
        return 1

    first = ConnectionLimiter(
        url, one_socket, redis_prefix=prefix, redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT
    )
    second = ConnectionLimiter(
        url, one_socket, redis_prefix=prefix + "-other", redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT
    )
    try:
        first_slot = await first.acquire("org_shared")
        second_slot = await second.acquire("org_shared")
        with pytest.raises(RateLimited):
            await first.acquire("org_shared")
        await first.release(first_slot)
        await second.release(second_slot)
    finally:
        await first.close()
        await second.close()

    assert first_slot.shared is True
    assert second_slot.shared is True


async def test_rate_limit_keys_carry_prefix(prefix):
    url = redis_url_for_db(FIRST_DB)
    first = RateLimits(
        make_settings("sqlite:///unused.db", redis_url=url, redis_prefix=prefix),
        redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT,
    )
    second = RateLimits(
        make_settings("sqlite:///unused.db", redis_url=url, redis_prefix=prefix + "-other"),
        redis_timeout=SHARED_LIMIT_REDIS_TIMEOUT,
    )
    client = redis.Redis.from_url(url)
    try:
        first_hits = [await first.hit("requestsPerMinute", 2, "key_shared") for _ in range(3)]
        second_hit = await second.hit("requestsPerMinute", 2, "key_shared")
        first_keys = client.keys(f"{prefix}:ratelimit*")
        second_keys = client.keys(f"{prefix}-other:ratelimit*")
    finally:
        await first.close()
        await second.close()
        for key in client.keys(f"{prefix}*"):
            client.delete(key)
        client.close()

    assert [decision.allowed for decision in first_hits] == [True, True, False]
    assert second_hit.allowed is True
    assert len(first_keys) == 1
    assert len(second_keys) == 1
