"""A Redis outage during the presence sweep is logged once, and so is the recovery."""

from __future__ import annotations

import logging

import pytest

from campfire_server.realtime.runtime import RealtimeService
from tests.conftest import test_settings as make_settings

SWEEP_LOGGER = "campfire_server.realtime.runtime"


def sweep_records(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if "presence sweep" in record.getMessage()]


async def test_presence_sweep_logs_outage_once(db, backend, private_redis, caplog):
    if backend != "sqlite":
        pytest.skip("the sweep's logging does not depend on the database engine")
    caplog.set_level(logging.INFO, logger=SWEEP_LOGGER)
    service = RealtimeService(make_settings(db.url, redis_url=private_redis.url), db)
    try:
        await service.run_presence_sweep()
        assert sweep_records(caplog) == []

        private_redis.stop()
        for _ in range(3):
            await service.run_presence_sweep()

        [warning] = sweep_records(caplog)
        assert warning.levelno == logging.WARNING
        assert warning.exc_info is None
        assert warning.getMessage() == (
            "realtime presence sweep failed; retrying the presence sweep every "
            f"{service.broker.sweep_seconds:g} s"
        )
        assert "Redis at" in warning.error
        assert "unavailable" in warning.error

        private_redis.start()
        await service.run_presence_sweep()
        await service.run_presence_sweep()

        [_, recovered] = sweep_records(caplog)
        assert recovered.levelno == logging.INFO
        assert recovered.getMessage() == "realtime presence sweep recovered"
        assert recovered.failures == 3
    finally:
        await service.broker.stop()
