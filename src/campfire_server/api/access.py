"""The access steps of the request pipeline: CORS, mock mode, the rate limit of
anonymous clients, and the headers that every response shares.
"""

from __future__ import annotations

from starlette.types import Scope, Send

from ..auth.client_address import client_ip
from ..auth.ratelimit import Decision
from ..errors import PermissionDenied, ValidationFailed
from .middleware import _header, send_error
from .route_table import RouteTable

API_PREFIX = "/api/v2"

# Probes and scrapes are neither rate limited nor counted. Any other path,
# including one that no route serves (a 404), counts against the client.
UNLIMITED_PATHS = frozenset({"/health", "/healthz", "/readyz", "/metrics"})

# The widget's script and frames, which host sites load or embed; every other page
# forbids framing.
WIDGET_PATH_PREFIXES = ("/widget", "/v2/widget", "/static/widget")

CORS_METHODS = "GET, POST, PATCH, PUT, DELETE, OPTIONS"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID, X-Campfire-Mock"
CORS_EXPOSED = (
    "X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
    "Retry-After, X-Campfire-Mock, Location, Idempotent-Replayed, WWW-Authenticate"
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


class SharedHeaders:
    """The headers that every response to one request shares, added at its start.

    They are the rate-limit headers (unless the path is unlimited), CORS
    for an allowed origin, the mock flag, ``X-Content-Type-Options`` and,
    for pages and scripts, the security policy.
    """

    __slots__ = ("scope", "state", "path", "cors_origin", "mock_on", "limited")

    def __init__(
        self, scope: Scope, state: dict, cors_origin: str | None, mock_on: bool, limited: bool
    ) -> None:
        self.scope = scope
        self.state = state
        self.path: str = scope["path"]
        self.cors_origin = cors_origin
        self.mock_on = mock_on
        self.limited = limited

    async def add_to(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Append the shared headers that ``headers`` does not already contain."""
        present = {key.lower() for key, _ in headers}

        if self.limited:
            decision: Decision | None = self.state.get("rate_limit")
            if decision is None:
                # A response sent before the route checked the credential is
                # counted against the client address, so the headers are real.
                app_state = self.scope["app"].state
                address = client_ip(self.scope, app_state.settings.trusted_proxies)
                decision = await app_state.rate_limits.hit_request(f"ip:{address}", None)
            if b"x-ratelimit-limit" not in present:
                headers += decision.raw_headers()

        if self.cors_origin is not None:
            headers += [
                (b"access-control-allow-origin", self.cors_origin.encode()),
                (b"access-control-expose-headers", CORS_EXPOSED.encode()),
                (b"vary", b"Origin"),
            ]
        if self.mock_on:
            headers.append((b"x-campfire-mock", b"true"))

        if b"x-content-type-options" not in present:
            headers.append((b"x-content-type-options", b"nosniff"))
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        for key, value in _security_headers(self.path, content_type):
            if key not in present:
                headers.append((key, value))


async def allowed_origin(scope: Scope, origin: str | None) -> str | None:
    """Return ``origin`` when the request is to the API and a publishable key allows it."""
    if origin is None or not scope["path"].startswith(API_PREFIX):
        return None
    return origin if await scope["app"].state.origins.allows(origin) else None


def is_preflight(scope: Scope, origin: str | None) -> bool:
    """Tell whether the request is a CORS preflight to the API."""
    return (
        origin is not None
        and scope["method"] == "OPTIONS"
        and scope["path"].startswith(API_PREFIX)
        and bool(_header(scope, b"access-control-request-method"))
    )


async def send_preflight(
    send: Send, origin: str, cors_origin: str | None, request_id: str | None
) -> None:
    """Respond to a CORS preflight: 204 with the CORS headers, or 403 for another origin."""
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
            request_id,
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


def invalid_mock_header(value: str | None) -> ValidationFailed | None:
    """Return the error for an ``X-Campfire-Mock`` value other than true or false, else None.

    A value such as "1" must not run a write for real by surprise.
    """
    if not value or value.strip().lower() in ("true", "false"):
        return None
    return ValidationFailed(
        "X-Campfire-Mock must be true or false",
        field="X-Campfire-Mock",
        value=value[:50],
        expected="true or false",
    )


def takes_credential(scope: Scope) -> bool:
    """Tell whether the request carries an ``Authorization`` header that its route checks.

    Only such a request is counted against its credential. A HEAD that no
    route serves runs the GET route of its path, so it takes the credential
    when that route does.
    """
    if _header(scope, b"authorization") is None:
        return False
    resource = RouteTable.of(scope["app"]).resource(scope["path"])
    if resource is None:
        return False
    method = scope["method"]
    if method == "HEAD" and "HEAD" not in resource.methods:
        method = "GET"
    return method in resource.authenticated


async def limit_anonymous(scope: Scope) -> Decision:
    """Count a request without a credential against its client address."""
    app_state = scope["app"].state
    address = client_ip(scope, app_state.settings.trusted_proxies)
    return await app_state.rate_limits.hit_request(f"ip:{address}", None)
