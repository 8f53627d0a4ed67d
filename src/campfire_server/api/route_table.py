"""The application's routes as one flat table of path templates, methods and kinds.

FastAPI keeps the routes of an included router inside that router, so the
application's own route list does not show their full templates. This table
lists every route with its full template. Middleware looks a path up in it
for the methods the path allows, for the template that the request log
names, to tell a WebSocket path, and to tell whether a route takes the
caller's credential, so that the pipeline can authenticate before it reads
the body.

Where templates overlap, the one with a literal segment where the other has
a parameter is the resource the path names: ``/knowledge/articles/import``
is not the article ``import``, whatever the order of the routes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import WebSocketRoute

from ..errors import MethodNotAllowed, shown_text
from .direct import DirectRoute, direct_route
from .route_access import RouteAccess, route_accesses, takes_principal

_PARAMETER = re.compile(r"\{[^}]*\}")

# The attribute of ``app.state`` that caches the table.
_STATE_KEY = "route_table"


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """One route: its full path template, the regex it matches and its methods."""

    template: str
    regex: re.Pattern[str]
    methods: frozenset[str]
    websocket: bool
    # Whether the route depends on the caller's principal.
    authenticated: bool = False
    # How the pipeline may serve the route without FastAPI's router, if at all.
    direct: DirectRoute | None = None
    # The checks of the callers that the route admits.
    accesses: tuple[RouteAccess, ...] = ()


def _specificity(template: str) -> tuple[int, ...]:
    """Rank a template per segment: a literal segment (0) wins over one with a parameter (1)."""
    return tuple(1 if _PARAMETER.search(part) else 0 for part in template.split("/"))


@dataclass(frozen=True, slots=True)
class Resource:
    """The routes of the most specific template that matches a path."""

    template: str
    methods: frozenset[str]
    websocket: bool
    # The methods whose route depends on the caller's principal.
    authenticated: frozenset[str] = frozenset()
    # The routes that the pipeline may serve itself, by method. Only a path
    # that no other template matches has any, because where templates
    # overlap FastAPI's router takes the first route that matches.
    direct: Mapping[str, DirectRoute] = field(default_factory=dict)
    # The checks of the callers that each method's route admits, which the
    # pipeline runs before it reads the body. A method that routes of several
    # matching templates serve with different checks has none here.
    accesses: Mapping[str, tuple[RouteAccess, ...]] = field(default_factory=dict)

    def allowed(self) -> list[str]:
        """Return the methods of the path in the order an ``Allow`` header lists them."""
        order = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
        allowed = [method for method in order if method in self.methods]
        if "GET" in allowed and "HEAD" not in allowed:
            allowed.insert(allowed.index("GET") + 1, "HEAD")
        if allowed:
            allowed.append("OPTIONS")
        return allowed


class RouteTable:
    """Every route of an application, looked up by request path."""

    def __init__(
        self, entries: list[RouteEntry], templates: dict[int, tuple[Any, str]] | None = None
    ) -> None:
        self.entries = entries
        # The full template of each route object that the table lists once,
        # by ``id`` because routes compare by value and cannot be hashed.
        self.templates = templates or {}
        self.websockets = [entry for entry in entries if entry.websocket]
        # The entries by segment count and first segment after the version,
        # so that a lookup tries a few regexes instead of all of them.
        self._buckets: dict[tuple[int, str | None], list[RouteEntry]] = {}
        for entry in entries:
            self._buckets.setdefault(_bucket(entry.template, literal_only=True), []).append(entry)
        # By the ``id`` of the entries that matched.
        self._resources: dict[tuple[int, ...], Resource] = {}
        self._last_lookup: tuple[str | None, Resource | None] = (None, None)
        # Templates that another, less specific template also matches.
        # Only a path of one of these can be routed to the wrong resource.
        self.shadowed = [
            entry
            for entry in entries
            if any(
                other.template != entry.template and other.regex.match(example_path(entry.template))
                for other in entries
            )
        ]

    @classmethod
    def of(cls, app: Any) -> RouteTable:
        """Return the table of ``app``, built on first use and cached on its state."""
        table = getattr(app.state, _STATE_KEY, None)
        if table is None:
            table = cls(_entries(app.router.routes), _templates(app.router.routes))
            setattr(app.state, _STATE_KEY, table)
        return table

    def resource(self, path: str) -> Resource | None:
        """Return the most specific template matching ``path`` with all its methods, or None."""
        # The steps of one request look up its path several times in a row.
        last_path, last_resource = self._last_lookup
        if path == last_path:
            return last_resource
        resource = self._find_resource(path)
        self._last_lookup = (path, resource)
        return resource

    def _find_resource(self, path: str) -> Resource | None:
        count, segment = _bucket(path, literal_only=False)
        candidates = self._buckets.get((count, segment), []) + self._buckets.get((count, None), [])
        matching = tuple(entry for entry in candidates if entry.regex.match(path))
        if not matching:
            return None
        key = tuple(map(id, matching))
        known = self._resources.get(key)
        if known is not None:
            return known
        template = min((entry.template for entry in matching), key=_specificity)
        chosen = [entry for entry in matching if entry.template == template]
        methods = frozenset().union(*(entry.methods for entry in chosen))
        authenticated = frozenset().union(
            *(entry.methods for entry in chosen if entry.authenticated)
        )
        direct: dict[str, DirectRoute] = {}
        if len(chosen) == len(matching):
            for entry in chosen:
                if entry.direct is not None:
                    direct.update(dict.fromkeys(entry.methods, entry.direct))
        accesses = _accesses_by_method(methods, matching)
        resource = Resource(
            template,
            methods,
            any(entry.websocket for entry in chosen),
            authenticated,
            direct,
            accesses,
        )
        # Few sets of routes match any path, so the resources of all of them are kept.
        self._resources[key] = resource
        return resource

    def methods_at(self, path: str) -> frozenset[str]:
        """Return the HTTP methods that routes serve at ``path``, HEAD only where a route has it."""
        resource = self.resource(path)
        return frozenset() if resource is None else resource.methods

    def is_websocket_path(self, path: str) -> bool:
        """Tell whether the resource at ``path`` is a WebSocket endpoint."""
        if not any(entry.regex.match(path) for entry in self.websockets):
            return False
        resource = self.resource(path)
        return resource is not None and resource.websocket

    def shadowed_resource(self, path: str) -> Resource | None:
        """Return the resource of ``path`` when a less specific route also matches it."""
        if not any(entry.regex.match(path) for entry in self.shadowed):
            return None
        return self.resource(path)


def _accesses_by_method(
    methods: frozenset[str], matching: tuple[RouteEntry, ...]
) -> dict[str, tuple[RouteAccess, ...]]:
    """Return the access checks of each method's route among ``matching``.

    A method served by several matching routes with different checks is
    left out, because the route that serves it depends on the route order.
    """
    accesses: dict[str, tuple[RouteAccess, ...]] = {}
    for method in methods:
        serving = {entry.accesses for entry in matching if method in entry.methods}
        if len(serving) == 1:
            (checks,) = serving
            if checks:
                accesses[method] = checks
    return accesses


def _bucket(path: str, *, literal_only: bool) -> tuple[int, str | None]:
    """Return the segment count of ``path`` and its fourth segment (after ``/api/v2``).

    For a template whose fourth segment is a parameter, the segment is
    None, the bucket that every path of that length also tries.
    """
    parts = path.split("/")
    segment = parts[3] if len(parts) > 3 else ""
    if literal_only and "{" in segment:
        return len(parts), None
    return len(parts), segment


def example_path(template: str) -> str:
    """Return a path that ``template`` matches, with a sample value for each parameter."""
    return _PARAMETER.sub("sample_value_1", template)


def _entries(routes: list[Any]) -> list[RouteEntry]:
    entries = []
    for route in iter_route_contexts(routes):
        template = route.path_format
        regex = getattr(route, "path_regex", None)
        if not template or regex is None:
            continue
        websocket = isinstance(route.original_route, WebSocketRoute)
        methods = frozenset(route.methods or ())
        dependant = getattr(route.original_route, "dependant", None)
        authenticated = takes_principal(dependant)
        direct = None if websocket else direct_route(route)
        accesses = route_accesses(dependant)
        entries.append(
            RouteEntry(template, regex, methods, websocket, authenticated, direct, accesses)
        )
    return entries


def _templates(routes: list[Any]) -> dict[int, tuple[Any, str]]:
    """Map each route object's ``id`` to it and its full template.

    A route included at two prefixes has two templates and is left out.
    """
    seen: dict[int, tuple[Any, list[str]]] = {}
    for context in iter_route_contexts(routes):
        if context.path_format:
            route = context.original_route
            seen.setdefault(id(route), (route, []))[1].append(context.path_format)
    return {
        key: (route, templates[0])
        for key, (route, templates) in seen.items()
        if len(templates) == 1
    }


def route_template(scope: Any) -> str:
    """Return the matched route's path template with its router prefix, e.g. ``/api/v2/x/{id}``.

    A route included with a prefix matches the rest of the path and carries
    only its own template, so the full one comes from the route table. A
    response sent before routing, such as an idempotent replay or a
    rejected body, names the template of its path.
    """
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not template:
        return template_for(scope) or "<unmatched>"
    app = scope.get("app")
    if app is not None:
        known = RouteTable.of(app).templates.get(id(route))
        if known is not None and known[0] is route:
            return known[1]
    # For a route outside the table, or one included at two prefixes, the
    # prefix is recovered from the request path.
    path: str = scope.get("path", "")
    regex = getattr(route, "path_regex", None)
    if regex is None or regex.match(path):
        return template
    for index, char in enumerate(path):
        if char == "/" and index and regex.match(path[index:]):
            return path[:index] + template
    return template


def template_for(scope: Any) -> str | None:
    """Return the route template of a request's path, or None when no route matches it."""
    app = scope.get("app")
    if app is None:
        return None
    resource = RouteTable.of(app).resource(scope.get("path", ""))
    return None if resource is None else resource.template


def allowed_methods(scope: Any) -> list[str]:
    """Return the methods served at the path of ``scope``, HEAD and OPTIONS included.

    HEAD is served wherever GET is, and OPTIONS wherever any method is. A
    WebSocket path serves no HTTP method.
    """
    app = scope.get("app")
    if app is None:
        return []
    resource = RouteTable.of(app).resource(scope.get("path", ""))
    return [] if resource is None else resource.allowed()


def method_not_allowed(method: str, path: str, allowed: list[str]) -> MethodNotAllowed:
    """Return the 405 error for ``method`` on ``path``, with the ``Allow`` header set."""
    listed = ", ".join(allowed)
    return MethodNotAllowed(
        f"{method} is not allowed on {shown_text(path)}; use one of {listed}",
        details={"field": "method", "value": method, "expected": listed},
        headers={"Allow": listed},
    )
