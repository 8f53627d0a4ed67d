"""JSON Web Tokens that this server issues and verifies (HS256)."""

from __future__ import annotations

import logging
from typing import Any

import jwt

from .. import clock
from ..errors import AuthenticationFailed
from .principal import ROLES, Principal

log = logging.getLogger(__name__)

LEEWAY_SECONDS = 30


def issue_token(
    *,
    secret: str,
    issuer: str,
    audience: str,
    org_id: str,
    role: str,
    subject: str,
    ttl_seconds: int,
    extra: dict[str, Any] | None = None,
) -> tuple[str, int]:
    """Return a signed token and its expiry in epoch seconds."""
    now = clock.now_ms() // 1000
    expires = now + ttl_seconds
    claims: dict[str, Any] = {
        "sub": subject,
        "org": org_id,
        "role": role,
        "iat": now,
        "nbf": now,
        "exp": expires,
        "iss": issuer,
        "aud": audience,
    }
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm="HS256"), expires


def verify_token(token: str, *, secret: str, issuer: str, audience: str) -> Principal:
    """Verify signature, expiry, not-before, issuer and audience, and build the principal."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=["HS256"],
            audience=audience,
            issuer=issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub", "iss", "aud"], "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed("the token has expired; request a new one") from None
    except jwt.ImmatureSignatureError:
        raise AuthenticationFailed("the token is not valid yet (nbf is in the future)") from None
    except jwt.InvalidTokenError as error:
        raise AuthenticationFailed(f"the token is invalid: {error}") from None
    role = claims.get("role")
    if role not in ROLES or not isinstance(claims.get("org"), str):
        raise AuthenticationFailed("the token lacks a valid role or org claim")
    return Principal(
        org_id=claims["org"],
        role=role,
        kind="token",
        subject=str(claims["sub"]),
        customer_id=claims.get("cid") if role == "customer" else None,
        agent_id=claims.get("aid"),
        mailbox_ids=tuple(claims.get("mbx") or ()),
        rate_limit_key=f"token:{claims['sub']}",
    )
