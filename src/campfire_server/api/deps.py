"""FastAPI dependencies: the database and the authenticated principal."""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Request

from ..auth import keys
from ..auth.principal import Principal
from ..auth.tokens import verify_token
from ..config import Settings
from ..db.database import Database
from ..errors import AuthenticationFailed


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthenticationFailed(
            "missing Authorization header; send 'Authorization: Bearer <API key or token>'"
        )
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthenticationFailed(
            "the Authorization header must read 'Bearer <API key or token>'"
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

    if keys.split_key(token) is not None:
        digest = keys.hash_key(token)
        hit, principal = cache.get(digest)
        if not hit:
            row = await db.read(lambda tx: keys.find_key(tx, token))
            principal = None if row is None else keys.principal_for_key(row)
            cache.put(digest, principal)
        if principal is None:
            raise AuthenticationFailed("the API key is invalid or has been revoked")
        return principal

    if token.count(".") == 2:
        return verify_token(
            token,
            secret=settings.jwt_secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
    raise AuthenticationFailed(
        "the credential is neither an API key (sk_..., pk_...) nor a token"
    )


async def current_principal(request: Request) -> Principal:
    token = bearer_token(request.headers.get("authorization"))
    app_state = request.app.state
    principal = await authenticate(token, app_state.db, app_state.settings, app_state.key_cache)
    request.state.principal = principal
    request.scope.setdefault("state", {})["organization_id"] = principal.org_id
    return principal


def credential_fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


DbDep = Annotated[Database, Depends(get_db)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
