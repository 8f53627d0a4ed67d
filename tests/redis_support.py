"""The Redis server the tests use, from ``CAMPFIRE_TEST_REDIS_URL``."""

from __future__ import annotations

import os
import secrets

import redis

REDIS_URL = os.environ.get("CAMPFIRE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# The start of every key prefix this test session gives a server or a client,
# so that the session deletes the keys it stored and no other run's.
SESSION_PREFIX = f"test{os.getpid()}{secrets.token_hex(3)}"
# The (Redis URL, key prefix) pairs whose keys the session deletes when it ends.
_namespaces: set[tuple[str, str]] = set()


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


def claim_namespace(name: str = "", url: str = REDIS_URL) -> str:
    """Return a key prefix of this session on ``url``, deleted when the session ends.

    Without ``name`` every caller gets the session's shared prefix, so that
    servers started apart still hear each other. With it the prefix is new.
    """
    prefix = f"{SESSION_PREFIX}-{name}{secrets.token_hex(3)}" if name else SESSION_PREFIX
    _namespaces.add((url, prefix))
    return prefix


def delete_namespace(prefix: str, url: str = REDIS_URL) -> int:
    """Delete every key of the namespace ``prefix`` on ``url``; return how many."""
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*"))
        return client.delete(*keys) if keys else 0
    finally:
        client.close()


def delete_claimed_namespaces() -> int:
    """Delete the keys of every namespace claimed so far; return how many.

    A Redis server that is gone (a private one the test stopped) has
    nothing left to delete, so it is skipped.
    """
    deleted = 0
    for url, prefix in sorted(_namespaces):
        try:
            deleted += delete_namespace(prefix, url)
        except redis.RedisError:
            continue
    _namespaces.clear()
    return deleted
