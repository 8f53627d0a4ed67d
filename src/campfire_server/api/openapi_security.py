"""The credentials that each operation of the OpenAPI document accepts.

Every credential is sent as ``Authorization: Bearer ...``, so the document
declares one HTTP bearer scheme per kind of credential, and each operation
lists the kinds that its role check lets through:

- ``secretKey``: an ``sk_live_`` or ``sk_test_`` key, of role admin, agent or viewer;
- ``agentToken``: a JWT of role agent or viewer, from ``POST /auth/login``
  or ``POST /auth/tokens``;
- ``widgetToken``: a customer JWT from ``POST /widget/session``;
- ``publishableKey``: a ``pk_`` key, which only opens widget sessions.

An operation whose route does not take the caller's principal, such as
``POST /auth/login``, is public and lists no security.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import iter_route_contexts

from ..auth.permissions import POLICY
from .deps import current_principal

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
        "description": "An agent or viewer token from POST /auth/login or POST /auth/tokens.",
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

# The permission check of a route, as its handler writes it: require(principal, "action").
# NOTE: the roles are read from the handler's source text, so a require() that
# only a helper function calls is not seen; LookupError covers a handler with none.
_REQUIRE = re.compile(r'require\(\s*\w+,\s*"([a-z]+:[a-z]+)"')
# Operations that take a principal but check its kind instead of a role.
_PUBLISHABLE_ONLY = frozenset({"widget-session-create"})


def _depends_on_principal(dependant: Any) -> bool:
    if dependant is None:
        return False
    return any(
        sub.call is current_principal or _depends_on_principal(sub)
        for sub in dependant.dependencies
    )


def _schemes_for_roles(roles: set[str]) -> list[str]:
    schemes = []
    if roles & {"admin", "agent", "viewer"}:
        schemes.append("secretKey")
    if roles & {"agent", "viewer"}:
        schemes.append("agentToken")
    if "customer" in roles:
        schemes.append("widgetToken")
    return schemes


def operation_security(app: FastAPI) -> dict[str, list[str]]:
    """Map each operationId of ``app`` to the security schemes that its route accepts.

    Raises ``LookupError`` for a route that takes a principal but has no
    ``require`` call to read its roles from, so a new route cannot be
    documented with no credential by mistake.
    """
    security: dict[str, list[str]] = {}
    for route in iter_route_contexts(app.router.routes):
        original = route.original_route
        operation_id = getattr(original, "operation_id", None)
        if operation_id is None or not getattr(original, "include_in_schema", False):
            continue
        if not _depends_on_principal(getattr(original, "dependant", None)):
            security[operation_id] = []
            continue
        if operation_id in _PUBLISHABLE_ONLY:
            security[operation_id] = ["publishableKey"]
            continue
        actions = _REQUIRE.findall(inspect.getsource(original.endpoint))
        if not actions:
            raise LookupError(
                f"operation {operation_id} takes a principal but calls no require(); "
                "add its credential kinds to openapi_security.py"
            )
        roles: set[str] = set()
        for action in actions:
            roles |= POLICY[action]
        security[operation_id] = _schemes_for_roles(roles)
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
