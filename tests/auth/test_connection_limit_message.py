"""The socket-limit rejection words its count in the right number."""

from __future__ import annotations

import pytest

from campfire_server.auth.connections import ConnectionLimiter
from campfire_server.errors import RateLimited


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        (1, "the organization already has 1 open WebSocket connection, its limit"),
        (2, "the organization already has 2 open WebSocket connections, its limit"),
    ],
)
async def test_socket_limit_message_plural(limit: int, expected: str) -> None:
    async def limit_for(org_id: str) -> int:
        return limit

    limiter = ConnectionLimiter(None, limit_for)
    slots = [await limiter.acquire("org_plural") for _ in range(limit)]

    with pytest.raises(RateLimited) as caught:
        await limiter.acquire("org_plural")

    assert str(caught.value).startswith(expected), str(caught.value)
    assert len(slots) == limit


async def test_socket_limit_retry_hint() -> None:
    async def limit_for(org_id: str) -> int:
        return 1

    limiter = ConnectionLimiter(None, limit_for)
    slot = await limiter.acquire("org_retry")

    with pytest.raises(RateLimited) as caught:
        await limiter.acquire("org_retry")

    assert caught.value.details["retryAfter"] == 5
    assert caught.value.headers["Retry-After"] == "5"
    assert slot.org_id == "org_retry"
