"""Turn every failure into the JSON error envelope of the public API."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    NotFound,
    ServiceError,
    ValidationFailed,
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


_EXPECTED_BY_TYPE = {
    "missing": "a value for this required field",
    "extra_forbidden": "no such field; remove it",
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "query_int_parsing": "an integer written in decimal digits, such as 20",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean",
    "bool_parsing": "a boolean",
    "dict_type": "a JSON object",
    "model_attributes_type": "a JSON object",
    "list_type": "a JSON array",
    "json_invalid": "a valid JSON document",
}


# pydantic's bound errors, the key of the bound in their context, and the
# bound in words.
_BOUND_WORDS = {
    "greater_than_equal": ("ge", "at least"),
    "less_than_equal": ("le", "at most"),
    "greater_than": ("gt", "greater than"),
    "less_than": ("lt", "less than"),
}


def _describe_message(field: str, error: dict[str, Any]) -> str:
    """Word pydantic's message about ``field`` as a sentence about that field."""
    if field == "body" and error.get("type") in ("dict_type", "model_attributes_type"):
        return "the request body must be a JSON object"
    message = str(error.get("msg", "invalid value"))
    if message.startswith("Input should be "):
        return f"{field} should be {message.removeprefix('Input should be ')}"
    return f"{field}: {message}"


def _field_path(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _describe_expected(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "literal_error" and "expected" in ctx:
        return f"one of {ctx['expected']}"
    if kind == "string_too_long":
        return f"at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return f"at least {ctx.get('min_length')} characters"
    if kind == "string_pattern_mismatch":
        return f"a string matching {ctx.get('pattern')}"
    if kind in _BOUND_WORDS:
        key, words = _BOUND_WORDS[kind]
        return f"a number {words} {ctx.get(key)}"
    return _EXPECTED_BY_TYPE.get(kind, error.get("msg", "a valid value"))


def validation_error_from_pydantic(errors: list[dict[str, Any]]) -> ServiceError:
    """Describe the first of pydantic's errors as a ``ValidationFailed``."""
    first = errors[0]
    if first.get("type") == "value_error" and isinstance(
        (first.get("ctx") or {}).get("error"), ValidationFailed
    ):
        return first["ctx"]["error"]
    if first.get("type") == "json_invalid":
        return ValidationFailed(
            "the request body is not valid JSON",
            field="body",
            value=None,
            expected="a valid JSON document",
        )
    field = _field_path(tuple(first.get("loc", ())))
    value = first.get("input")
    if isinstance(value, (dict, list)) and first.get("type") != "missing":
        # Echo small structures back as they came; a large one only by its size.
        encoded = json.dumps(value, default=str)
        value = value if len(encoded) <= 500 else f"<{len(encoded)} bytes of JSON>"
    if isinstance(value, str) and len(value) > 200:
        value = f"<{len(value)} characters>"
    if first.get("type") == "missing":
        value = None
    message = _describe_message(field, first)
    details: dict[str, Any] = {}
    if len(errors) > 1:
        details["errors"] = [
            {"field": _field_path(tuple(item.get("loc", ()))), "message": item.get("msg")}
            for item in errors[:20]
        ]
    return ValidationFailed(
        message, field=field, value=value, expected=_describe_expected(first), details=details
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, error: ServiceError) -> Response:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> Response:
        return error_response(validation_error_from_pydantic(list(error.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if error.status_code == 404:
            return error_response(NotFound(f"no route matches {request.method} {request.url.path}"))
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
