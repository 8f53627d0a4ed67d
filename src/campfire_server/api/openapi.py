"""The OpenAPI document: FastAPI's, with the error responses the server really sends.

FastAPI documents a ``422`` for every operation with parameters, but the
error handlers answer every invalid input with ``400 VALIDATION_ERROR``. The
middleware also rejects requests before any route runs, so some errors apply
to every operation of a kind, whatever its decorator lists:

- any request: 400 for a NUL in the path or query string or an invalid
  ``X-Campfire-Mock``, 429 from the rate limit, 500 and 503;
- a path with parameters: 404 when the resource is not in the caller's
  organization;
- POST, PUT and PATCH: 400 for a body that is not valid JSON, 413 over the
  size limit, 415 for another media type;
- POST: 400 for an ``Idempotency-Key`` of the wrong length and 409 when a
  key is reused or its first request is still running.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .openapi_security import add_security
from .schemas import ERRORS

_OPERATION_METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
_BODY_METHODS = ("post", "put", "patch")

# Operations that return 201 with a credential that the server does not
# store, so there is no resource for a ``Location`` to name.
ISSUES_CREDENTIAL = frozenset({"auth-tokens-create", "widget-session-create"})

LOCATION_HEADER = {
    "description": "The absolute path of the created resource, under /api/v2",
    "schema": {
        "type": "string",
        "examples": ["/api/v2/conversations/conv_0MfLhN2y8nQ3b1aXk5Tz7Wq0"],
    },
}


def middleware_errors(method: str, path: str) -> set[int]:
    """Return the error statuses that the middleware can send for ``method`` on ``path``."""
    statuses = {400, 429, 500, 503}
    if "{" in path:
        statuses.add(404)
    if method in _BODY_METHODS:
        statuses |= {413, 415}
    if method == "post":
        statuses.add(409)
    return statuses


def _error_response(status: int) -> dict[str, Any]:
    return {
        "description": ERRORS[status]["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }


def _fix_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    for status in sorted(middleware_errors(method, path)):
        responses.setdefault(str(status), _error_response(status))
    created = responses.get("201")
    if created is not None and operation.get("operationId") not in ISSUES_CREDENTIAL:
        created.setdefault("headers", {})["Location"] = LOCATION_HEADER
    operation["responses"] = dict(sorted(responses.items()))


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """Return the OpenAPI document of ``app``, built once and then cached on it."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
        servers=app.servers,
    )
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in _OPERATION_METHODS:
                _fix_operation(method, path, operation)
    add_security(app, document)
    schemas = document.get("components", {}).get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    app.openapi_schema = document
    return document


def install_openapi(app: FastAPI) -> None:
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
