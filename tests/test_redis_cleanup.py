"""A test session deletes the Redis keys that its servers and clients stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from tests.resilience.services import PrivateRedis

ROOT = Path(__file__).parents[1]
# A test whose two servers share Redis, with a 6 s lease, so their presence
# sweeps run every 2 s and store the keys that have no expiry.
SCALED_TEST = "tests/realtime/test_scaled_redis_loss.py::test_away_agent_stays_away_after_loss"


def test_session_deletes_redis_keys(tmp_path, postgres_available):
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    server = PrivateRedis(tmp_path)
    server.start()
    client = redis.Redis.from_url(server.url, socket_connect_timeout=2)
    try:
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", SCALED_TEST],
            cwd=ROOT,
            env={**os.environ, "CAMPFIRE_TEST_REDIS_URL": server.url},
            capture_output=True,
            text=True,
            timeout=300,
        )

        assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
        assert "1 passed" in run.stdout
        assert sorted(client.scan_iter()) == []
    finally:
        client.close()
        server.stop()
