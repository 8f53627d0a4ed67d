"""HEAD and OPTIONS for every route, which FastAPI routes do not serve by themselves.

HEAD runs the GET route of its path and sends the status and headers
without the body. OPTIONS returns 204 with an ``Allow`` header naming every
method of the path. CORS preflights never get here, because the access
middleware responds to them first.
"""

from __future__ import annotations

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _served(scope: Scope, method: str) -> bool:
    probe = {**scope, "method": method}
    return any(route.matches(probe)[0] == Match.FULL for route in scope["app"].router.routes)


def allowed_methods(scope: Scope) -> list[str]:
    """Return the methods served at the path of ``scope``, HEAD and OPTIONS included.

    Several routes often share a path (GET and POST on a list), so each
    method is matched against the whole route table. HEAD is served
    wherever GET is, and OPTIONS wherever any method is.
    """
    allowed = [method for method in _METHODS if _served(scope, method)]
    if "GET" in allowed and "HEAD" not in allowed:
        allowed.insert(allowed.index("GET") + 1, "HEAD")
    if allowed:
        allowed.append("OPTIONS")
    return allowed


class HeadOptionsMiddleware:
    """Respond to OPTIONS with ``Allow``, and to HEAD with the GET response minus its body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method") if scope["type"] == "http" else None
        if method == "OPTIONS":
            await self._options(scope, receive, send)
            return
        if method == "HEAD" and not _served(scope, "HEAD"):
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
