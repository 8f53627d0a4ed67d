"""Turn every failure into the JSON error envelope of the public API."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import pydantic_errors
from ..errors import (
    NotFound,
    ServiceError,
    shown_text,
)
from ..logs import request_id_var
from .route_table import allowed_methods, method_not_allowed

log = logging.getLogger(__name__)

ERROR_EXAMPLE = {
    "error": {
        "code": "VALIDATION_ERROR",
        "message": "content has 10001 characters; the limit is 10000",
        "details": {
            "field": "content",
            "value": "<10001 characters>",
            "expected": "at most 10000 characters (Unicode code points)",
        },
        "requestId": "req_0MfLhN2y8nQ3b1aXk5Tz7Wq0Rc",
    }
}


def envelope(error: ServiceError, request_id: str | None) -> dict[str, Any]:
    return {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "requestId": request_id,
        }
    }


def error_body(error: ServiceError, request_id: str | None) -> bytes:
    # ASCII escapes keep the body valid even when an echoed value contains a
    # character that UTF-8 cannot encode, such as a lone surrogate.
    return json.dumps(envelope(error, request_id), ensure_ascii=True, default=str).encode()


def error_response(error: ServiceError) -> Response:
    return Response(
        error_body(error, request_id_var.get()),
        status_code=error.http_status,
        headers=dict(error.headers),
        media_type="application/json",
    )


def validation_error_from_pydantic(
    errors: list[dict[str, Any]], body_model: Any = None
) -> ServiceError:
    """Describe the first of pydantic's errors as a ``ValidationFailed`` in this API's words."""
    return pydantic_errors.validation_failed(errors, body_model)


def _body_model(request: Request) -> Any:
    """Return the body model of the route that ``request`` matched, or None."""
    body_field = getattr(request.scope.get("route"), "body_field", None)
    return getattr(getattr(body_field, "field_info", None), "annotation", None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, error: ServiceError) -> Response:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> Response:
        errors = list(error.errors())
        return error_response(validation_error_from_pydantic(errors, _body_model(request)))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            return error_response(
                NotFound(f"no route matches {request.method} {shown_text(request.url.path)}")
            )
        if error.status_code == 405:
            allowed = allowed_methods(request.scope)
            if not allowed and error.headers:
                allowed = [
                    method.strip()
                    for key, value in error.headers.items()
                    if key.lower() == "allow"
                    for method in value.split(",")
                ]
            return error_response(method_not_allowed(request.method, request.url.path, allowed))
        generic = ServiceError(str(error.detail))
        generic.code = "HTTP_ERROR"  # type: ignore[misc]
        generic.http_status = error.status_code  # type: ignore[misc]
        return error_response(generic)
