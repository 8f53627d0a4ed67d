"""Fixtures of the routing tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from campfire_server import clock
from campfire_server.routing import service
from campfire_server.routing.rules import RoutingPolicy


@pytest.fixture
def policy(app: object) -> Iterator[object]:
    """Let a test install its own routing policy; the previous one is restored afterwards.

    It depends on ``app`` because creating an application installs the
    policy of its settings.
    """
    previous = service.current_policy()
    yield lambda **values: service.configure(RoutingPolicy(**values))
    service.configure(previous)


@pytest.fixture
def frozen_clock() -> Iterator[clock.FrozenClock]:
    """Freeze the clock at a fixed instant for the test, then restore the real one."""
    frozen = clock.FrozenClock(1_767_225_600_000)  # 2026-01-01T00:00:00Z
    previous = clock.set_clock(frozen)
    yield frozen
    clock.set_clock(previous)
