"""Names of the Redis keys and pub/sub channels of one deployment.

Keys live in the Redis database that ``CAMPFIRE_REDIS_URL`` selects, so two
deployments on different database numbers never share one. Pub/sub
channels are global to the Redis server and ignore the database number, so
every channel name carries it. ``CAMPFIRE_REDIS_PREFIX`` starts every key
and channel name, for deployments that share one database.
"""

from __future__ import annotations

from dataclasses import dataclass

from redis.connection import parse_url

DEFAULT_PREFIX = "campfire"


@dataclass(frozen=True, slots=True)
class RedisNamespace:
    """The prefix and database number that every key and channel name of a deployment uses."""

    prefix: str = DEFAULT_PREFIX
    database: int = 0

    @classmethod
    def for_url(cls, redis_url: str, prefix: str = DEFAULT_PREFIX) -> RedisNamespace:
        """Return the namespace of the database that ``redis_url`` selects, 0 by default."""
        database = parse_url(redis_url).get("db")
        return cls(prefix, int(database or 0))

    def key(self, *parts: str) -> str:
        """Return the name of a key, such as ``campfire:ws:org_1``."""
        return ":".join((self.prefix, *parts))

    def channel(self, name: str) -> str:
        """Return the name of a pub/sub channel, such as ``campfire:db0:realtime``."""
        return f"{self.prefix}:db{self.database}:{name}"
