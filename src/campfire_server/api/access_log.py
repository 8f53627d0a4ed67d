"""The request id of an HTTP request, and its one access log line and metrics update.

The request pipeline records every request that reaches the application.
The web server's protocol classes (``framing.py``, ``head_limits.py``)
respond to some requests themselves, because the parser rejects them, and
record those here too, so the log, ``/metrics`` and the client always
show the same status and ``X-Request-ID``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from .. import ids
from ..monitoring import metrics

log = logging.getLogger("campfire_server.access")

# The status logged for a request whose client closed the connection before
# any response was sent. No response carries it; nginx logs the same code.
CLIENT_CLOSED_REQUEST = 499

# The scope state key under which the web server's protocol class stores the
# status of a response that it sent in place of the application's.
SERVER_RESPONSE_STATUS = "server_response_status"

# The scope state key under which the reason for a rejection is stored, so
# the request's access line names it.
REJECTION_REASON = "rejection_reason"

# The method and route labels of a request that was rejected before its
# request line and headers were parsed.
UNPARSED = "<unparsed>"

_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


def claim_request_id(scope: Any) -> str:
    """Return the request id of ``scope``, choosing and storing it on the first call.

    The id is the client's ``X-Request-ID`` when it is sane, else a new one.
    """
    state = scope.setdefault("state", {})
    request_id = state.get("request_id")
    if request_id is None:
        request_id = state["request_id"] = _new_request_id(scope.get("headers", ()))
    return request_id


def _new_request_id(headers: Any) -> str:
    for key, value in headers:
        if key == b"x-request-id":
            supplied = value.decode("latin-1")
            if _SANE_REQUEST_ID.match(supplied):
                return supplied
            break
    return ids.new("request")


def record_request(
    method: str,
    route: str,
    status: int,
    seconds: float,
    request_id: str,
    organization_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Count one request in the metrics and write its access log line.

    ``reason`` is why the server rejected the request, and the line leaves
    it out when it is None. It must contain no secret.
    """
    metrics.observe_request(method, route, status, seconds)
    if log.isEnabledFor(logging.INFO):
        log.info(
            "request",
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 2),
                "request_id": request_id,
                "organization_id": organization_id,
                "reason": reason,
            },
        )


def record_unparsed_request(status: int, request_id: str, reason: str) -> None:
    """Record a request that the server rejected before parsing its request line and headers.

    NOTE: its duration is logged as 0, because the protocol classes do not
    time a request before its head is complete.
    """
    record_request(UNPARSED, UNPARSED, status, 0.0, request_id, reason=reason)
