"""How background tasks log a failed step that they run again by themselves."""

from __future__ import annotations

import logging

from campfire_server.errors import ServiceUnavailable
from campfire_server.logs import RetriedFailureEpisodes, log_retried_failure

LOGGER = logging.getLogger("campfire_server.tests.retried")


def test_outage_logs_one_warning(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    error = ServiceUnavailable("the database is unavailable; retry the request shortly")

    log_retried_failure(LOGGER, "worker could not claim", error, retry="the claim in 1 s")

    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "worker could not claim; retrying the claim in 1 s"
    assert record.exc_info is None
    assert record.error == "the database is unavailable; retry the request shortly"
    assert record.retry == "the claim in 1 s"


def test_unexpected_error_logs_traceback(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    try:
        raise KeyError("status")
    except KeyError as error:
        log_retried_failure(
            LOGGER, "worker could not claim", error, retry="the claim in 1 s", extra={"n": 2}
        )

    assert len(caplog.records) == 1
    record = caplog.records[0]
    assert record.levelno == logging.ERROR
    assert record.exc_info is not None
    assert record.exc_info[0] is KeyError
    assert record.n == 2


def test_episodes_log_each_unexpected_error(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger=LOGGER.name)
    episodes = RetriedFailureEpisodes(
        LOGGER, "sweep failed", retry="the sweep every 10 s", recovered="sweep recovered"
    )

    episodes.failed(ServiceUnavailable("Redis is unavailable"))
    episodes.failed(ServiceUnavailable("Redis is unavailable"))
    episodes.failed(KeyError("agents"))
    episodes.succeeded()
    episodes.succeeded()

    levels = [record.levelno for record in caplog.records]
    assert levels == [logging.WARNING, logging.ERROR, logging.INFO]
    assert caplog.records[1].exc_info is not None
    assert caplog.records[2].getMessage() == "sweep recovered"
    assert caplog.records[2].failures == 3
