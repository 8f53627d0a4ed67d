"""The Redis server the tests use, from ``CAMPFIRE_TEST_REDIS_URL``."""

from __future__ import annotations

import os

import redis

REDIS_URL = os.environ.get("CAMPFIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable(url: str = REDIS_URL) -> bool:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


def redis_url_for_db(number: int, url: str = REDIS_URL) -> str:
    """Return ``url`` pointed at database ``number`` of the same server."""
    base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
    return f"{base}/{number}"
