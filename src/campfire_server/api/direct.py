"""Serve a lean route straight from the request pipeline, without FastAPI's router.

By the time the pipeline has checked the body, its route table has matched
the request's route and the caller is authenticated. For a
route with a lean handler (``lean_route.py``) FastAPI's router would only
match the path again, pass the request through its exception and exit-stack
layers and wrap ``send`` once more. A ``DirectRoute`` calls the same lean
handler at once and maps its errors with the application's own exception
handlers, so the status, headers and body are the ones the router path
sends.

Only requests that the router path would treat no differently qualify:
no query string (the lean route's check of unknown query parameters has
nothing to check) and no ``Idempotency-Key`` (idempotent replays wrap the
router). The pipeline sends every other request through the application.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from re import Pattern
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True)
class DirectRoute:
    """A route whose lean handler the pipeline may call without the router."""

    route: Any
    regex: Pattern[str]
    convertors: Mapping[str, Any]
    handler: Handler

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the handler for the request of ``scope`` and send its response."""
        match = self.regex.match(scope["path"])
        assert match is not None, "the route table matched this path to the route"
        scope["path_params"] = {
            name: self.convertors[name].convert(value) for name, value in match.groupdict().items()
        }
        # As the router sets them: the request log names the route's template.
        scope["route"] = self.route
        scope["endpoint"] = self.route.endpoint
        request = Request(scope, receive, send)
        try:
            response = await self.handler(request)
        except Exception as error:
            handler = _exception_handler(scope["app"].exception_handlers, error)
            if handler is None:
                raise
            response = await handler(request, error)
        await response(scope, receive, send)


def _exception_handler(
    handlers: Mapping[Any, Callable[..., Awaitable[Response]]], error: Exception
) -> Callable[..., Awaitable[Response]] | None:
    """Return the handler registered for the nearest class of ``error``, as Starlette picks it.

    A handler for ``Exception`` or status 500 is left out, as FastAPI leaves
    it out of the layer around the router, so such an error reaches the
    pipeline's 500 either way.
    """
    for cls in type(error).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


def direct_route(context: Any) -> DirectRoute | None:
    """Return the ``DirectRoute`` of a route context from ``iter_route_contexts``, or None.

    A route qualifies when it has a lean handler and declares no query
    parameters.
    """
    route = context.original_route
    handler = getattr(route, "lean_handler", None)
    regex = getattr(context, "path_regex", None)
    if handler is None or regex is None or route.dependant.query_params:
        return None
    return DirectRoute(route, regex, context.param_convertors, handler)
