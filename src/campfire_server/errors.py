"""Errors that cross a layer boundary, each with a stable code.

    ServiceError                      500 INTERNAL_ERROR       close 1011
    ├── ValidationFailed              400 VALIDATION_ERROR     close 1008
    ├── AuthenticationFailed          401 AUTHENTICATION_ERROR close 4401
    ├── PermissionDenied              403 AUTHORIZATION_ERROR  close 4403
    ├── NotFound                      404 NOT_FOUND            close 4404
    ├── MethodNotAllowed              405 METHOD_NOT_ALLOWED
    ├── RequestTimeout                408 TIMEOUT              close 4408
    ├── Conflict                      409 CONFLICT             close 4409
    ├── PayloadTooLarge               413 PAYLOAD_TOO_LARGE    close 1009
    ├── UnsupportedMediaType          415 UNSUPPORTED_MEDIA_TYPE
    ├── UpgradeRequired               426 UPGRADE_REQUIRED
    ├── HeadersTooLarge               431 HEADERS_TOO_LARGE
    ├── RateLimited                   429 RATE_LIMIT_EXCEEDED  close 4429
    ├── ServiceUnavailable            503 SERVICE_UNAVAILABLE  close 1013
    └── HttpVersionNotSupported       505 HTTP_VERSION_NOT_SUPPORTED

Domain code raises these; ``api/errors.py`` turns them into the JSON envelope
and the realtime gateway into error frames or close codes. Nothing outside
those two modules builds an error response.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .redaction import HIDDEN_VALUE, is_secret_field

# Text from a request longer than this is shown in errors as its length only.
SHOWN_TEXT_LIMIT = 200


def shown_text(value: str) -> str:
    """Return ``value`` for an error's details, or ``<N characters>`` when it is long."""
    return value if len(value) <= SHOWN_TEXT_LIMIT else f"<{len(value)} characters>"


def quoted(value: str) -> str:
    """Return ``value`` quoted for an error message, or ``<N characters>`` when it is long."""
    return repr(value) if len(value) <= SHOWN_TEXT_LIMIT else f"<{len(value)} characters>"


class ServiceError(Exception):
    code: ClassVar[str] = "INTERNAL_ERROR"
    http_status: ClassVar[int] = 500
    ws_close_code: ClassVar[int] = 1011

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        self.headers = headers or {}


def _shown_value(field: str, value: Any) -> Any:
    """Return ``value`` for ``details.value``, hidden when ``field`` is a secret.

    A placeholder such as ``<12 characters>`` that a check chose shows as given.
    """
    if value is None or not is_secret_field(field):
        return value
    if isinstance(value, str) and value.startswith("<") and value.endswith(">"):
        return value
    return HIDDEN_VALUE


class ValidationFailed(ServiceError):
    code = "VALIDATION_ERROR"
    http_status = 400
    ws_close_code = 1008

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        expected: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        merged = dict(details or {})
        if field is not None:
            merged.setdefault("field", field)
            merged.setdefault("value", _shown_value(field, value))
        if expected is not None:
            merged.setdefault("expected", expected)
        super().__init__(message, details=merged)


class AuthenticationFailed(ServiceError):
    """A missing, malformed or rejected credential.

    Every 401 carries ``WWW-Authenticate: Bearer realm="campfire"`` (RFC 9110
    requires the header on a 401). ``bearer_error`` adds the RFC 6750 error
    code: ``invalid_token`` (the default) for a credential that was read and
    rejected, ``invalid_request`` for a malformed ``Authorization`` header, and
    ``None`` when the request carried no credential at all.
    """

    code = "AUTHENTICATION_ERROR"
    http_status = 401
    ws_close_code = 4401

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        bearer_error: str | None = "invalid_token",
    ) -> None:
        challenge = 'Bearer realm="campfire"'
        if bearer_error is not None:
            challenge += f', error="{bearer_error}", error_description="{_quotable(message)}"'
        super().__init__(
            message, details=details, headers={"WWW-Authenticate": challenge, **(headers or {})}
        )


def _quotable(text: str) -> str:
    """Return ``text`` with only the characters RFC 6750 allows in ``error_description``."""
    allowed = (char if 0x20 <= ord(char) <= 0x7E and char not in '"\\' else "'" for char in text)
    return "".join(allowed)[:SHOWN_TEXT_LIMIT]


class PermissionDenied(ServiceError):
    code = "AUTHORIZATION_ERROR"
    http_status = 403
    ws_close_code = 4403


class NotFound(ServiceError):
    code = "NOT_FOUND"
    http_status = 404
    ws_close_code = 4404

    @classmethod
    def for_id(cls, kind: str, identifier: str, field: str | None = None) -> NotFound:
        details: dict[str, Any] = {"value": shown_text(identifier)}
        if field:
            details["field"] = field
        return cls(f"{kind} {quoted(identifier)} was not found", details=details)


class MethodNotAllowed(ServiceError):
    code = "METHOD_NOT_ALLOWED"
    http_status = 405


class RequestTimeout(ServiceError):
    code = "TIMEOUT"
    http_status = 408
    ws_close_code = 4408


class Conflict(ServiceError):
    code = "CONFLICT"
    http_status = 409
    ws_close_code = 4409

    def __init__(self, message: str, *, code: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        if code is not None:
            self.code = code  # type: ignore[misc]


class PayloadTooLarge(ServiceError):
    code = "PAYLOAD_TOO_LARGE"
    http_status = 413
    ws_close_code = 1009


class HeadersTooLarge(ServiceError):
    code = "HEADERS_TOO_LARGE"
    http_status = 431


class HttpVersionNotSupported(ServiceError):
    code = "HTTP_VERSION_NOT_SUPPORTED"
    http_status = 505


class UnsupportedMediaType(ServiceError):
    code = "UNSUPPORTED_MEDIA_TYPE"
    http_status = 415


class UpgradeRequired(ServiceError):
    code = "UPGRADE_REQUIRED"
    http_status = 426


class RateLimited(ServiceError):
    code = "RATE_LIMIT_EXCEEDED"
    http_status = 429
    ws_close_code = 4429


class ServiceUnavailable(ServiceError):
    """A dependency, usually storage, cannot serve the request now; a retry may succeed.

    Every response carries ``Retry-After``: one second unless the raiser gives its own.
    """

    code = "SERVICE_UNAVAILABLE"
    http_status = 503
    ws_close_code = 1013

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, details=details, headers={"Retry-After": "1", **(headers or {})})
