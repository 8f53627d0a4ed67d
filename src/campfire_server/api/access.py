"""Pure ASGI middleware for what every HTTP response shares: CORS, mock mode,
rate-limit headers and security headers.

One layer instead of four keeps the per-request cost to one wrapped ``send``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import mock
from ..auth.client_address import client_ip
from ..auth.ratelimit import Decision
from ..errors import PermissionDenied, ServiceError, ValidationFailed
from .middleware import send_error

API_PREFIX = "/api/v2"

# Probes and scrapes are neither rate limited nor counted.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})

# The widget's script and frames, which host sites load or embed; every other page
# forbids framing.
WIDGET_PATH_PREFIXES = ("/widget", "/v2/widget", "/static/widget")

CORS_METHODS = "GET, POST, PATCH, PUT, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID, X-Campfire-Mock"
CORS_EXPOSED = (
    "X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
    "Retry-After, X-Campfire-Mock, Location, Idempotent-Replayed"
)
CORS_MAX_AGE = "600"

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
WIDGET_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'"
)
# The interactive API docs run Swagger UI from this server; Swagger UI sets
# inline styles on its elements.
DOCS_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _security_headers(path: str, content_type: bytes) -> list[tuple[bytes, bytes]]:
    kind = content_type.split(b";")[0].strip().lower()
    is_html = kind == b"text/html"
    is_script = kind in (b"application/javascript", b"text/javascript")
    if not (is_html or is_script):
        return []
    widget = path.startswith(WIDGET_PATH_PREFIXES)
    if path.startswith(f"{API_PREFIX}/docs"):
        policy = DOCS_CSP
    else:
        policy = WIDGET_CSP if widget else PAGE_CSP
    headers = [
        (b"content-security-policy", policy.encode()),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
    ]
    if not widget:
        headers.append((b"x-frame-options", b"DENY"))
    return headers


class AccessMiddleware:
    """Answer CORS preflights, set the mock flag, and add the shared response headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "websocket" and mock.requested(_header(scope, b"x-campfire-mock")):
                with mock.activated():
                    await self.app(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return

        state = scope.setdefault("state", {})
        app_state = scope["app"].state
        path: str = scope["path"]
        origin = _header(scope, b"origin")
        cors_origin: str | None = None
        if origin is not None and path.startswith(API_PREFIX):
            if await app_state.origins.allows(origin):
                cors_origin = origin
            if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
                await self._preflight(scope, send, origin, cors_origin, state)
                return

        mock_header = _header(scope, b"x-campfire-mock")
        mock_on = mock.requested(mock_header)
        limited = path not in UNLIMITED_PATHS
        if mock_header and mock_header.strip().lower() not in ("true", "false"):
            # A value such as "1" must not run a write for real by surprise.
            await send_error(
                send,
                ValidationFailed(
                    "X-Campfire-Mock must be true or false",
                    field="X-Campfire-Mock",
                    value=mock_header[:50],
                    expected="true or false",
                ),
                state.get("request_id"),
            )
            return

        if limited and _header(scope, b"authorization") is None:
            # Without a credential the client address is the only identity.
            address = client_ip(scope, app_state.settings.trusted_proxies)
            decision = await app_state.rate_limits.hit_request(f"ip:{address}", None)
            state["rate_limit"] = decision
            if not decision.allowed:
                try:
                    decision.raise_if_exceeded()
                except ServiceError as error:
                    await send_error(
                        self._wrap(send, scope, state, path, cors_origin, mock_on, limited),
                        error,
                        state.get("request_id"),
                    )
                    return

        wrapped = self._wrap(send, scope, state, path, cors_origin, mock_on, limited)
        if mock_on:
            with mock.activated():
                await self.app(scope, receive, wrapped)
        else:
            await self.app(scope, receive, wrapped)

    def _wrap(
        self,
        send: Send,
        scope: Scope,
        state: dict,
        path: str,
        cors_origin: str | None,
        mock_on: bool,
        limited: bool,
    ) -> Send:
        async def send_with_headers(message: Message) -> None:
            if message["type"] != "http.response.start":
                await send(message)
                return
            headers = list(message.get("headers", []))
            present = {key.lower() for key, _ in headers}

            if limited:
                decision: Decision | None = state.get("rate_limit")
                if decision is None:
                    # Rejected before authentication (a bad key, an oversized body):
                    # count it against the client address so the headers are real.
                    address = client_ip(scope, scope["app"].state.settings.trusted_proxies)
                    decision = await scope["app"].state.rate_limits.hit_request(
                        f"ip:{address}", None
                    )
                if b"x-ratelimit-limit" not in present:
                    headers += [
                        (key.lower().encode(), value.encode())
                        for key, value in decision.headers().items()
                    ]

            if cors_origin is not None:
                headers += [
                    (b"access-control-allow-origin", cors_origin.encode()),
                    (b"access-control-expose-headers", CORS_EXPOSED.encode()),
                    (b"vary", b"Origin"),
                ]
            if mock_on:
                headers.append((b"x-campfire-mock", b"true"))

            if b"x-content-type-options" not in present:
                headers.append((b"x-content-type-options", b"nosniff"))
            content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            for key, value in _security_headers(path, content_type):
                if key not in present:
                    headers.append((key, value))
            await send({**message, "headers": headers})

        return send_with_headers

    async def _preflight(
        self, scope: Scope, send: Send, origin: str, cors_origin: str | None, state: dict
    ) -> None:
        if cors_origin is None:
            await send_error(
                send,
                PermissionDenied(
                    f"origin {origin[:200]!r} is not among the allowed origins of any live "
                    "publishable key; create a publishable key that lists it, with "
                    "allowedOrigins in POST /api/v2/keys or with "
                    f"`campfire keys create --publishable --origin {origin[:200]}`",
                    details={"field": "Origin", "value": origin[:200]},
                ),
                state.get("request_id"),
            )
            return
        headers = [
            (b"access-control-allow-origin", cors_origin.encode()),
            (b"access-control-allow-methods", CORS_METHODS.encode()),
            (b"access-control-allow-headers", CORS_HEADERS.encode()),
            (b"access-control-max-age", CORS_MAX_AGE.encode()),
            (b"vary", b"Origin"),
            (b"content-length", b"0"),
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
