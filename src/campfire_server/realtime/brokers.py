"""Brokers carry envelopes to the hub of every process and count sockets across processes.

* ``InProcessBroker`` (the default): ``publish`` hands the envelope to this
  process's hub at once; counts live in memory.
* ``RedisBroker`` (when ``CAMPFIRE_REDIS_URL`` is set): ``publish`` sends
  the envelope once to a Redis pub/sub channel, and every process, this
  one included, delivers what it receives from that channel to its hub.
  The channel and key names carry the deployment's ``RedisNamespace``, so
  deployments that share a Redis server do not hear each other.
  Agent socket counts (for presence) are Redis sorted sets of leases, so
  the sockets of a process that died stop counting once their lease runs
  out.

The per-organization connection limit is counted by ``auth.connections``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from ..redaction import hide_password
from ..redis_namespace import DEFAULT_PREFIX, RedisNamespace
from .events import dumps

log = logging.getLogger(__name__)

Deliver = Callable[[dict[str, Any]], None]

# The channel's name within the deployment's namespace.
CHANNEL_NAME = "realtime"
REDIS_CONNECTIONS = 32
LEASE_SECONDS = 90
REFRESH_SECONDS = 30


class Broker:
    """The interface both brokers share."""

    name = "broker"

    async def start(self, deliver: Deliver) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def publish(self, envelope: dict[str, Any]) -> None:
        """Deliver ``envelope`` to every process's hub, in the order of the calls."""
        raise NotImplementedError

    async def join_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        """Count a socket of an agent; return the agent's socket count afterwards."""
        raise NotImplementedError

    async def leave_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        raise NotImplementedError

    async def refresh(self) -> None:
        """Renew the leases of this process's sockets; the service calls it periodically."""


class InProcessBroker(Broker):
    name = "in-process"

    def __init__(self) -> None:
        self._deliver: Deliver | None = None
        self._presence: dict[tuple[str, str], set[str]] = {}

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver

    async def stop(self) -> None:
        self._deliver = None

    def publish(self, envelope: dict[str, Any]) -> None:
        if self._deliver is not None:
            self._deliver(envelope)

    async def join_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        members = self._presence.setdefault((org_id, agent_id), set())
        members.add(connection_id)
        return len(members)

    async def leave_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        members = self._presence.get((org_id, agent_id), set())
        members.discard(connection_id)
        if not members:
            self._presence.pop((org_id, agent_id), None)
        return len(members)


class RedisBroker(Broker):
    name = "redis"

    def __init__(self, url: str, namespace: RedisNamespace | None = None) -> None:
        import redis.asyncio as redis

        self._url = url
        self.namespace = namespace or RedisNamespace.for_url(url)
        self.channel = self.namespace.channel(CHANNEL_NAME)
        # Callers wait for a free connection rather than fail when many sockets
        # connect at once; the subscription keeps one connection for itself.
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=REDIS_CONNECTIONS,
            timeout=5,
            socket_connect_timeout=3,
            health_check_interval=30,
        )
        self._redis = redis.Redis(connection_pool=pool)
        self._deliver: Deliver | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._presence: dict[tuple[str, str], set[str]] = {}
        self._publish_failures = 0

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
        except Exception as error:
            raise RuntimeError(
                f"cannot subscribe to Redis at {hide_password(self._url)!r} ({error}); start "
                "Redis or unset "
                "CAMPFIRE_REDIS_URL to use the in-process broker"
            ) from error
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._receive_loop(pubsub)),
            loop.create_task(self._publish_loop()),
        ]
        log.info("redis broker started", extra={"channel": self.channel})

    async def stop(self) -> None:
        # Let queued envelopes go out before the publisher stops.
        for _ in range(50):
            if self._outbox.empty():
                break
            await asyncio.sleep(0.02)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._redis.aclose()
        self._deliver = None

    def publish(self, envelope: dict[str, Any]) -> None:
        # One publisher task on one connection keeps the calls' order on the wire.
        self._outbox.put_nowait(envelope)

    async def _publish_loop(self) -> None:
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty() and len(batch) < 256:
                batch.append(self._outbox.get_nowait())
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for envelope in batch:
                        pipe.publish(self.channel, dumps(envelope))
                    await pipe.execute()
                self._publish_failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # Local sockets still get the envelopes; other processes miss them and
                # their clients catch up with since after reconnecting.
                self._publish_failures += 1
                if self._publish_failures in (1, 10, 100) or self._publish_failures % 1000 == 0:
                    log.error(
                        "redis publish failed; delivering locally only",
                        extra={"error": str(error), "failures": self._publish_failures},
                    )
                for envelope in batch:
                    self._deliver_local(envelope)

    def _deliver_local(self, envelope: dict[str, Any]) -> None:
        if self._deliver is not None:
            self._deliver(envelope)

    async def _receive_loop(self, pubsub: Any) -> None:
        backoff = 0.5
        while True:
            try:
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    backoff = 0.5
                    try:
                        envelope = json.loads(message["data"])
                    except ValueError:
                        log.warning("invalid realtime envelope from redis ignored")
                        continue
                    self._deliver_local(envelope)
                # ``listen`` ends without an error when nothing is subscribed, as
                # after a failed resubscribe, so it is lost and retried with a pause.
                raise ConnectionError("the Redis subscription ended")
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as error:
                log.warning(
                    "redis subscription lost; resubscribing",
                    extra={"error": str(error), "retry_in_s": backoff},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001 - the connection is already broken
                    pass
                pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
                try:
                    await pubsub.subscribe(self.channel)
                except Exception as retry_error:
                    log.warning("redis resubscribe failed", extra={"error": str(retry_error)})

    # Counting through leases ----------------------------------------------------

    async def _lease(self, key: str, member: str) -> int:
        now = time.time()
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zadd(key, {member: now + LEASE_SECONDS})
                pipe.expire(key, LEASE_SECONDS * 2)
                pipe.zcard(key)
                *_, count = await pipe.execute()
        except Exception as error:
            # Without Redis each process counts only its own sockets, the way
            # rate limits fall back, so realtime keeps working locally.
            log.warning(
                "redis socket count failed; counting this process only",
                extra={"error": str(error), "key": key},
            )
            return self._local_count(key, member)
        return int(count)

    def _presence_key(self, org_id: str, agent_id: str) -> str:
        return self.namespace.key("realtime", "agent", org_id, agent_id)

    def _local_count(self, key: str, member: str) -> int:
        for (org_id, agent_id), members in self._presence.items():
            if key == self._presence_key(org_id, agent_id):
                return len(members | {member})
        return 1

    async def _unlease(self, key: str, member: str) -> int:
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.zrem(key, member)
                pipe.zremrangebyscore(key, "-inf", time.time())
                pipe.zcard(key)
                *_, count = await pipe.execute()
            return int(count)
        except Exception as error:
            log.warning("redis socket release failed", extra={"error": str(error), "key": key})
            return 0

    async def join_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        self._presence.setdefault((org_id, agent_id), set()).add(connection_id)
        return await self._lease(self._presence_key(org_id, agent_id), connection_id)

    async def leave_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        members = self._presence.get((org_id, agent_id), set())
        members.discard(connection_id)
        if not members:
            self._presence.pop((org_id, agent_id), None)
        return await self._unlease(self._presence_key(org_id, agent_id), connection_id)

    async def refresh(self) -> None:
        expiry = time.time() + LEASE_SECONDS
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for (org_id, agent_id), members in self._presence.items():
                    if not members:
                        continue
                    key = self._presence_key(org_id, agent_id)
                    pipe.zadd(key, dict.fromkeys(members, expiry), xx=True)
                    pipe.expire(key, LEASE_SECONDS * 2)
                await pipe.execute()
        except Exception as error:
            log.warning("redis lease refresh failed", extra={"error": str(error)})


def open_broker(redis_url: str | None, redis_prefix: str = DEFAULT_PREFIX) -> Broker:
    if not redis_url:
        return InProcessBroker()
    return RedisBroker(redis_url, RedisNamespace.for_url(redis_url, redis_prefix))
