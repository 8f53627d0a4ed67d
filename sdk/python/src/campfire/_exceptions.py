"""Exceptions raised by the Campfire SDK.

    CampfireError
    ├── APIConnectionError            the request never got an HTTP response
    │   └── APITimeoutError
    ├── APIError                      the server answered with an error envelope
    │   ├── ValidationError           400 VALIDATION_ERROR
    │   ├── AuthenticationError       401 AUTHENTICATION_ERROR
    │   ├── AuthorizationError        403 AUTHORIZATION_ERROR
    │   ├── NotFoundError             404 NOT_FOUND
    │   ├── MethodNotAllowedError     405 METHOD_NOT_ALLOWED
    │   ├── ConflictError             409 CONFLICT (and specific 409 codes)
    │   ├── PayloadTooLargeError      413 PAYLOAD_TOO_LARGE
    │   ├── UnsupportedMediaTypeError 415 UNSUPPORTED_MEDIA_TYPE
    │   ├── RateLimitError            429 RATE_LIMIT_EXCEEDED
    │   ├── InternalServerError       500 INTERNAL_ERROR
    │   └── ServiceUnavailableError   503 SERVICE_UNAVAILABLE
    ├── RealtimeError                 an error frame or close on the WebSocket
    └── WebhookVerificationError      a webhook delivery failed verification

An error code the SDK does not know maps by HTTP status, and to ``APIError``
itself when the status is unknown too.
"""

from __future__ import annotations

from typing import Any


class CampfireError(Exception):
    """Base class of every exception the SDK raises."""


class APIConnectionError(CampfireError):
    """The request failed before an HTTP response arrived (DNS, refused, reset)."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class APIError(CampfireError):
    """The API answered with an error.

    Attributes:
        status_code: HTTP status of the response.
        code: the stable error code of the envelope, such as ``VALIDATION_ERROR``.
        message: the server's explanation.
        details: ``field``, ``value`` and ``expected`` when they apply.
        request_id: the ``X-Request-ID`` of the failed request; quote it in support requests.
        headers: the response headers.
    """

    default_code = "API_ERROR"

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code or self.default_code
        self.details = details or {}
        self.request_id = request_id
        self.headers = headers or {}

    def __str__(self) -> str:
        suffix = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.status_code} {self.code}: {self.message}{suffix}"


class ValidationError(APIError):
    default_code = "VALIDATION_ERROR"


class AuthenticationError(APIError):
    default_code = "AUTHENTICATION_ERROR"


class AuthorizationError(APIError):
    default_code = "AUTHORIZATION_ERROR"


class NotFoundError(APIError):
    default_code = "NOT_FOUND"


class MethodNotAllowedError(APIError):
    default_code = "METHOD_NOT_ALLOWED"


class ConflictError(APIError):
    default_code = "CONFLICT"


class PayloadTooLargeError(APIError):
    default_code = "PAYLOAD_TOO_LARGE"


class UnsupportedMediaTypeError(APIError):
    default_code = "UNSUPPORTED_MEDIA_TYPE"


class RateLimitError(APIError):
    default_code = "RATE_LIMIT_EXCEEDED"

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked the client to wait, from ``Retry-After``."""
        return parse_retry_after(self.headers.get("retry-after"))


class InternalServerError(APIError):
    default_code = "INTERNAL_ERROR"


class ServiceUnavailableError(APIError):
    default_code = "SERVICE_UNAVAILABLE"


class RealtimeError(CampfireError):
    """The realtime connection reported an error frame or closed for good.

    Attributes:
        code: the error frame's code, such as ``RATE_LIMIT_EXCEEDED``, or the close code.
        retryable: whether a new connection may succeed, as after a full connection limit.
        retry_after: seconds the server asked the client to wait, from ``details.retryAfter``.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retryable: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable
        self.retry_after = retry_after


class WebhookVerificationError(CampfireError):
    """A webhook delivery has a missing, stale or wrong signature."""


ERRORS_BY_CODE: dict[str, type[APIError]] = {
    cls.default_code: cls
    for cls in (
        ValidationError,
        AuthenticationError,
        AuthorizationError,
        NotFoundError,
        MethodNotAllowedError,
        ConflictError,
        PayloadTooLargeError,
        UnsupportedMediaTypeError,
        RateLimitError,
        InternalServerError,
        ServiceUnavailableError,
    )
}

ERRORS_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: AuthorizationError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
    429: RateLimitError,
    500: InternalServerError,
    503: ServiceUnavailableError,
}


def error_class(status_code: int, code: str | None) -> type[APIError]:
    """Pick the exception class for an error response, by code first, then by status."""
    if code and code in ERRORS_BY_CODE:
        return ERRORS_BY_CODE[code]
    if status_code in ERRORS_BY_STATUS:
        return ERRORS_BY_STATUS[status_code]
    if status_code >= 500:
        return InternalServerError
    return APIError


def parse_retry_after(value: str | None) -> float | None:
    """Parse ``Retry-After`` given in seconds or as an HTTP date; None when absent or invalid."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
