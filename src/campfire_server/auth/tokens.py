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
    segments = token.count(".") + 1
    if segments != 3:
        raise AuthenticationFailed(
            f"the token is malformed: it has {segments} dot-separated "
            f"{'segment' if segments == 1 else 'segments'}, but a JSON Web Token has three "
            "(header.payload.signature); send the token exactly as it was issued"
        )
    try:
        header = jwt.get_unverified_header(token)
    except jwt.DecodeError:
        raise AuthenticationFailed(
            "the token is malformed: a segment is not valid base64url, or its header is not a "
            "JSON object; send the token exactly as it was issued"
        ) from None
    except jwt.InvalidTokenError:
        # PyJWT rejects a kid that is not a string and a crit list it cannot honour.
        raise AuthenticationFailed(
            "the token's header has an invalid kid or crit parameter; issue a token whose kid "
            "is a string and whose header has no crit"
        ) from None
    if header.get("b64", True) is not True:
        raise AuthenticationFailed(
            "the token's header sets b64 to false (an unencoded payload), which is not "
            "accepted; issue a token with a base64url-encoded payload",
            details={"field": "b64", "value": detail_value(header.get("b64")), "expected": True},
        )
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
    except jwt.InvalidTokenError as error:
        raise _rejection(error, token, expected_issuer, expected_audience) from None
    _reject_future_issue_time(claims.get("iat"))
    return principal_from_claims(claims)


def _rejection(
    error: jwt.InvalidTokenError, token: str, issuer: str, audience: str
) -> AuthenticationFailed:
    """Return the error for PyJWT's rejection of ``token``, in this API's words.

    PyJWT's own messages are never shown, because they name its internals
    (such as ``detached_payload``) and do not say what to change.
    """
    if isinstance(error, jwt.ExpiredSignatureError):
        return AuthenticationFailed(
            f"the token has expired (its exp is more than {LEEWAY_SECONDS} seconds in the "
            "past); request a new token"
        )
    if isinstance(error, jwt.ImmatureSignatureError):
        return AuthenticationFailed(
            f"the token is not valid yet (its nbf is more than {LEEWAY_SECONDS} seconds in the "
            "future); wait until its nbf time, or issue it with nbf set to the current time"
        )
    if isinstance(error, jwt.InvalidAudienceError):
        return AuthenticationFailed(
            f"the token's audience is wrong; issue it with aud {as_sent(audience)}",
            details={"field": "aud", "expected": audience},
        )
    if isinstance(error, jwt.InvalidIssuerError):
        return AuthenticationFailed(
            f"the token's issuer is wrong; issue it with iss {as_sent(issuer)}",
            details={"field": "iss", "expected": issuer},
        )
    if isinstance(error, jwt.InvalidSignatureError):
        return AuthenticationFailed(
            "the token's signature is invalid; send the token exactly as it was issued, signed "
            "with this server's secret (HS256) or the configured identity provider's key"
        )
    expected = _registered_claims(issuer, audience)
    if isinstance(error, jwt.MissingRequiredClaimError) and error.claim in expected:
        return _invalid_claim(error.claim, None, expected[error.claim])
    # The signature has been verified by now, so the claims can be read to name the bad one.
    claims = _unverified_claims(token)
    if claims is None:
        return AuthenticationFailed(
            "the token's payload is not a JSON object; issue a token whose payload is a JSON "
            "object of claims"
        )
    for name, valid in _CLAIM_TYPE_CHECKS.items():
        if name in claims and not valid(claims[name]):
            return _invalid_claim(name, claims[name], expected[name])
    log.warning("token rejected for an unlisted reason", extra={"error": type(error).__name__})
    return AuthenticationFailed(
        "the token is invalid; request a new token from this server or the configured "
        "identity provider"
    )


def _registered_claims(issuer: str, audience: str) -> dict[str, str]:
    """Return what each registered claim that PyJWT checks must be, for error messages."""
    return {
        "exp": "the expiry time in epoch seconds",
        "nbf": "the start of validity in epoch seconds",
        "sub": "the subject as a string",
        "jti": "the token id as a string",
        "iss": as_sent(issuer),
        "aud": as_sent(audience),
    }


def _is_epoch_seconds(value: Any) -> bool:
    """Tell whether PyJWT reads ``value`` as a time, as it does whatever ``int()`` converts."""
    try:
        int(value)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


# The claim types that PyJWT (2.15) checks after the signature, in the order it checks them.
_CLAIM_TYPE_CHECKS = {
    "nbf": _is_epoch_seconds,
    "exp": _is_epoch_seconds,
    "sub": lambda value: isinstance(value, str),
    "jti": lambda value: isinstance(value, str),
}


def _unverified_claims(token: str) -> dict[str, Any] | None:
    """Return the claims of ``token`` without checking them, or None when they are not an object."""
    try:
        return jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None


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
