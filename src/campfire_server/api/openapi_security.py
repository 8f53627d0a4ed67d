"""The security schemes of the OpenAPI document and the schemes each operation accepts.

Each operation lists the schemes of the ``RouteAccess`` that its handler
takes its caller through (``route_access.py``), the same object that
enforces the check. An operation whose route does not take the caller's
principal, such as ``POST /auth/login``, is public and lists no security.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from .route_access import RouteAccess, takes_principal

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "secretKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A secret API key, sk_live_... or sk_test_..., from POST /keys or "
        "`campfire keys create`. Its role (admin, agent or viewer) limits what it may do.",
    },
    "agentToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An agent or viewer token from POST /auth/login or POST /auth/tokens, "
        "or a token of the organization's identity provider. Its role claim (admin, agent or "
        "viewer) limits what it may do.",
    },
    "widgetToken": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A customer token from POST /widget/session. It reaches only the "
        "customer's own conversations.",
    },
    "publishableKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "A publishable key, pk_live_... or pk_test_..., safe to embed in a web "
        "page. It may only open widget sessions.",
    },
}


def _route_accesses(dependant: Any) -> list[RouteAccess]:
    if dependant is None:
        return []
    found = []
    for sub in dependant.dependencies:
        if isinstance(sub.call, RouteAccess):
            found.append(sub.call)
        found.extend(_route_accesses(sub))
    return found


def operation_security(app: FastAPI) -> dict[str, list[str]]:
    """Map each operationId of ``app`` to the security schemes that its route accepts.

    Raises ``LookupError`` for a route that takes the bare principal without
    a ``RouteAccess``, and for one with two, so that no operation is
    documented with credentials that its check does not decide.
    """
    security: dict[str, list[str]] = {}
    for route in iter_route_contexts(app.router.routes):
        original = route.original_route
        operation_id = getattr(original, "operation_id", None)
        if operation_id is None or not getattr(original, "include_in_schema", False):
            continue
        dependant = getattr(original, "dependant", None)
        accesses = _route_accesses(dependant)
        if len(accesses) > 1:
            raise LookupError(
                f"operation {operation_id} takes its caller through {len(accesses)} "
                "RouteAccess checks; take it through one, from route_access.py"
            )
        if accesses:
            security[operation_id] = accesses[0].security_schemes()
        elif takes_principal(dependant):
            raise LookupError(
                f"operation {operation_id} takes the principal without a RouteAccess; "
                "take the caller as one of the principals of route_access.py"
            )
        else:
            security[operation_id] = []
    return security


def add_security(app: FastAPI, document: dict[str, Any]) -> None:
    """Add the security schemes to ``document`` and a ``security`` list to each operation."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    security = operation_security(app)
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            schemes = security.get(operation["operationId"])
            if schemes is not None:
                operation["security"] = [{name: []} for name in schemes]
