"""FastAPI dependencies: the database and the authenticated principal."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Depends, Request

from ..auth import keys
from ..auth.client_address import client_ip
from ..auth.principal import Principal
from ..auth.ratelimit import Decision
from ..auth.tokens import external_key_from_settings, issued_for_agent_row, verify_token
from ..config import Settings
from ..db.database import Database
from ..errors import AuthenticationFailed


async def get_db(request: Request) -> Database:
    return request.app.state.db


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationFailed(
            "missing Authorization header; send 'Authorization: Bearer <API key or token>'",
            bearer_error=None,
        )
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed(
            "the Authorization header must read 'Bearer <API key or token>'",
            bearer_error="invalid_request",
        )
    return token


async def authenticate(
    token: str, db: Database, settings: Settings, cache: keys.KeyCache
) -> Principal:
    """Resolve a secret key, publishable key or JWT to its principal."""
    if token == keys.DEVELOPMENT_KEY:
        if settings.is_development:
            return keys.development_principal()
        raise AuthenticationFailed(
            "the test key works only when the server runs with CAMPFIRE_ENV=development"
        )
    if token == keys.DEVELOPMENT_PUBLISHABLE_KEY:
        if settings.is_development:
            return keys.development_publishable_principal(settings.host, settings.port)
        raise AuthenticationFailed(
            "the demo publishable key works only when the server runs with CAMPFIRE_ENV=development"
        )

    key_prefix = keys.key_prefix(token)
    if key_prefix is not None and keys.split_key(token) is None:
        # A key's prefix with a body of the wrong length: no such key was ever issued.
        raise AuthenticationFailed(
            f"the API key ({key_prefix}...) is unknown or has been revoked; send the whole key "
            f"as it was shown when it was created ({key_prefix} and {keys.KEY_BODY_CHARS} "
            "letters and digits)"
        )
    if key_prefix is not None:
        digest = keys.hash_key(token)
        hit, principal = cache.get(digest)
        if not hit:
            row = await db.lookup(lambda tx: keys.find_key(tx, token))
            principal = None if row is None else keys.principal_for_key(row)
            cache.put(digest, principal)
        if principal is None:
            raise AuthenticationFailed(
                f"the API key ({key_prefix}...) is unknown or has been revoked; check that it "
                "is the whole key, or create a new one"
            )
        return principal

    if token.count(".") == 2:
        principal = verify_token(
            token,
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            external=external_key_from_settings(settings),
        )
        if principal.agent_id is not None:
            await require_agent(principal, db, cache)
        return principal
    raise AuthenticationFailed(
        "the credential is neither an API key (sk_live_, sk_test_, pk_live_ or pk_test_ and "
        f"{keys.KEY_BODY_CHARS} letters and digits) nor a token "
        "(a JWT of three dot-separated parts)"
    )


async def require_agent(principal: Principal, db: Database, cache: keys.KeyCache) -> None:
    """Reject a token whose agent was deleted, never existed, or was created again.

    A token names one agent row by its creation time (claim ``agc``) or,
    without that claim, by its issue time (``tokens.issued_for_agent_row``),
    so a new agent created with a deleted agent's id does not inherit its
    tokens. The result is cached like a key's. A deletion clears the cache of
    every process that the realtime broker reaches, and of the others within
    the cache's lifetime.
    """
    entry = (
        f"agent:{principal.org_id}:{principal.agent_id}:"
        f"{principal.agent_created_at}:{principal.issued_at}"
    )
    hit, known = cache.get(entry)
    if not hit:
        exists = await db.lookup(lambda tx: agent_row_exists(tx, principal))
        known = principal if exists else None
        cache.put(entry, known)
    if known is None:
        raise AuthenticationFailed(
            f"the token's agent {principal.agent_id!r} does not exist in its organization, "
            "was deleted since the token was issued, or was created after the token was "
            "issued; issue a new token for an existing agent"
        )


def agent_row_exists(tx: Any, principal: Principal) -> bool:
    """Return whether the agent row that ``principal``'s token was issued for exists."""
    created_at = tx.value(
        "SELECT created_at FROM agents WHERE org_id = :org_id AND id = :id",
        org_id=principal.org_id,
        id=principal.agent_id,
    )
    if created_at is None:
        return False
    return issued_for_agent_row(principal, int(created_at))


def reject_secret_key_in_browser(principal: Principal, origin: str | None) -> None:
    """Raise when a secret key arrives with an ``Origin`` header, i.e. from a web page.

    A secret key in a page's source is readable by every visitor of it.
    """
    if origin is not None and principal.kind in ("secret", "development"):
        raise AuthenticationFailed(
            "secret keys must never be used in a browser, where every visitor can read "
            "them; use a publishable key (pk_...) with POST /api/v2/widget/session, and keep "
            "secret keys on your server",
            details={"field": "Authorization", "expected": "a publishable key or a token"},
        )


async def identify(app_state: Any, authorization: str | None, origin: str | None) -> Principal:
    """Return the principal of a request's credential; raise ``AuthenticationFailed`` if none."""
    token = bearer_token(authorization)
    principal = await authenticate(token, app_state.db, app_state.settings, app_state.key_cache)
    reject_secret_key_in_browser(principal, origin)
    return principal


async def admit(scope: Any) -> Principal:
    """Authenticate the request of ``scope`` and count it against the caller's rate limit.

    The principal goes to ``scope["state"]["principal"]``, where the route
    dependency finds it. Raises ``AuthenticationFailed`` or ``RateLimited``.
    """
    app_state = scope["app"].state
    state = scope.setdefault("state", {})
    try:
        headers = _headers(scope)
        principal = await identify(app_state, headers.get(b"authorization"), headers.get(b"origin"))
    except AuthenticationFailed:
        await _limit_unauthenticated(scope, state)
        raise
    state["principal"] = principal
    state["organization_id"] = principal.org_id

    rate_key = principal.rate_limit_key
    if principal.kind == "publishable":
        # Every visitor of a site shares its publishable key; count them apart.
        rate_key = f"{rate_key}:{client_ip(scope, app_state.settings.trusted_proxies)}"
    decision = await app_state.rate_limits.hit_request(rate_key, principal.org_id)
    state["rate_limit"] = decision
    decision.raise_if_exceeded()
    return principal


async def _limit_unauthenticated(scope: Any, state: dict[str, Any]) -> None:
    """Count a request whose credential failed against its client address.

    A request without a credential was counted by the pipeline already.
    Raises ``RateLimited`` when the address is over its limit, so that an
    invalid credential gets no more attempts than no credential at all.
    """
    if "rate_limit" in state:
        return
    app_state = scope["app"].state
    address = client_ip(scope, app_state.settings.trusted_proxies)
    decision = await app_state.rate_limits.hit_request(f"ip:{address}", None)
    state["rate_limit"] = decision
    decision.raise_if_exceeded()


async def current_principal(request: Request) -> Principal:
    """Return the principal that the request pipeline admitted, or admit the request now."""
    principal = request.scope.get("state", {}).get("principal")
    if principal is not None:
        return principal
    return await admit(request.scope)


def repeated_authorization(scope: Any) -> AuthenticationFailed | None:
    """Return the error for a request with more than one ``Authorization`` header, or None.

    Taking either header would let a proxy or client that adds its own one
    decide silently which credential acts.
    """
    count = sum(1 for key, _ in scope.get("headers", ()) if key == b"authorization")
    if count <= 1:
        return None
    return AuthenticationFailed(
        f"the request has {count} Authorization headers; send exactly one "
        "'Authorization: Bearer <API key or token>' header",
        details={"field": "Authorization", "value": count, "expected": "one Authorization header"},
        bearer_error="invalid_request",
    )


def _headers(scope: Any) -> dict[bytes, str]:
    """Return the ``Authorization`` and ``Origin`` headers of ``scope``.

    Raises ``AuthenticationFailed`` for more than one ``Authorization`` header.
    """
    repeated = repeated_authorization(scope)
    if repeated is not None:
        raise repeated
    found: dict[bytes, str] = {}
    for key, value in scope.get("headers", ()):
        if key in (b"authorization", b"origin") and key not in found:
            found[key] = value.decode("latin-1")
    return found


def enforce_limit(request: Request, decision: Decision) -> None:
    """Raise ``RateLimited`` when ``decision``, a limit narrower than the caller's budget, failed.

    The ``X-RateLimit-*`` headers of an allowed request keep describing the
    caller's requests-per-minute budget on every route, so ``Remaining``
    drops by one per request. Only the 429 of a narrower limit reports that
    limit, so its headers agree with its ``Retry-After``.
    """
    decision.raise_if_exceeded()


def client_address(request: Request) -> str:
    """Return the client's IP address according to the trusted proxies setting."""
    return client_ip(request.scope, request.app.state.settings.trusted_proxies)


def credential_fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


DbDep = Annotated[Database, Depends(get_db)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
