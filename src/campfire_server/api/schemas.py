"""Models shared by every router: the error envelope and the list page."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from ..apimodel import ResponseModel
from .errors import ERROR_EXAMPLE

T = TypeVar("T")


class ErrorBody(BaseModel):
    code: str = Field(description="Stable error code, such as VALIDATION_ERROR")
    message: str = Field(description="What failed and how to fix it")
    details: dict[str, Any] = Field(description="field, value and expected, when they apply")
    requestId: str | None = Field(description="Equal to the X-Request-ID response header")


class ErrorEnvelope(BaseModel):
    error: ErrorBody

    model_config = {"json_schema_extra": {"examples": [ERROR_EXAMPLE]}}


class Pagination(ResponseModel):
    page: int
    limit: int
    total: int
    total_pages: int
    has_more: bool
    next_cursor: str | None = Field(description="Pass as cursor= to get the next page")


class Page(ResponseModel, Generic[T]):
    data: list[T]
    pagination: Pagination


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorEnvelope, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("Invalid input: VALIDATION_ERROR with details.field, value and expected"),
    401: _error(
        "Missing or invalid credential: AUTHENTICATION_ERROR, with WWW-Authenticate: Bearer"
    ),
    403: _error("Authenticated but not allowed: AUTHORIZATION_ERROR"),
    404: _error("No such resource in the caller's organization: NOT_FOUND"),
    409: _error(
        "The request conflicts with the current state: CONFLICT or a specific code, "
        "such as IDEMPOTENCY_KEY_REUSED for an Idempotency-Key sent with another request"
    ),
    413: _error("The body exceeds 1 MiB: PAYLOAD_TOO_LARGE"),
    415: _error("The body is not application/json: UNSUPPORTED_MEDIA_TYPE"),
    429: _error("Rate limit exceeded: RATE_LIMIT_EXCEEDED, with Retry-After"),
    500: _error("Unexpected failure: INTERNAL_ERROR with the request id only"),
    503: _error("A dependency is unavailable: SERVICE_UNAVAILABLE, with Retry-After"),
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Return the documented error responses of one operation."""
    chosen = set(statuses) | {401, 429, 500, 503}
    return {status: ERRORS[status] for status in sorted(chosen)}
