"""The HTTP methods of each path: HEAD, OPTIONS, 405 and 426 before routing.

FastAPI routes serve neither HEAD nor OPTIONS by themselves. HEAD runs the
GET route of its path and sends the status and headers without the body.
OPTIONS returns 204 with an ``Allow`` header naming every method of the
path. CORS preflights never get here, because the access middleware
responds to them first.

The router takes the first route that matches a path and method, so a
method that a literal path lacks would reach a parameterized route that
matches the same path: ``GET /knowledge/articles/import`` would look up the
article ``import``. Such a request gets the 405 of the literal path instead.
A plain HTTP request to a WebSocket path gets 426 Upgrade Required.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import UpgradeRequired
from .middleware import send_error
from .route_table import RouteTable, allowed_methods, method_not_allowed


class MethodsMiddleware:
    """Apply the method rules: OPTIONS, HEAD without a route, 405 and 426.

    A literal path gets 405 for a method it lacks, and a WebSocket path 426.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        table = RouteTable.of(scope["app"])
        path = scope["path"]
        method = scope["method"]
        request_id = scope.get("state", {}).get("request_id")
        if table.is_websocket_path(path):
            error = UpgradeRequired(
                f"{path} is a WebSocket endpoint; open it with a WebSocket client, which sends "
                "GET with 'Upgrade: websocket' and 'Connection: Upgrade'",
                details={"field": "Upgrade", "value": None, "expected": "websocket"},
                headers={"Upgrade": "websocket", "Connection": "Upgrade"},
            )
            await send_error(send, error, request_id)
            return

        if method == "OPTIONS":
            await self._options(scope, receive, send)
            return

        shadowed = table.shadowed_resource(path)
        if shadowed is not None and method not in shadowed.allowed():
            error = method_not_allowed(method, path, shadowed.allowed())
            await send_error(send, error, request_id)
            return

        if method == "HEAD" and "HEAD" not in (table.methods_at(path)):
            await self._head(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _options(self, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = allowed_methods(scope)
        if not allowed:
            # The router returns the 404 envelope for a path that no route matches.
            await self.app(scope, receive, send)
            return
        headers = [(b"allow", ", ".join(allowed).encode())]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    async def _head(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b""}
            await send(message)

        # The server reads the method from the scope it passed in, so the GET
        # route runs on a copy. The matched route is copied back for the request
        # log and the metrics of the outer middleware.
        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            if "route" in as_get:
                scope["route"] = as_get["route"]
