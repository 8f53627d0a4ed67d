"""Verify webhook deliveries signed by Campfire (the Standard Webhooks scheme).

Each delivery carries three headers:

* ``webhook-id``: the event id, the same on every retry of one event;
* ``webhook-timestamp``: Unix seconds when this attempt was signed;
* ``webhook-signature``: space-separated ``v1,<base64 HMAC-SHA256>`` values over
  ``"{webhook-id}.{webhook-timestamp}.{raw body}"``. During a secret rotation
  it carries one signature per valid secret.

A ``whsec_`` secret is the base64 of the key after the prefix; any other
secret is used as its UTF-8 bytes.

Always pass the raw request body exactly as received. Parsing the JSON and
serialising it again changes the bytes (spacing, key order, escapes) and
breaks the signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from ._exceptions import WebhookVerificationError
from ._models import WebhookEvent

__all__ = ["DEFAULT_TOLERANCE", "WebhookVerificationError", "sign", "verify"]

DEFAULT_TOLERANCE = 300
"""Seconds a delivery's timestamp may differ from the receiver's clock."""

SECRET_PREFIX = "whsec_"


def signing_key(secret: str | bytes) -> bytes:
    """Return the HMAC key of a webhook secret."""
    if isinstance(secret, bytes):
        return secret
    if not isinstance(secret, str) or not secret:
        raise TypeError("the webhook secret must be a non-empty str")
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
        except binascii.Error as error:
            raise ValueError(
                "the webhook secret starts with whsec_ but the rest is not valid base64; "
                "copy the secret exactly as the API returned it"
            ) from error
    return secret.encode("utf-8")


def _raw_body(payload: Any) -> bytes:
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, str):
        return payload.encode("utf-8")
    raise TypeError(
        f"verify() needs the raw request body as bytes or str, got {type(payload).__name__}. "
        "Pass the body exactly as received (for example request.body() or request.get_data()), "
        "not parsed JSON: serialising it again changes the bytes and breaks the signature."
    )


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing {name} header")


def sign(payload: bytes | str, secret: str | bytes, msg_id: str, timestamp: int | str) -> str:
    """Return the ``v1,<signature>`` value for a payload, as the server computes it."""
    message = f"{msg_id}.{timestamp}.".encode() + _raw_body(payload)
    digest = hmac.new(signing_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str | bytes,
    tolerance: int = DEFAULT_TOLERANCE,
    *,
    now: float | None = None,
) -> WebhookEvent:
    """Check a delivery's signature and timestamp, then return the parsed event.

    Args:
        payload: the raw request body as bytes (or the same text as str).
        headers: the request headers; names are matched case-insensitively.
        secret: the subscription's signing secret.
        tolerance: seconds the timestamp may be away from ``now``, in either direction.
        now: the current Unix time; defaults to ``time.time()``.

    Raises:
        WebhookVerificationError: a header is missing, the timestamp is outside the
            tolerance, or no signature matches.
        TypeError: ``payload`` is not bytes or str (for example an already-parsed dict).
    """
    body = _raw_body(payload)
    msg_id = _header(headers, "webhook-id")
    timestamp_text = _header(headers, "webhook-timestamp")
    signatures = _header(headers, "webhook-signature")

    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError(
            f"webhook-timestamp is not a Unix time in seconds: {timestamp_text!r}"
        ) from None
    current = time.time() if now is None else now
    if timestamp < current - tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp {timestamp} is more than {tolerance} s old; "
            "the delivery may be a replay"
        )
    if timestamp > current + tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp {timestamp} is more than {tolerance} s in the future; "
            "check the receiver's clock"
        )

    expected = sign(body, secret, msg_id, timestamp_text).encode()
    for candidate in signatures.split():
        version, _, _ = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(candidate.encode(), expected):
            break
    else:
        raise WebhookVerificationError(
            "no signature in webhook-signature matches this body and secret; "
            "check the secret and pass the raw body"
        )

    try:
        return WebhookEvent.model_validate(json.loads(body))
    except ValueError as error:
        raise WebhookVerificationError(
            f"the signed body is not a webhook event: {error}"
        ) from error
