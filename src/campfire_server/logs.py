"""Logging setup: one JSON object per line, with request context from contextvars."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from typing import Any

from .errors import ServiceUnavailable

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)
organization_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "organization_id", default=None
)

_CONTEXT_FIELDS = ("request_id", "organization_id")
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
}


class ContextFilter(logging.Filter):
    """Copy the request id and organization id of the current context onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        if not hasattr(record, "organization_id"):
            record.organization_id = organization_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and value is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = [
            f"{key}={value}"
            for key, value in vars(record).items()
            if key not in _STANDARD_ATTRIBUTES and value is not None
        ]
        return line + (" " + " ".join(extras) if extras else "")


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every ``campfire_server`` log record to standard error in ``fmt``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    root = logging.getLogger()
    root.handlers[:] = [handler]
    # Python warnings, such as PyJWT's InsecureKeyLengthWarning, become one
    # record of the py.warnings logger in the same format, not raw stderr text.
    logging.captureWarnings(True)
    root.setLevel(level.upper())
    # uvicorn's own access log would duplicate our per-request line.
    logging.getLogger("uvicorn.access").disabled = True
    # httpx logs the full URL of every request at INFO, and webhook URLs may
    # carry a secret in their query string, so only its warnings are kept.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def log_retried_failure(
    logger: logging.Logger,
    message: str,
    error: BaseException,
    *,
    retry: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Log a failed step of a background task that runs the step again by itself.

    ``retry`` names what runs again and when ("the claim in 1 s"). A
    dependency that cannot serve for now (``ServiceUnavailable``, such as a
    database outage) is expected to pass, so it gets one WARNING line without
    a traceback. Any other exception is unexpected and gets ERROR with its
    traceback.
    """
    fields = {**(extra or {}), "retry": retry}
    if isinstance(error, ServiceUnavailable):
        fields["error"] = error.message
        logger.warning("%s; retrying %s", message, retry, extra=fields)
        return
    logger.error("%s; retrying %s", message, retry, exc_info=error, extra=fields)


class RetriedFailureEpisodes:
    """Log a background step that fails and runs again, once per outage.

    A step that retries every few seconds through an outage would otherwise
    log the same line each time. The first ``ServiceUnavailable`` of a run
    of failures is logged as ``log_retried_failure`` logs it, the repeats
    are not, and the first success afterwards logs ``recovered`` at INFO
    with the number of failed attempts. Unexpected errors are logged every time,
    with their traceback, because each one may be a different bug.
    """

    def __init__(self, logger: logging.Logger, message: str, *, retry: str, recovered: str) -> None:
        self.logger = logger
        self.message = message
        self.retry = retry
        self.recovered = recovered
        self.failures = 0

    def failed(self, error: BaseException) -> None:
        """Count a failed attempt and log it unless the outage was already logged."""
        self.failures += 1
        if self.failures == 1 or not isinstance(error, ServiceUnavailable):
            log_retried_failure(self.logger, self.message, error, retry=self.retry)

    def succeeded(self) -> None:
        """End the run of failures, if any, with one line saying the step works again."""
        if self.failures:
            self.logger.info(self.recovered, extra={"failures": self.failures})
        self.failures = 0
