"""Fixtures shared by the resilience tests."""

from __future__ import annotations

import pytest

from .services import PrivateRedis


@pytest.fixture
def private_redis(tmp_path):
    """A redis-server of the test's own, which the test may stop and start."""
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()
