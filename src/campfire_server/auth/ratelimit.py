"""Rate limits: fixed one-minute windows counted in memory or in Redis.

With ``CAMPFIRE_REDIS_URL`` set, every process counts in the same Redis
keys, so a limit applies across the whole deployment. When Redis fails, each
process falls back to its own in-memory counters and keeps serving. It
tries Redis again every few seconds, and ``OutageLog`` logs the outage's
first failure, at most one reminder a minute, and the recovery.

Limits (defaults from the settings, overridable per organization in
``organizations.settings["rateLimits"]``):

* ``requestsPerMinute`` per API key or token subject, and per client IP
  address for a request whose route checks no credential, or whose
  credential is missing or invalid;
* ``messagesPerMinute`` per conversation;
* ``websocketConnections`` open at once per organization (see ``connections``);
* ``widgetSessionsPerMinute`` per client IP address;
* ``loginAttemptsPerMinute`` (inbox sign-ins) per client IP address;
* ``helpCentrePagesPerMinute`` (``/kb/{articleId}`` views) per client IP
  address. Like sign-ins it is not overridable, because the organization is
  unknown before the lookup that the limit protects.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.errors import StorageError

from .. import clock
from ..config import Settings
from ..db.database import Database
from ..errors import RateLimited
from ..outage_log import OutageLog
from ..redis_namespace import DEFAULT_PREFIX, RedisNamespace
from .connections import REDIS_TIMEOUT_SECONDS, ConnectionLimiter

log = logging.getLogger(__name__)

REQUESTS = "requestsPerMinute"
MESSAGES = "messagesPerMinute"
WEBSOCKETS = "websocketConnections"
WIDGET_SESSIONS = "widgetSessionsPerMinute"
LOGINS = "loginAttemptsPerMinute"
HELP_CENTRE_PAGES = "helpCentrePagesPerMinute"

# How long a process counts in memory after a Redis failure before it tries Redis again.
REDIS_RETRY_SECONDS = 5.0
# How long a process trusts its cached copy of an organization's overrides.
ORG_SETTINGS_TTL_SECONDS = 30.0

_STORAGE_ERRORS = (StorageError, ConnectionError, OSError, TimeoutError)
# The log message of a failed Redis counter, and its outage key.
_REDIS_UNAVAILABLE = "redis unavailable; rate limits fall back to per-process counters"


def _now() -> float:
    """Return the current time in epoch seconds from ``clock``, so tests can freeze it."""
    return clock.now_ms() / 1000


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one hit on one limit."""

    name: str
    limit: int
    remaining: int
    reset_at: float
    allowed: bool

    def retry_after(self) -> int:
        """Whole seconds until the window resets, from 1 to 60."""
        return min(60, max(1, math.ceil(self.reset_at - _now())))

    def headers(self) -> dict[str, str]:
        """Return the rate headers, with the reset as a Unix second in (now, now + 60]."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self._reset_second()),
        }

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """Return ``headers()`` as ASGI header pairs, with lowercase names."""
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self._reset_second()).encode()),
        ]

    def _reset_second(self) -> int:
        now = int(_now())
        return min(max(math.ceil(self.reset_at), now + 1), now + 60)

    def raise_if_exceeded(self) -> None:
        """Raise ``RateLimited`` with ``Retry-After`` and the rate headers when not allowed."""
        if self.allowed:
            return
        from ..monitoring import metrics

        metrics.rate_limit_rejections.labels(limit=self.name).inc()
        retry = self.retry_after()
        raise RateLimited(
            f"rate limit of {self.limit} {_UNITS.get(self.name, 'requests per minute')} "
            f"exceeded; retry in {retry} s",
            details={"limit": self.limit, "name": self.name, "retryAfter": retry},
            headers={"Retry-After": str(retry), **self.headers()},
        )


_UNITS = {
    REQUESTS: "requests per minute",
    MESSAGES: "messages per minute in this conversation",
    WIDGET_SESSIONS: "widget sessions per minute from this address",
    LOGINS: "sign-in attempts per minute from this address",
    HELP_CENTRE_PAGES: "help-centre pages per minute from this address",
}


class _MemoryWindows:
    """Fixed windows in a dict of ``key -> [window end, count]``, for one event loop.

    A window starts at a key's first hit, as in Redis, where the first
    increment sets the expiry. Ended windows are swept at most once a window.
    """

    def __init__(self) -> None:
        self._windows: dict[tuple[str, int], list[float]] = {}
        self._next_sweep = 0.0

    def hit(self, item: RateLimitItemPerMinute, key: str) -> tuple[bool, float, int]:
        now = _now()
        # A changed limit starts a new window rather than inheriting the old count.
        full_key = (key, item.amount)
        window = self._windows.get(full_key)
        if window is None or window[0] <= now:
            if now >= self._next_sweep:
                self._sweep(now, item.get_expiry())
            window = self._windows[full_key] = [now + item.get_expiry(), 0]
        window[1] += 1
        count = int(window[1])
        return count <= item.amount, window[0], max(0, item.amount - count)

    def _sweep(self, now: float, seconds: int) -> None:
        self._windows = {key: w for key, w in self._windows.items() if w[0] > now}
        self._next_sweep = now + seconds


class _Counters:
    """Fixed-window counters in Redis, with per-process memory as the fallback."""

    def __init__(
        self,
        redis_url: str | None,
        redis_prefix: str = DEFAULT_PREFIX,
        redis_timeout: float = REDIS_TIMEOUT_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._memory = _MemoryWindows()
        self._monotonic = monotonic
        self._outages = OutageLog(log, monotonic=monotonic)
        self._redis: FixedWindowRateLimiter | None = None
        if redis_url:
            storage = RedisStorage(
                "async+" + redis_url,
                implementation="redispy",
                wrap_exceptions=True,
                key_prefix=RedisNamespace(redis_prefix).key("ratelimit"),
                socket_timeout=redis_timeout,
                socket_connect_timeout=redis_timeout,
            )
            self._redis = FixedWindowRateLimiter(storage)
        self._retry_redis_at = 0.0
        self._degraded = False
        # storage id -> counter key -> epoch seconds at which its window ends.
        self._resets: dict[int, dict[str, float]] = {}

    @property
    def degraded(self) -> bool:
        return self._degraded

    async def hit(self, item: RateLimitItemPerMinute, key: str) -> tuple[bool, float, int]:
        if self._redis is not None and self._monotonic() >= self._retry_redis_at:
            try:
                result = await self._hit(self._redis, item, key)
            except _STORAGE_ERRORS as error:
                self._outages.failure(
                    _REDIS_UNAVAILABLE, _REDIS_UNAVAILABLE, extra={"error": str(error)[:200]}
                )
                self._degraded = True
                self._retry_redis_at = self._monotonic() + REDIS_RETRY_SECONDS
            else:
                self._outages.recovery(
                    _REDIS_UNAVAILABLE, "redis reachable again; rate limits are shared again"
                )
                self._degraded = False
                return result
        return self._memory.hit(item, key)

    async def _hit(
        self, limiter: FixedWindowRateLimiter, item: RateLimitItemPerMinute, key: str
    ) -> tuple[bool, float, int]:
        # One round trip in the steady state: the counter's increment. The window's
        # end only changes when a new window starts, so each process remembers it
        # instead of asking for the count and the expiry again, as the limiter's
        # hit() followed by get_window_stats() would (three round trips).
        storage = limiter.storage
        full_key = item.key_for(key)
        count = await storage.incr(full_key, item.get_expiry())
        resets = self._resets.setdefault(id(storage), {})
        reset_at = resets.get(full_key)
        if reset_at is None or reset_at <= time.time() or count == 1:
            reset_at = await storage.get_expiry(full_key)
            if len(resets) > 100_000:
                resets.clear()
            resets[full_key] = reset_at
        return count <= item.amount, reset_at, max(0, item.amount - count)

    async def close(self) -> None:
        if self._redis is not None:
            # limits has no public close; its redis-py client sits on the bridge.
            bridge = getattr(self._redis.storage, "bridge", None)
            client = getattr(bridge, "storage", None)
            if client is not None and hasattr(client, "aclose"):
                try:
                    await client.aclose()
                except _STORAGE_ERRORS:
                    pass


class RateLimits:
    """Every limit of one process; ``app.state.rate_limits`` contains the instance."""

    def __init__(
        self,
        settings: Settings,
        db: Database | None = None,
        *,
        redis_timeout: float = REDIS_TIMEOUT_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Build the limits of ``settings``.

        ``redis_timeout`` is how many seconds one Redis call may take before
        the limits fall back to counting in this process. ``monotonic`` times
        the retries of a failed Redis and the log lines of its outage.
        """
        self.settings = settings
        self.db = db
        self._counters = _Counters(
            settings.redis_url, settings.redis_prefix, redis_timeout, monotonic
        )
        self._items: dict[int, RateLimitItemPerMinute] = {}
        self._org_cache: dict[str, tuple[float, dict[str, int]]] = {}
        self.connections = ConnectionLimiter(
            settings.redis_url,
            self.connection_limit,
            redis_prefix=settings.redis_prefix,
            redis_timeout=redis_timeout,
        )

    @property
    def degraded(self) -> bool:
        """Whether Redis failed and counters are per process for now."""
        return self._counters.degraded

    def defaults(self) -> dict[str, int]:
        return {
            REQUESTS: self.settings.rate_limit_requests_per_minute,
            MESSAGES: self.settings.rate_limit_messages_per_minute,
            WEBSOCKETS: self.settings.rate_limit_websocket_connections,
            WIDGET_SESSIONS: self.settings.rate_limit_widget_sessions_per_minute,
            LOGINS: self.settings.rate_limit_login_attempts_per_minute,
            HELP_CENTRE_PAGES: self.settings.rate_limit_help_centre_pages_per_minute,
        }

    async def limits_for(self, org_id: str | None) -> dict[str, int]:
        """Return the defaults merged with ``org_id``'s overrides (cached briefly)."""
        limits = self.defaults()
        if org_id is None or self.db is None:
            return limits
        cached = self._org_cache.get(org_id)
        if cached is None or cached[0] < time.monotonic():
            overrides = await self.db.lookup(lambda tx: _org_overrides(tx, org_id))
            if len(self._org_cache) > 10_000:
                self._org_cache.clear()
            cached = (time.monotonic() + ORG_SETTINGS_TTL_SECONDS, overrides)
            self._org_cache[org_id] = cached
        limits.update(cached[1])
        return limits

    def forget_org(self, org_id: str) -> None:
        """Drop the cached overrides of ``org_id`` after they changed in this process."""
        self._org_cache.pop(org_id, None)

    async def hit(self, name: str, limit: int, key: str) -> Decision:
        """Count one event against ``key`` under a ``limit`` per minute."""
        item = self._items.get(limit)
        if item is None:
            item = self._items[limit] = RateLimitItemPerMinute(limit)
        allowed, reset_at, remaining = await self._counters.hit(item, f"{name}:{key}")
        return Decision(name, limit, remaining, reset_at, allowed)

    async def hit_request(self, rate_limit_key: str, org_id: str | None) -> Decision:
        limits = await self.limits_for(org_id)
        return await self.hit(REQUESTS, limits[REQUESTS], rate_limit_key)

    async def hit_message(self, org_id: str, conversation_id: str) -> Decision:
        limits = await self.limits_for(org_id)
        return await self.hit(MESSAGES, limits[MESSAGES], f"{org_id}:{conversation_id}")

    async def hit_widget_session(self, org_id: str, client_ip: str) -> Decision:
        limits = await self.limits_for(org_id)
        return await self.hit(WIDGET_SESSIONS, limits[WIDGET_SESSIONS], client_ip)

    async def hit_login(self, client_ip: str) -> Decision:
        """Count one sign-in attempt from ``client_ip``, before its organization is known."""
        limits = self.defaults()
        return await self.hit(LOGINS, limits[LOGINS], client_ip)

    async def hit_help_centre_page(self, client_ip: str) -> Decision:
        """Count one help-centre page view from ``client_ip``, before its article is looked up."""
        limits = self.defaults()
        return await self.hit(HELP_CENTRE_PAGES, limits[HELP_CENTRE_PAGES], client_ip)

    async def connection_limit(self, org_id: str) -> int:
        return (await self.limits_for(org_id))[WEBSOCKETS]

    async def ping_redis(self) -> None:
        """Raise when Redis is configured and does not answer (used by /readyz)."""
        await self.connections.ping()

    async def close(self) -> None:
        await self.connections.close()
        await self._counters.close()


def _org_overrides(tx: Any, org_id: str) -> dict[str, int]:
    raw = tx.value("SELECT settings FROM organizations WHERE id = :id", id=org_id)
    try:
        settings = json.loads(raw or "{}")
    except ValueError:
        return {}
    overrides = settings.get("rateLimits") if isinstance(settings, dict) else None
    if not isinstance(overrides, dict):
        return {}
    return {
        name: value
        for name, value in overrides.items()
        if name in (REQUESTS, MESSAGES, WEBSOCKETS, WIDGET_SESSIONS)
        and isinstance(value, int)
        and value >= 1
    }
