"""Cost of one rate-limit check, in memory and in Redis, beside a bare coroutine call.

Runs ``RateLimits.hit_request`` N times on one event loop and prints the
mean time per call. Redis must listen on 127.0.0.1:6379; the script uses
database 13 and flushes it before and after. Usage:
``python bench/ratelimit.py [--calls N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time

import redis

from campfire_server.auth.ratelimit import RateLimits
from campfire_server.config import Settings

REDIS_URL = "redis://127.0.0.1:6379/13"


async def _noop(key: str, org_id: None) -> None:
    return None


async def timed(call, calls: int) -> float:
    started = time.perf_counter()
    for index in range(calls):
        await call(f"key:bench{index % 100}", None)
    return (time.perf_counter() - started) / calls


async def main(calls: int) -> None:
    database_url = f"sqlite:///{tempfile.mkdtemp()}/unused.db"
    baseline = await timed(_noop, calls)
    memory = RateLimits(Settings(env="development", database_url=database_url))
    in_memory = await timed(memory.hit_request, calls)
    await memory.close()

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    shared = RateLimits(Settings(env="development", database_url=database_url, redis_url=REDIS_URL))
    in_redis = await timed(shared.hit_request, calls)
    await shared.close()
    client.flushdb()

    print(f"calls: {calls}")
    print(f"bare coroutine call: {baseline * 1e6:8.2f} us")
    print(f"memory limiter:      {in_memory * 1e6:8.2f} us  ({in_memory / baseline:.0f}x)")
    print(f"redis limiter:       {in_redis * 1e6:8.2f} us  ({in_redis / baseline:.0f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="checks per variant")
    asyncio.run(main(parser.parse_args().calls))
