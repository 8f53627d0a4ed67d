"""Verify a Campfire webhook delivery on the receiving side.

Pass the raw request body exactly as it arrived. A body that was parsed
and serialised again usually differs in spacing, key order or escaping,
and then no signature matches::

    from campfire_server.webhooks.verify import verify, WebhookVerificationError

    event = verify(request_body_bytes, request_headers, "whsec_...")
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any

from .. import clock
from .signing import sign, signing_key

DEFAULT_TOLERANCE_SECONDS = 300


class WebhookVerificationError(Exception):
    """The delivery's headers, timestamp or signature did not verify."""


def _body_bytes(payload: Any) -> bytes:
    if isinstance(payload, str):
        return payload.encode("utf-8")
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, (dict, list)):
        raise TypeError(
            "verify() needs the raw request body as bytes or str, not a parsed "
            f"{type(payload).__name__}; pass the body before any JSON parsing "
            "(for example `await request.body()`), because re-serialised JSON "
            "does not match the signed bytes"
        )
    raise TypeError(
        f"verify() needs the raw request body as bytes or str, got {type(payload).__name__}"
    )


def verify(
    payload: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> Any:
    """Check the signature and timestamp of one delivery and return the parsed event.

    Args:
        payload: the raw request body, as bytes or as str (verified as UTF-8).
        headers: the request headers; names are matched case-insensitively.
        secret: the webhook secret exactly as Campfire returned it (``whsec_...``)
            or as you supplied it.
        tolerance: the largest accepted difference, in seconds, between
            ``webhook-timestamp`` and the current time, in either direction.

    Raises:
        TypeError: ``payload`` is not bytes or str (for example a parsed dict).
        WebhookVerificationError: a header is missing, the timestamp is outside
            the tolerance, or no signature matches.
    """
    body = _body_bytes(payload)
    lowered = {name.lower(): value for name, value in headers.items()}
    message_id = lowered.get("webhook-id")
    timestamp_text = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not (message_id and timestamp_text and signatures):
        raise WebhookVerificationError(
            "missing webhook-id, webhook-timestamp or webhook-signature header"
        )

    try:
        timestamp = int(timestamp_text)
    except ValueError:
        raise WebhookVerificationError(
            f"webhook-timestamp {timestamp_text[:40]!r} is not a whole number of seconds"
        ) from None
    now = clock.now_ms() // 1000
    if timestamp < now - tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp is {now - timestamp} s old; the tolerance is {tolerance} s"
        )
    if timestamp > now + tolerance:
        raise WebhookVerificationError(
            f"webhook-timestamp is {timestamp - now} s in the future; "
            f"the tolerance is {tolerance} s"
        )

    expected = sign(signing_key(secret), message_id, timestamp, body).encode()
    for candidate in signatures.split(" "):
        if hmac.compare_digest(expected, candidate.encode()):
            return json.loads(body)
    raise WebhookVerificationError("no signature in webhook-signature matches this secret")
