"""Concurrent WebSocket connections per organization.

The realtime gateway calls ``acquire(org_id)`` when a socket authenticates
and ``release(slot)`` when it closes::

    slot = await app.state.rate_limits.connections.acquire(principal.org_id)
    try:
        ...  # serve the socket
    finally:
        await app.state.rate_limits.connections.release(slot)

``acquire`` raises ``RateLimited`` (WebSocket close code 4429) when the
organization already has its limit of open sockets. It also keeps the
``campfire_websocket_connections`` gauge, so callers need not.

With Redis, each organization has a sorted set of slot ids scored by their
expiry time. A process refreshes the expiry of its own slots every
``REFRESH_SECONDS``, so the slots of a process that crashed expire after
``SLOT_TTL_SECONDS`` instead of leaking, and writes back the slots that
Redis lost. Without Redis, or while it is
down, each process counts its own sockets. The sockets that a process
accepted while Redis was down are written to Redis at its first refresh
after Redis returns, so they count toward the limit of every process again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..errors import RateLimited
from ..outage_log import OutageLog
from ..redis_namespace import DEFAULT_PREFIX, RedisNamespace

log = logging.getLogger(__name__)

SLOT_TTL_SECONDS = 90
# How long a limit check waits for Redis before it counts in this process instead.
REDIS_TIMEOUT_SECONDS = 0.5
REFRESH_SECONDS = 30
# Seconds a rejected client is asked to wait, as ``Retry-After`` on HTTP and
# ``details.retryAfter`` in the realtime error frame.
RETRY_AFTER_SECONDS = 5

# Log messages of the Redis steps that can fail during an outage, and their outage keys.
_COUNT_FAILED = "redis WebSocket connection count failed; counting this process only"
_REFRESH_FAILED = "redis WebSocket connection lease refresh failed"
_RELEASE_FAILED = "redis WebSocket connection release failed; the slot expires on its own"

# KEYS[1] the org's set; ARGV: now ms, expiry ms, limit, slot id, key ttl ms.
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
"""


@dataclass(frozen=True, slots=True)
class ConnectionSlot:
    """One open socket's claim on its organization's connection limit."""

    org_id: str
    id: str
    shared: bool


class ConnectionLimiter:
    def __init__(
        self,
        redis_url: str | None,
        limit_for: Callable[[str], Awaitable[int]],
        *,
        redis_prefix: str = DEFAULT_PREFIX,
        redis_timeout: float = REDIS_TIMEOUT_SECONDS,
    ) -> None:
        self._limit_for = limit_for
        self._namespace = RedisNamespace(redis_prefix)
        self._redis: Any = None
        self._acquire_script: Any = None
        if redis_url:
            import redis.asyncio as redis

            self._redis = redis.Redis.from_url(
                redis_url, socket_timeout=redis_timeout, socket_connect_timeout=redis_timeout
            )
            self._acquire_script = self._redis.register_script(_ACQUIRE)
        self._local: dict[str, set[str]] = {}
        self._shared: dict[str, set[str]] = {}
        self._refresher: asyncio.Task[None] | None = None
        # Each step has an outage of its own, so a refresh that succeeds
        # does not end the outage of a count that keeps failing.
        self._outages = OutageLog(log)

    def _key(self, org_id: str) -> str:
        return self._namespace.key("ws", org_id)

    def open_count(self, org_id: str) -> int:
        """Return the sockets of ``org_id`` open in this process."""
        return len(self._local.get(org_id, ())) + len(self._shared.get(org_id, ()))

    async def acquire(self, org_id: str) -> ConnectionSlot:
        """Claim a slot for one socket of ``org_id``, or raise ``RateLimited``."""
        limit = await self._limit_for(org_id)
        slot_id = secrets.token_hex(8)
        shared = await self._acquire_shared(org_id, slot_id, limit)
        if shared is None:
            if self.open_count(org_id) >= limit:
                self._reject(org_id, limit)
            self._local.setdefault(org_id, set()).add(slot_id)
            slot = ConnectionSlot(org_id, slot_id, shared=False)
            if self._redis is not None:
                # Redis is down: the refresher writes the slot back once it returns.
                self._ensure_refresher()
        elif shared:
            self._shared.setdefault(org_id, set()).add(slot_id)
            self._ensure_refresher()
            slot = ConnectionSlot(org_id, slot_id, shared=True)
        else:
            self._reject(org_id, limit)
        from ..monitoring import metrics

        metrics.websocket_connections.inc()
        return slot

    def _reject(self, org_id: str, limit: int) -> None:
        from ..monitoring import metrics

        metrics.rate_limit_rejections.labels(limit="websocketConnections").inc()
        connections = "connection" if limit == 1 else "connections"
        raise RateLimited(
            f"the organization already has {limit} open WebSocket {connections}, its limit; "
            "close one or retry later",
            details={
                "limit": limit,
                "name": "websocketConnections",
                "retryAfter": RETRY_AFTER_SECONDS,
            },
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    async def _acquire_shared(self, org_id: str, slot_id: str, limit: int) -> bool | None:
        """Return True/False from Redis, or None when Redis is not used or not reachable."""
        if self._redis is None:
            return None
        now = int(time.time() * 1000)
        try:
            result = await self._acquire_script(
                keys=[self._key(org_id)],
                args=[now, now + SLOT_TTL_SECONDS * 1000, limit, slot_id, SLOT_TTL_SECONDS * 2000],
            )
        except Exception as error:  # redis-py raises several unrelated types
            self._outages.failure(
                _COUNT_FAILED,
                _COUNT_FAILED,
                extra={"error": str(error)[:200], "organization_id": org_id},
            )
            return None
        self._outages.recovery(
            _COUNT_FAILED, "redis WebSocket connection counts recovered; limits are shared again"
        )
        return bool(result)

    async def release(self, slot: ConnectionSlot) -> None:
        """Give back ``slot``; releasing a slot twice is harmless.

        A slot acquired while Redis was down may have been written to Redis
        since, so both sets of this process are looked up.
        """
        shared = slot.id in self._shared.get(slot.org_id, ())
        held = (self._shared if shared else self._local).get(slot.org_id)
        if held is None or slot.id not in held:
            return
        held.discard(slot.id)
        from ..monitoring import metrics

        metrics.websocket_connections.dec()
        if shared:
            try:
                await self._redis.zrem(self._key(slot.org_id), slot.id)
            except Exception as error:
                self._outages.failure(
                    _RELEASE_FAILED,
                    _RELEASE_FAILED,
                    extra={"error": str(error)[:200], "organization_id": slot.org_id},
                )
                return
            self._outages.recovery(_RELEASE_FAILED, "redis WebSocket connection releases recovered")

    @contextlib.asynccontextmanager
    async def slot(self, org_id: str) -> AsyncIterator[ConnectionSlot]:
        """Hold a slot for the duration of the ``async with`` block."""
        claimed = await self.acquire(org_id)
        try:
            yield claimed
        finally:
            await self.release(claimed)

    def _ensure_refresher(self) -> None:
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        while any(self._shared.values()) or any(self._local.values()):
            await asyncio.sleep(REFRESH_SECONDS)
            await self.refresh()

    async def refresh(self) -> None:
        """Push the expiry of every slot of this process's sockets in Redis forward.

        A slot missing in Redis (a restart without its data, a flush) is
        written again, so the open sockets count toward the limit once more.
        A slot acquired while Redis was down is written too and counts as
        shared from then on. Such slots may put the organization over its
        limit until enough sockets close, because open sockets are not closed.
        """
        if self._redis is None:
            return
        expiry = int(time.time() * 1000) + SLOT_TTL_SECONDS * 1000
        renewed = {org_id: set(slot_ids) for org_id, slot_ids in self._shared.items() if slot_ids}
        local = {org_id: set(slot_ids) for org_id, slot_ids in self._local.items() if slot_ids}
        if not renewed and not local:
            return
        written = {
            org_id: renewed.get(org_id, set()) | local.get(org_id, set())
            for org_id in renewed.keys() | local.keys()
        }
        try:
            pipe = self._redis.pipeline(transaction=False)
            for org_id, slot_ids in written.items():
                pipe.zadd(self._key(org_id), dict.fromkeys(slot_ids, expiry))
                pipe.pexpire(self._key(org_id), SLOT_TTL_SECONDS * 2000)
            await pipe.execute()
        except Exception as error:
            self._outages.failure(
                _REFRESH_FAILED, _REFRESH_FAILED, extra={"error": str(error)[:200]}
            )
            return
        self._outages.recovery(
            _REFRESH_FAILED, "redis WebSocket connection lease refresh recovered"
        )
        moved = self._share_local(local)
        if moved:
            log.info(
                "WebSocket connections accepted while redis was down now count in redis",
                extra={"connections": moved},
            )
        try:
            # A slot released while the pipeline ran may have been removed
            # before it was written again, so remove it once more.
            for org_id, slot_ids in written.items():
                released = slot_ids - self._shared.get(org_id, set())
                if released:
                    await self._redis.zrem(self._key(org_id), *released)
        except Exception as error:
            self._outages.failure(
                _RELEASE_FAILED, _RELEASE_FAILED, extra={"error": str(error)[:200]}
            )

    def _share_local(self, written: dict[str, set[str]]) -> int:
        """Count the local slots that a refresh wrote to Redis as shared; return how many."""
        moved = 0
        for org_id, slot_ids in written.items():
            still_open = self._local.get(org_id, set()) & slot_ids
            if not still_open:
                continue
            self._local[org_id] -= still_open
            self._shared.setdefault(org_id, set()).update(still_open)
            moved += len(still_open)
        return moved

    async def ping(self) -> None:
        if self._redis is not None:
            await self._redis.ping()

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
        if self._redis is not None:
            for org_id, slot_ids in self._shared.items():
                if slot_ids:
                    with contextlib.suppress(Exception):
                        await self._redis.zrem(self._key(org_id), *slot_ids)
            self._shared.clear()
            with contextlib.suppress(Exception):
                await self._redis.aclose()
