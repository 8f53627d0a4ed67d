"""The HTTP methods of each path: HEAD, OPTIONS, 405 and 426 before routing.

FastAPI routes serve neither HEAD nor OPTIONS by themselves. HEAD runs the
GET route of its path and sends the status and headers without the body.
OPTIONS returns 204 with an ``Allow`` header naming every method of the
path. CORS preflights never get here, because the access step of the
request pipeline responds to them first.

The router takes the first route that matches a path and method, so a
method that a literal path lacks would reach a parameterized route that
matches the same path: ``GET /knowledge/articles/import`` would look up the
article ``import``. Such a request gets the 405 of the literal path instead.
A plain HTTP request to a WebSocket path gets 426 Upgrade Required.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import MethodNotAllowed, UpgradeRequired
from .route_table import RouteTable, allowed_methods, method_not_allowed


def upgrade_required(path: str) -> UpgradeRequired:
    """Return the 426 of a plain HTTP request to the WebSocket path ``path``."""
    return UpgradeRequired(
        f"{path} is a WebSocket endpoint; open it with a WebSocket client, which sends "
        "GET with 'Upgrade: websocket' and 'Connection: Upgrade'",
        details={"field": "Upgrade", "value": None, "expected": "websocket"},
        headers={"Upgrade": "websocket", "Connection": "Upgrade"},
    )


def shadowed_method(table: RouteTable, path: str, method: str) -> MethodNotAllowed | None:
    """Return the 405 of a literal path that lacks ``method``, else None."""
    shadowed = table.shadowed_resource(path)
    if shadowed is None or method in shadowed.allowed():
        return None
    return method_not_allowed(method, path, shadowed.allowed())


def needs_head_of_get(table: RouteTable, path: str, method: str) -> bool:
    """Tell whether ``method`` is a HEAD that no route serves, so the GET route handles it."""
    return method == "HEAD" and "HEAD" not in table.methods_at(path)


async def respond_to_options(scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Respond 204 with ``Allow``, or let ``app`` send the 404 of a path no route matches."""
    allowed = allowed_methods(scope)
    if not allowed:
        await app(scope, receive, send)
        return
    headers = [(b"allow", ", ".join(allowed).encode())]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def respond_to_head(scope: Scope, receive: Receive, send: Send, app: ASGIApp) -> None:
    """Run ``app`` as GET and send its status and headers without the body."""

    async def send_without_body(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return
            message = {"type": "http.response.body", "body": b""}
        await send(message)

    # The server reads the method from the scope it passed in, so the GET
    # route runs on a copy. The matched route is copied back for the request
    # log and the metrics.
    as_get = {**scope, "method": "GET"}
    try:
        await app(as_get, receive, send_without_body)
    finally:
        if "route" in as_get:
            scope["route"] = as_get["route"]
