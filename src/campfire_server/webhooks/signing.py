"""Webhook signatures in the Standard Webhooks scheme.

Each request carries three headers:

* ``webhook-id``: the event id (``evt_...``), the same on every attempt;
* ``webhook-timestamp``: Unix seconds at the time of this attempt;
* ``webhook-signature``: ``v1,`` plus the base64 HMAC-SHA256 of
  ``"{id}.{timestamp}.{body}"``; during a secret rotation two such entries,
  separated by a space.

A secret of the form ``whsec_<base64>`` signs with the decoded bytes, as
off-the-shelf Standard Webhooks verifiers expect. Any other secret signs
with its UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from ..errors import ValidationFailed

SECRET_PREFIX = "whsec_"
GENERATED_SECRET_BYTES = 32
MIN_SECRET_LENGTH = 16
MAX_SECRET_LENGTH = 255
MIN_KEY_BYTES = 16


def generate_secret() -> str:
    """Return a new ``whsec_`` secret holding 32 random bytes in base64."""
    raw = secrets.token_bytes(GENERATED_SECRET_BYTES)
    return SECRET_PREFIX + base64.b64encode(raw).decode("ascii")


def _decode_prefixed(secret: str) -> bytes | None:
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def signing_key(secret: str) -> bytes:
    """Return the HMAC key of ``secret``: decoded base64 for ``whsec_``, else UTF-8 bytes."""
    if secret.startswith(SECRET_PREFIX):
        decoded = _decode_prefixed(secret)
        if decoded is not None:
            return decoded
    return secret.encode("utf-8")


def check_secret(secret: str, field: str = "secret") -> str:
    """Validate an integrator-supplied secret and return it unchanged."""
    expected = (
        f"{MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH} printable characters without spaces, "
        "or whsec_ followed by the base64 of at least 16 bytes"
    )
    if not MIN_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise ValidationFailed(
            f"{field} has {len(secret)} characters; it must have "
            f"{MIN_SECRET_LENGTH} to {MAX_SECRET_LENGTH}",
            field=field,
            value=f"<{len(secret)} characters>",
            expected=expected,
        )
    if any(char.isspace() or not char.isprintable() for char in secret):
        raise ValidationFailed(
            f"{field} contains whitespace or control characters",
            field=field,
            value="<hidden>",
            expected=expected,
        )
    if secret.startswith(SECRET_PREFIX):
        decoded = _decode_prefixed(secret)
        if decoded is None or len(decoded) < MIN_KEY_BYTES:
            raise ValidationFailed(
                f"{field} starts with whsec_ but the rest is not the base64 of at least "
                f"{MIN_KEY_BYTES} bytes; omit the prefix to use the text itself as the key",
                field=field,
                value="<hidden>",
                expected=expected,
            )
    return secret


def mask_secret(secret: str) -> str:
    """Return a hint such as ``whsec_...abcd`` that cannot be used to sign."""
    prefix = SECRET_PREFIX if secret.startswith(SECRET_PREFIX) else ""
    return f"{prefix}...{secret[-4:]}"


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """Return one ``v1,<base64>`` signature of ``body`` for this id and timestamp."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_header(keys: list[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` value: one signature per key, space-separated."""
    return " ".join(sign(key, message_id, timestamp, body) for key in keys)


def headers_for(keys: list[bytes], message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """Return the three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(keys, message_id, timestamp, body),
    }
