"""Counting of failures that repeat during an outage, and the lines that are kept."""

from __future__ import annotations

import logging

from campfire_server.errors import ServiceUnavailable
from campfire_server.logs import log_retried_failure
from campfire_server.outage_log import OutageLog

LOGGER = logging.getLogger("campfire_server.tests.outages")


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_repeats_within_minute_are_counted(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    clock = Clock()
    outages = OutageLog(LOGGER, monotonic=clock)

    written = []
    for second in range(0, 60, 5):
        clock.now = float(second)
        written.append(outages.failure("hook_a", "attempt failed", extra={"delivery_id": second}))
    clock.now = 62.0
    written.append(outages.failure("hook_a", "attempt failed", extra={"delivery_id": 62}))

    assert written == [True] + [False] * 11 + [True]
    assert [record.getMessage() for record in caplog.records] == [
        "attempt failed",
        "attempt failed (12 failures in the last 62 s)",
    ]
    assert caplog.records[0].delivery_id == 0
    assert caplog.records[1].delivery_id == 62
    assert caplog.records[1].failures == 13
    assert caplog.records[1].outage_seconds == 62.0


def test_keys_have_separate_outages(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    outages = OutageLog(LOGGER, monotonic=Clock())

    outages.failure("hook_a", "attempt failed", extra={"webhook_id": "hook_a"})
    outages.failure("hook_b", "attempt failed", extra={"webhook_id": "hook_b"})
    outages.failure("hook_a", "attempt failed", extra={"webhook_id": "hook_a"})

    assert [record.webhook_id for record in caplog.records] == ["hook_a", "hook_b"]


def test_recovery_logs_once_and_resets(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    clock = Clock()
    outages = OutageLog(LOGGER, monotonic=clock)

    assert outages.recovery("hook_a", "endpoint recovered") is False
    outages.failure("hook_a", "attempt failed")
    outages.failure("hook_a", "attempt failed")
    clock.now = 30.0
    assert outages.recovery("hook_a", "endpoint recovered", extra={"webhook_id": "hook_a"})
    assert outages.recovery("hook_a", "endpoint recovered") is False
    outages.failure("hook_a", "attempt failed")

    messages = [record.getMessage() for record in caplog.records]
    assert messages == ["attempt failed", "endpoint recovered", "attempt failed"]
    recovered = caplog.records[1]
    assert recovered.levelno == logging.INFO
    assert recovered.failures == 2
    assert recovered.outage_seconds == 30.0
    assert recovered.webhook_id == "hook_a"


def test_idle_outage_is_forgotten(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    clock = Clock()
    outages = OutageLog(LOGGER, idle_seconds=600.0, monotonic=clock)

    outages.failure("hook_gone", "attempt failed")
    clock.now = 700.0
    outages.failure("hook_other", "attempt failed")

    assert outages.recovery("hook_gone", "endpoint recovered") is False
    assert len(caplog.records) == 2


def test_retried_failure_counts_unexpected_errors(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    clock = Clock()
    outages = OutageLog(LOGGER, monotonic=clock)

    for second in (0.0, 1.0, 61.0):
        clock.now = second
        try:
            raise KeyError("status")
        except KeyError as error:
            log_retried_failure(
                LOGGER, "worker could not claim", error, retry="the claim in 1 s", outages=outages
            )
    clock.now = 62.0
    log_retried_failure(
        LOGGER,
        "worker could not claim",
        ServiceUnavailable("the database is unavailable; retry the request shortly"),
        retry="the claim in 1 s",
        outages=outages,
    )

    first, summary = caplog.records
    assert first.levelno == logging.ERROR
    assert first.getMessage() == "worker could not claim; retrying the claim in 1 s"
    assert first.exc_info is not None
    assert first.error == "KeyError: 'status'"
    assert summary.getMessage() == (
        "worker could not claim; retrying the claim in 1 s (2 failures in the last 61 s)"
    )
    assert summary.exc_info is None
    assert summary.error == "KeyError: 'status'"
