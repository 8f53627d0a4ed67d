"""Logging setup: one JSON object per line, with request context from contextvars."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from typing import Any

from .errors import ServiceUnavailable
from .outage_log import OutageLog

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


# The messages (before formatting) of uvicorn 0.55 and websockets 17.4 lines on
# the "uvicorn.error" logger that repeat what the access line of the request
# or handshake records. The WebSocket ones also contain the query string, which
# may contain a token.
SERVER_DUPLICATE_MESSAGES = frozenset(
    {
        "Invalid HTTP request received.",
        '%s - "WebSocket %s" [accepted]',
        '%s - "WebSocket %s" 403',
        '%s - "WebSocket %s" %d',
        "connection open",
        "connection rejected (%d %s)",
        "HTTP response sent (%d %s)",
    }
)


class ServerDuplicateFilter(logging.Filter):
    """Drop the web server's lines that repeat an access line (``SERVER_DUPLICATE_MESSAGES``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg in SERVER_DUPLICATE_MESSAGES)


def quiet_web_server() -> None:
    """Disable uvicorn's access log and drop its other lines that repeat an access line.

    The request pipeline and the protocol classes write one access line per
    request, rejected request and WebSocket handshake.
    """
    logging.getLogger("uvicorn.access").disabled = True
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(item, ServerDuplicateFilter) for item in logger.filters):
        logger.addFilter(ServerDuplicateFilter())


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
    quiet_web_server()
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
    outages: OutageLog | None = None,
) -> None:
    """Log a failed step of a background task that runs the step again by itself.

    ``retry`` names what runs again and when ("the claim in 1 s"). A
    dependency that cannot serve for now (``ServiceUnavailable``, such as a
    database outage) is expected to pass, so it gets one WARNING line without
    a traceback. Any other exception is unexpected and gets ERROR with its
    traceback.

    With ``outages``, the failures are counted per ``message`` and logged
    through its logger, which writes the first failure of an outage and then
    at most one summary per interval. The caller reports the step's next
    success with ``outages.recovery(message, ...)``.
    """
    fields = {**(extra or {}), "retry": retry}
    expected = isinstance(error, ServiceUnavailable)
    if expected:
        fields["error"] = error.message
    if outages is not None:
        if not expected:
            # Summary lines carry no traceback, so they need the error's text.
            fields["error"] = f"{type(error).__name__}: {error}"
        outages.failure(
            message,
            f"{message}; retrying {retry}",
            level=logging.WARNING if expected else logging.ERROR,
            exc_info=None if expected else error,
            extra=fields,
        )
        return
    if expected:
        logger.warning("%s; retrying %s", message, retry, extra=fields)
        return
    logger.error("%s; retrying %s", message, retry, exc_info=error, extra=fields)
