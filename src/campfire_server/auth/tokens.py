"""JSON Web Tokens: the HS256 tokens this server issues, and RS256/ES256 tokens
from the integrator's own identity provider.

Claims: ``sub`` (subject), ``org`` (organization id), ``role``, ``cid``
(customer id, customer tokens only), ``aid`` (agent id), ``agc`` (the
agent row's creation time in epoch ms, so a token outlives neither the
deletion of its agent nor a new agent created with the same id), ``mbx``
(mailbox ids the token is limited to), plus the registered ``exp``, ``nbf``, ``iat``,
``iss`` and ``aud``. A token with ``aid`` but no ``agc`` needs ``iat``, which
must be later than the agent row's creation.

The algorithm is chosen from the token header but each algorithm is bound
to exactly one key: HS256 to the server secret, RS256/ES256 to the
configured public key, and only when that key is of the matching type. So
``alg: none`` and an HS256 token signed with the public key as an HMAC
secret (algorithm confusion) are both rejected.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .. import clock
from ..errors import AuthenticationFailed
from ..json_values import as_sent, detail_value
from .principal import ROLES, Principal

log = logging.getLogger(__name__)

LEEWAY_SECONDS = 30
SERVER_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class ExternalKey:
    """The identity provider's public key, with the one algorithm, issuer and audience it signs."""

    key: Any
    algorithm: str
    issuer: str
    audience: str


@functools.lru_cache(maxsize=8)
def load_external_key(pem_or_path: str, issuer: str, audience: str) -> ExternalKey:
    """Parse a PEM public key (or read it from a file) and pick its algorithm.

    Raises ``ValueError`` for a key that is neither RSA nor EC P-256.
    """
    text = pem_or_path.strip()
    if not text.startswith("-----BEGIN"):
        text = Path(text).read_text()
    key = load_pem_public_key(text.encode())
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise ValueError(f"the RSA public key has {key.key_size} bits; at least 2048 required")
        return ExternalKey(key, "RS256", issuer, audience)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return ExternalKey(key, "ES256", issuer, audience)
    raise ValueError("the JWT public key must be an RSA key (RS256) or an EC P-256 key (ES256)")


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
    """Return a signed HS256 token and its expiry in epoch seconds."""
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
    return jwt.encode(claims, secret, algorithm=SERVER_ALGORITHM), expires


def _choose_key(
    token: str, secret: str, issuer: str, audience: str, external: ExternalKey | None
) -> tuple[Any, str, str, str]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError:
        raise AuthenticationFailed("the token is malformed; it is not a JSON Web Token") from None
    algorithm = header.get("alg")
    if algorithm == SERVER_ALGORITHM:
        return secret, algorithm, issuer, audience
    if external is not None and algorithm == external.algorithm:
        return external.key, algorithm, external.issuer, external.audience
    accepted = [SERVER_ALGORITHM] + ([external.algorithm] if external else [])
    raise AuthenticationFailed(
        f"the token's alg {as_sent(algorithm)} is not accepted; sign it with "
        f"{' or '.join(accepted)}",
        details={"field": "alg", "value": detail_value(algorithm), "expected": accepted},
    )


def verify_token(
    token: str,
    *,
    secret: str,
    issuer: str,
    audience: str,
    external: ExternalKey | None = None,
) -> Principal:
    """Verify signature, expiry, not-before, issuer and audience, and build the principal.

    Raises ``AuthenticationFailed`` with the reason when any check fails.
    """
    key, algorithm, expected_issuer, expected_audience = _choose_key(
        token, secret, issuer, audience, external
    )
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            audience=expected_audience,
            issuer=expected_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "sub", "iss", "aud"], "verify_iat": False},
        )
    except jwt.ExpiredSignatureError:
        raise AuthenticationFailed("the token has expired; request a new one") from None
    except jwt.ImmatureSignatureError:
        raise AuthenticationFailed("the token is not valid yet (nbf is in the future)") from None
    except jwt.InvalidAudienceError:
        raise AuthenticationFailed(
            f"the token's audience is wrong; issue it with aud {as_sent(expected_audience)}"
        ) from None
    except jwt.InvalidIssuerError:
        raise AuthenticationFailed(
            f"the token's issuer is wrong; issue it with iss {as_sent(expected_issuer)}"
        ) from None
    except jwt.InvalidSignatureError:
        raise AuthenticationFailed("the token's signature is invalid") from None
    except jwt.InvalidTokenError as error:
        raise AuthenticationFailed(f"the token is invalid: {error}") from None
    _reject_future_issue_time(claims.get("iat"))
    return principal_from_claims(claims)


def _reject_future_issue_time(issued_at: Any) -> None:
    """Raise ``AuthenticationFailed`` when ``iat`` is later than now plus ``LEEWAY_SECONDS``.

    An agent token without ``agc`` is tied to its agent row by ``iat``
    (``issued_for_agent_row``), so a future ``iat`` would let the token
    outlive the deletion of its agent and pass for any row created later.
    """
    if not isinstance(issued_at, (int, float)) or isinstance(issued_at, bool):
        return
    latest = clock.now_ms() / 1000 + LEEWAY_SECONDS
    if issued_at > latest:
        raise AuthenticationFailed(
            f"the token's iat claim {as_sent(issued_at)} is in the future; issue a token "
            f"whose iat is the current time in epoch seconds (at most {LEEWAY_SECONDS} "
            "seconds ahead of this server's clock)",
            details={
                "field": "iat",
                "value": detail_value(issued_at),
                "expected": f"at most {int(latest)}",
            },
        )


def _string_list(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    return None


def _invalid_claim(name: str, value: Any, expected: str) -> AuthenticationFailed:
    """Return the error for a missing or invalid claim, with its value spelled as JSON."""
    problem = "is missing" if value is None else f"{as_sent(value)} is invalid"
    return AuthenticationFailed(
        f"the token's {name} claim {problem}; issue a token whose {name} is {expected}",
        details={"field": name, "value": detail_value(value), "expected": expected},
    )


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Build the principal of verified ``claims``; reject claims of the wrong type."""
    role = claims.get("role")
    if role not in ROLES:
        raise _invalid_claim("role", role, f"one of {', '.join(sorted(ROLES))}")
    org_id = claims.get("org")
    if not isinstance(org_id, str) or not org_id:
        raise _invalid_claim("org", org_id, "the organization id as a string")
    customer_id = claims.get("cid")
    if role == "customer" and (not isinstance(customer_id, str) or not customer_id):
        raise _invalid_claim("cid", customer_id, "the customer id as a string in a customer token")
    agent_id = claims.get("aid")
    if agent_id is not None and not isinstance(agent_id, str):
        raise _invalid_claim("aid", agent_id, "the agent id as a string")
    agent_created_at = claims.get("agc")
    valid_created_at = isinstance(agent_created_at, int) and not isinstance(agent_created_at, bool)
    if agent_created_at is not None and (agent_id is None or not valid_created_at):
        raise _invalid_claim("agc", agent_created_at, "an integer (epoch ms) next to aid")
    issued_at = claims.get("iat")
    if issued_at is not None and (
        not isinstance(issued_at, (int, float)) or isinstance(issued_at, bool)
    ):
        raise _invalid_claim("iat", issued_at, "the issue time in epoch seconds")
    if agent_id is not None and agent_created_at is None and issued_at is None:
        # Without either claim, no check can tell the agent row from one created later with its id.
        raise _invalid_claim(
            "iat", None, "the issue time in epoch seconds, because the token names an agent"
        )
    mailbox_ids = _string_list(claims.get("mbx"))
    if mailbox_ids is None:
        raise _invalid_claim("mbx", claims.get("mbx"), "a list of mailbox ids (strings)")
    if role == "agent" and agent_id is not None and mailbox_ids:
        raise AuthenticationFailed(
            f"the token's mbx claim limits agent {as_sent(agent_id)} to mailboxes "
            f"{', '.join(mailbox_ids)}, but routing assigns an agent handoffs of every "
            "mailbox once its socket is open; issue the agent token without mbx, or a viewer "
            "token with mbx",
            details={"field": "mbx", "value": list(mailbox_ids), "expected": []},
        )
    subject = str(claims["sub"])
    expires_at = claims.get("exp")
    return Principal(
        org_id=org_id,
        role=role,
        kind="token",
        subject=subject,
        customer_id=customer_id if role == "customer" else None,
        agent_id=agent_id,
        agent_created_at=agent_created_at,
        issued_at=int(issued_at) if issued_at is not None else None,
        mailbox_ids=mailbox_ids,
        rate_limit_key=f"token:{org_id}:{subject}",
        expires_at=int(expires_at) if isinstance(expires_at, (int, float)) else None,
    )


def issued_for_agent_row(principal: Principal, created_at: int) -> bool:
    """Tell whether ``principal``'s token was issued for the agent row created at ``created_at``.

    A token with ``agc`` names the row by its creation time (epoch ms). A
    token without it (an identity provider's, or one this server issued
    before the claim existed) must be issued after the row was created, so
    a row created again with a deleted agent's id does not inherit it.
    ``iat`` has whole seconds, and the issuer's clock may run behind ours by
    up to ``LEEWAY_SECONDS``, as ``nbf`` and ``exp`` allow.
    NOTE: so a row created again within that allowance after the token still accepts it.
    """
    if principal.agent_created_at is not None:
        return principal.agent_created_at == created_at
    if principal.issued_at is None:
        return False
    latest_created_at = (principal.issued_at + 1 + LEEWAY_SECONDS) * 1000
    return created_at < latest_created_at


def external_key_from_settings(settings: Any) -> ExternalKey | None:
    """Return the configured identity-provider key, or ``None`` when none is set."""
    if not settings.jwt_public_key:
        return None
    return load_external_key(
        settings.jwt_public_key,
        settings.jwt_external_issuer or settings.jwt_issuer,
        settings.jwt_external_audience or settings.jwt_audience,
    )
