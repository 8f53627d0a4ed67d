"""Brokers carry envelopes to the hub of every process and count sockets across processes.

* ``InProcessBroker`` (the default): ``publish`` hands the envelope to this
  process's hub at once; counts live in memory.
* ``RedisBroker`` (when ``CAMPFIRE_REDIS_URL`` is set): ``publish`` sends
  the envelope once to a Redis pub/sub channel, and every process, this
  one included, delivers what it receives from that channel to its hub.
  Pub/sub keeps nothing for a subscriber that is not connected, so the
  broker hands its hub a ``resync`` envelope after every confirmed
  subscription, and publishes one to every process once it can publish
  again after a failure. The hub then reads what it may have missed from
  the event log (``catch_up``).
  The channel and key names carry the deployment's ``RedisNamespace``, so
  deployments that share a Redis server do not hear each other.
  Agent socket counts (for presence) are Redis sorted sets of leases, so
  the sockets of a process that died stop counting once their lease runs
  out. A hash lists the agents that hold leases, so that a living process
  can find the agents whose last lease ran out (``expired_presence``) and
  mark them offline.

The per-organization connection limit is counted by ``auth.connections``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import ServiceUnavailable
from ..outage_log import OutageLog
from ..redaction import hide_password
from ..redis_namespace import DEFAULT_PREFIX, RedisNamespace
from .events import dumps

log = logging.getLogger(__name__)

# Log messages of presence writes that fail during a Redis outage, and their outage keys.
_COUNT_FAILED = "redis socket count failed; counting this process only"
_RELEASE_FAILED = "redis socket release failed"
_REFRESH_FAILED = "redis lease refresh failed"
# Log messages of a failed publish and a lost subscription, and their outage keys.
_PUBLISH_FAILED = "redis publish failed; delivering locally only"
_SUBSCRIPTION_LOST = "redis subscription lost; resubscribing"

Deliver = Callable[[dict[str, Any]], None]

# The channel's name within the deployment's namespace.
CHANNEL_NAME = "realtime"
# The kind of envelope that makes a hub read from the log what its broker may have missed.
RESYNC = "resync"
# Seconds the publisher waits for an envelope before it sends an owed resync alone.
RESYNC_RETRY_SECONDS = 1.0
REDIS_CONNECTIONS = 32
LEASE_SECONDS = 90.0
# Seconds between presence sweeps, or a third of a lease when that is shorter.
MAX_SWEEP_SECONDS = 10.0

# KEYS: the agent's lease set, the hash of agents with leases.
# ARGV: now (s), lease expiry (s), connection id, key ttl (s), agent field, mailbox ids.
_JOIN = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
return redis.call('ZCARD', KEYS[1])
"""

# KEYS as in _JOIN. ARGV: now (s), connection id or '' for none, agent field.
# Drops the agent from the hash when its last lease is gone. Returns -1
# (UNKNOWN_COUNT) instead of 0 when the connection's own lease was missing.
_LEAVE = """
local removed = 1
if ARGV[2] ~= '' then
  removed = redis.call('ZREM', KEYS[1], ARGV[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local count = redis.call('ZCARD', KEYS[1])
if count == 0 then
  redis.call('HDEL', KEYS[2], ARGV[3])
  if removed == 0 then
    return -1
  end
end
return count
"""
# The socket count ``leave_presence`` returns when Redis no longer held the
# closing socket's own lease. Redis then lost its keys, or the lease ran out,
# so the leases of other processes' sockets may be missing too until their
# next renewal.
UNKNOWN_COUNT = -1


# KEYS: the marker of kept leases, the due time of the presence check.
# ARGV: now (s), the check's due time (s). Returns 1 to the one caller that
# takes a due check. A missing marker means Redis lost its keys (or this is
# the deployment's first start), so a check is scheduled.
_PRESENCE_CHECK = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('SET', KEYS[2], ARGV[2])
end
local due = redis.call('GET', KEYS[2])
if due and tonumber(due) <= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
"""


class Broker:
    """The interface both brokers share."""

    name = "broker"
    # Seconds between lease renewals (``refresh``) and between presence sweeps.
    refresh_seconds = LEASE_SECONDS / 3
    sweep_seconds = MAX_SWEEP_SECONDS

    async def start(self, deliver: Deliver) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def publish(self, envelope: dict[str, Any]) -> None:
        """Deliver ``envelope`` to every process's hub, in the order of the calls."""
        raise NotImplementedError

    async def join_presence(
        self, org_id: str, agent_id: str, connection_id: str, mailbox_ids: list[str] | None = None
    ) -> int:
        """Count a socket of an agent; return the agent's socket count afterwards.

        ``mailbox_ids`` are the mailboxes of the socket's token (none for all),
        which the offline frame of an expired lease is sent to.
        """
        raise NotImplementedError

    async def leave_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        """Stop counting a socket; return the agent's socket count afterwards.

        The Redis broker returns ``UNKNOWN_COUNT`` when it cannot tell.
        """
        raise NotImplementedError

    async def refresh(
        self, agents: set[tuple[str, str]] | None = None
    ) -> list[tuple[str, str, list[str]]]:
        """Renew the leases of this process's sockets; the service calls it periodically.

        ``agents`` limits the renewal to those (organization id, agent id)
        pairs. Returns the agents whose leases were missing and were
        created again, each with its token's mailbox ids.
        """
        return []

    def holds_presence(self, org_id: str, agent_id: str) -> bool:
        """Tell whether a socket of this process counts toward the agent's presence."""
        return False

    async def expired_presence(self) -> list[tuple[str, str, list[str]]]:
        """Return the agents whose last socket lease ran out, each reported to one caller.

        Each item is the organization id, the agent id and the mailbox ids of
        the agent's token. The in-process broker keeps no leases, so it
        returns none.
        """
        return []

    async def presence_count(self, org_id: str, agent_id: str) -> int:
        """Return how many sockets of the agent hold a lease now, across all processes."""
        raise NotImplementedError

    async def presence_check_due(self) -> bool:
        """Tell whether the caller must check the stored presence of every agent.

        True once, to one caller, a lease period after the broker lost its
        leases, when the leases of live sockets are stored again. The
        in-process broker loses its counts only with its process, so it
        returns False.
        """
        return False


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

    async def join_presence(
        self, org_id: str, agent_id: str, connection_id: str, mailbox_ids: list[str] | None = None
    ) -> int:
        members = self._presence.setdefault((org_id, agent_id), set())
        members.add(connection_id)
        return len(members)

    async def leave_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        members = self._presence.get((org_id, agent_id), set())
        members.discard(connection_id)
        if not members:
            self._presence.pop((org_id, agent_id), None)
        return len(members)

    async def presence_count(self, org_id: str, agent_id: str) -> int:
        return len(self._presence.get((org_id, agent_id), ()))


class RedisBroker(Broker):
    name = "redis"

    def __init__(
        self,
        url: str,
        namespace: RedisNamespace | None = None,
        *,
        lease_seconds: float = LEASE_SECONDS,
        outages: OutageLog | None = None,
    ) -> None:
        import redis.asyncio as redis

        self._url = url
        # Publishes, the subscription and presence writes that fail during a
        # Redis outage, by log message.
        self._outages = outages if outages is not None else OutageLog(log)
        self.lease_seconds = lease_seconds
        self.refresh_seconds = lease_seconds / 3
        self.sweep_seconds = min(MAX_SWEEP_SECONDS, lease_seconds / 3)
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
        # The subscription has a connection of its own, named so that an
        # operator can find it in CLIENT LIST.
        self.subscriber_name = f"{self.channel}:subscriber:{os.getpid()}"
        self._subscriber = redis.Redis.from_url(
            url,
            client_name=self.subscriber_name,
            socket_connect_timeout=3,
            health_check_interval=30,
        )
        self._deliver: Deliver | None = None
        self._outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._presence: dict[tuple[str, str], set[str]] = {}
        # The mailbox ids of each agent's token, stored again when a lease is re-created.
        self._mailboxes: dict[tuple[str, str], list[str]] = {}
        # Set when envelopes could not be published, until a resync is published.
        self._resync_owed = False

    async def start(self, deliver: Deliver) -> None:
        self._deliver = deliver
        pubsub = self._subscriber.pubsub()
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
        await self._subscriber.aclose()
        await self._redis.aclose()
        self._deliver = None

    def publish(self, envelope: dict[str, Any]) -> None:
        # One publisher task on one connection keeps the calls' order on the wire.
        self._outbox.put_nowait(envelope)

    async def _next_batch(self) -> list[dict[str, Any]]:
        """Wait for envelopes to publish; with a resync owed, return none after a pause."""
        if self._resync_owed:
            try:
                first = await asyncio.wait_for(self._outbox.get(), RESYNC_RETRY_SECONDS)
            except TimeoutError:
                return []
        else:
            first = await self._outbox.get()
        batch = [first]
        while not self._outbox.empty() and len(batch) < 256:
            batch.append(self._outbox.get_nowait())
        return batch

    async def _publish_loop(self) -> None:
        while True:
            batch = await self._next_batch()
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for envelope in batch:
                        pipe.publish(self.channel, dumps(envelope))
                    if self._resync_owed:
                        # After the batch, so that a process reading the log
                        # on it also finds the events of this batch there.
                        pipe.publish(self.channel, dumps({"kind": RESYNC}))
                    await pipe.execute()
                self._outages.recovery(
                    _PUBLISH_FAILED,
                    "redis publish recovered; asked every process to read missed events",
                )
                self._resync_owed = False
            except asyncio.CancelledError:
                raise
            except Exception as error:
                # Local sockets still get the envelopes. Other processes miss
                # them until the resync that follows the next successful publish.
                self._resync_owed = True
                self._outages.failure(
                    _PUBLISH_FAILED,
                    _PUBLISH_FAILED,
                    level=logging.ERROR,
                    extra={"error": str(error), "channel": self.channel},
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
                    kind = message.get("type")
                    if kind == "subscribe":
                        # Confirmed, so every envelope published from now on
                        # arrives, and the log contains every earlier one. The
                        # client may have made the subscription again by itself
                        # after its connection dropped.
                        restored = self._outages.recovery(
                            _SUBSCRIPTION_LOST,
                            "redis subscription restored",
                            extra={"channel": self.channel},
                        )
                        if not restored:
                            log.info(
                                "redis subscription confirmed", extra={"channel": self.channel}
                            )
                        self._deliver_local({"kind": RESYNC})
                        continue
                    if kind != "message":
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
                self._outages.failure(
                    _SUBSCRIPTION_LOST,
                    _SUBSCRIPTION_LOST,
                    extra={"error": str(error), "channel": self.channel, "retry_in_s": backoff},
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001 - the connection is already broken
                    pass
                pubsub = self._subscriber.pubsub()
                try:
                    await pubsub.subscribe(self.channel)
                except Exception as retry_error:
                    # Counted in the same outage as the loss that led to it.
                    self._outages.failure(
                        _SUBSCRIPTION_LOST,
                        _SUBSCRIPTION_LOST,
                        extra={"error": str(retry_error), "channel": self.channel},
                    )

    # Counting through leases ----------------------------------------------------

    def _presence_key(self, org_id: str, agent_id: str) -> str:
        return self.namespace.key("realtime", "agent", org_id, agent_id)

    def _agents_key(self) -> str:
        return self.namespace.key("realtime", "agents")

    @contextlib.contextmanager
    def _outage_as_unavailable(self, step: str) -> Iterator[None]:
        """Raise ``ServiceUnavailable`` for a lost or timed-out Redis connection during ``step``.

        An outage passes by itself, so the sweep logs it once per outage.
        Other Redis errors keep their type, so they are logged with their
        traceback.
        """
        import redis.exceptions

        try:
            yield
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as error:
            raise ServiceUnavailable(
                f"Redis at {hide_password(self._url)!r} is unavailable for {step} ({error}); "
                "check that Redis is running and reachable"
            ) from error

    async def presence_check_due(self) -> bool:
        """Tell whether this caller takes the check that follows a loss of Redis' keys.

        The sweep looks for agents whose last lease ran out in the hash of
        agents with leases. When Redis loses its keys, that hash no longer
        lists the agents of a process that dies before its next refresh, so their
        stored presence is checked against the leases once, a lease period
        after the loss is noticed.
        """
        now = time.time()
        with self._outage_as_unavailable("the presence check"):
            due = await self._redis.eval(
                _PRESENCE_CHECK,
                2,
                self.namespace.key("realtime", "leases-kept"),
                self.namespace.key("realtime", "presence-check"),
                now,
                now + self.lease_seconds,
            )
        return bool(due)

    def _key_ttl(self) -> int:
        return max(1, int(self.lease_seconds * 2))

    def _local_count(self, org_id: str, agent_id: str, member: str) -> int:
        return len(self._presence.get((org_id, agent_id), set()) | {member})

    async def join_presence(
        self, org_id: str, agent_id: str, connection_id: str, mailbox_ids: list[str] | None = None
    ) -> int:
        self._presence.setdefault((org_id, agent_id), set()).add(connection_id)
        self._mailboxes[(org_id, agent_id)] = sorted(mailbox_ids or ())
        field = json.dumps([org_id, agent_id])
        now = time.time()
        try:
            count = await self._redis.eval(
                _JOIN,
                2,
                self._presence_key(org_id, agent_id),
                self._agents_key(),
                now,
                now + self.lease_seconds,
                connection_id,
                self._key_ttl(),
                field,
                json.dumps(sorted(mailbox_ids or ())),
            )
        except Exception as error:
            # Without Redis each process counts only its own sockets, the way
            # rate limits fall back, so realtime keeps working locally.
            self._outages.failure(
                _COUNT_FAILED,
                _COUNT_FAILED,
                extra={"error": str(error), "organization_id": org_id, "agent_id": agent_id},
            )
            return self._local_count(org_id, agent_id, connection_id)
        self._outages.recovery(_COUNT_FAILED, "redis socket counts recovered")
        return int(count)

    async def leave_presence(self, org_id: str, agent_id: str, connection_id: str) -> int:
        members = self._presence.get((org_id, agent_id), set())
        members.discard(connection_id)
        if not members:
            self._presence.pop((org_id, agent_id), None)
            self._mailboxes.pop((org_id, agent_id), None)
        try:
            count = await self._redis.eval(
                _LEAVE,
                2,
                self._presence_key(org_id, agent_id),
                self._agents_key(),
                time.time(),
                connection_id,
                json.dumps([org_id, agent_id]),
            )
        except Exception as error:
            self._outages.failure(
                _RELEASE_FAILED,
                _RELEASE_FAILED,
                extra={"error": str(error), "organization_id": org_id, "agent_id": agent_id},
            )
            return 0
        self._outages.recovery(_RELEASE_FAILED, "redis socket releases recovered")
        return int(count)

    async def presence_count(self, org_id: str, agent_id: str) -> int:
        key = self._presence_key(org_id, agent_id)
        return int(await self._redis.zcount(key, time.time(), "+inf"))

    def holds_presence(self, org_id: str, agent_id: str) -> bool:
        return bool(self._presence.get((org_id, agent_id)))

    async def refresh(
        self, agents: set[tuple[str, str]] | None = None
    ) -> list[tuple[str, str, list[str]]]:
        """Renew this process's leases, and create again the ones Redis lost.

        Redis can lose keys (a restart without persistence, an eviction, a
        flush) while the sockets stay open. Adding the members back, and the
        agent to the hash of agents with leases, keeps the agent online and
        lets the sweep find it once its sockets are gone.
        """
        expiry = time.time() + self.lease_seconds
        renewed = [
            (agent, set(members))
            for agent, members in self._presence.items()
            if members and (agents is None or agent in agents)
        ]
        if not renewed:
            return []
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for (org_id, agent_id), members in renewed:
                    key = self._presence_key(org_id, agent_id)
                    pipe.zadd(key, dict.fromkeys(members, expiry))
                    pipe.expire(key, self._key_ttl())
                    pipe.hset(
                        self._agents_key(),
                        json.dumps([org_id, agent_id]),
                        json.dumps(self._mailboxes.get((org_id, agent_id), [])),
                    )
                results = await pipe.execute()
        except Exception as error:
            self._outages.failure(_REFRESH_FAILED, _REFRESH_FAILED, extra={"error": str(error)})
            return []
        self._outages.recovery(_REFRESH_FAILED, "redis lease refresh recovered")
        await self._release_closed(renewed)
        recreated = []
        for index, ((org_id, agent_id), _members) in enumerate(renewed):
            added = int(results[index * 3])
            if added and self.holds_presence(org_id, agent_id):
                mailbox_ids = self._mailboxes.get((org_id, agent_id), [])
                recreated.append((org_id, agent_id, list(mailbox_ids)))
        return recreated

    async def _release_closed(self, renewed: list[tuple[tuple[str, str], set[str]]]) -> None:
        """Remove the leases that a refresh wrote for sockets that closed meanwhile.

        A socket's own release may reach Redis before the refresh does,
        which would otherwise leave its lease counting until it runs out.
        """
        for (org_id, agent_id), members in renewed:
            current = self._presence.get((org_id, agent_id), set())
            for connection_id in members - current:
                await self.leave_presence(org_id, agent_id, connection_id)

    async def expired_presence(self) -> list[tuple[str, str, list[str]]]:
        """Return the agents whose last lease ran out, if this process holds the sweep lock.

        The lock lives for one sweep interval and is not released, so across
        all processes about one sweep runs per interval. The ``_LEAVE``
        script removes an agent from the hash atomically, so each expired
        agent is returned once. Raises ``ServiceUnavailable`` while Redis is
        unreachable.
        """
        with self._outage_as_unavailable("the presence sweep"):
            return await self._expired_presence()

    async def _expired_presence(self) -> list[tuple[str, str, list[str]]]:
        lock = self.namespace.key("realtime", "presence-sweep")
        interval_ms = max(1, int(self.sweep_seconds * 1000))
        if not await self._redis.set(lock, "1", nx=True, px=interval_ms):
            return []
        agents = await self._redis.hgetall(self._agents_key())
        if not agents:
            return []
        now = time.time()
        fields = list(agents)
        async with self._redis.pipeline(transaction=False) as pipe:
            for field in fields:
                org_id, agent_id = json.loads(field)
                pipe.eval(
                    _LEAVE,
                    2,
                    self._presence_key(org_id, agent_id),
                    self._agents_key(),
                    now,
                    "",
                    field,
                )
            counts = await pipe.execute()
        expired = []
        for field, count in zip(fields, counts, strict=True):
            if int(count) == 0:
                org_id, agent_id = json.loads(field)
                expired.append((org_id, agent_id, json.loads(agents[field])))
        return expired


def open_broker(
    redis_url: str | None,
    redis_prefix: str = DEFAULT_PREFIX,
    *,
    lease_seconds: float = LEASE_SECONDS,
) -> Broker:
    if not redis_url:
        return InProcessBroker()
    return RedisBroker(
        redis_url, RedisNamespace.for_url(redis_url, redis_prefix), lease_seconds=lease_seconds
    )
