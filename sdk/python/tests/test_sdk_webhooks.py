"""campfire.webhooks.verify over raw bytes, checked against the standardwebhooks package."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timezone

import pytest
from standardwebhooks import Webhook

import campfire
from campfire import WebhookVerificationError
from campfire.webhooks import sign, verify

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()
NOW = 1_760_000_000

# Non-ASCII, a slash, quotes, a backslash and keys out of alphabetical order:
# re-serialising this JSON gives different bytes from what was signed.
RAW_BODY = (
    '{"id":"evt_1","type":"message.sent","timestamp":"2024-01-15T10:30:00.123Z","sequence":4,'
    '"data":{"message":{"content":"Café ☕ — price\\/€12 \\"quoted\\" \\\\ back",'
    '"metadata":{"z":1,"a":2}}}}'
).encode()


def delivery(body: bytes = RAW_BODY, secret: str = SECRET, timestamp: int = NOW) -> dict:
    return {
        "webhook-id": "evt_1",
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(body, secret, "evt_1", timestamp),
    }


def test_verify_returns_event():
    event = verify(RAW_BODY, delivery(), SECRET, now=NOW)
    assert event.id == "evt_1"
    assert event.type == "message.sent"
    assert event.sequence == 4
    assert event.data["message"]["metadata"] == {"z": 1, "a": 2}


def test_verify_accepts_decoded_text():
    assert verify(RAW_BODY.decode(), delivery(), SECRET, now=NOW).id == "evt_1"


def test_reserialised_json_fails():
    reserialised = json.dumps(json.loads(RAW_BODY)).encode()
    assert reserialised != RAW_BODY
    with pytest.raises(WebhookVerificationError, match="raw body"):
        verify(reserialised, delivery(), SECRET, now=NOW)


def test_dict_payload_is_type_error():
    with pytest.raises(TypeError, match="raw request body as bytes or str") as caught:
        verify(json.loads(RAW_BODY), delivery(), SECRET, now=NOW)
    assert "dict" in str(caught.value)


def test_signature_matches_standard_webhooks():
    signed_at = datetime.fromtimestamp(NOW, tz=timezone.utc)
    theirs = Webhook(SECRET).sign("evt_1", signed_at, RAW_BODY.decode())
    assert theirs == delivery()["webhook-signature"]


def test_standard_webhooks_accepts_our_signature():
    now = int(time.time())
    headers = delivery(timestamp=now)
    assert Webhook(SECRET).verify(RAW_BODY, headers)["id"] == "evt_1"


def test_plain_secret_is_utf8_bytes():
    secret = "your_webhook_secret"
    message = b"evt_1." + str(NOW).encode() + b"." + RAW_BODY
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    headers = {**delivery(), "webhook-signature": "v1," + base64.b64encode(digest).decode()}
    assert verify(RAW_BODY, headers, secret, now=NOW).id == "evt_1"
    with pytest.raises(WebhookVerificationError):
        verify(RAW_BODY, headers, SECRET, now=NOW)


def test_tolerance_rejects_old_and_future():
    headers = delivery()
    assert verify(RAW_BODY, headers, SECRET, now=NOW + 300).id == "evt_1"
    with pytest.raises(WebhookVerificationError, match="old"):
        verify(RAW_BODY, headers, SECRET, now=NOW + 301)
    with pytest.raises(WebhookVerificationError, match="future"):
        verify(RAW_BODY, headers, SECRET, now=NOW - 301)


def test_rewritten_timestamp_with_old_signature_fails():
    headers = {**delivery(), "webhook-timestamp": str(NOW + 301)}
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(RAW_BODY, headers, SECRET, now=NOW + 301)


def test_rotation_either_secret_verifies():
    new_secret = "whsec_" + base64.b64encode(b"n" * 32).decode()
    headers = delivery()
    headers["webhook-signature"] = (
        f"{sign(RAW_BODY, new_secret, 'evt_1', NOW)} {sign(RAW_BODY, SECRET, 'evt_1', NOW)}"
    )
    assert verify(RAW_BODY, headers, SECRET, now=NOW).id == "evt_1"
    assert verify(RAW_BODY, headers, new_secret, now=NOW).id == "evt_1"
    third = "whsec_" + base64.b64encode(b"x" * 32).decode()
    with pytest.raises(WebhookVerificationError):
        verify(RAW_BODY, headers, third, now=NOW)


@pytest.mark.parametrize(
    "change",
    [
        {"webhook-signature": "v1,"},
        {"webhook-signature": "v2," + delivery()["webhook-signature"][3:]},
        {"webhook-signature": delivery()["webhook-signature"][:-4]},
        {"webhook-id": "evt_2"},
        {"webhook-timestamp": "soon"},
    ],
)
def test_tampered_headers_fail(change):
    with pytest.raises(WebhookVerificationError):
        verify(RAW_BODY, {**delivery(), **change}, SECRET, now=NOW)


def test_tampered_body_fails():
    with pytest.raises(WebhookVerificationError):
        verify(RAW_BODY.replace(b"12", b"13"), delivery(), SECRET, now=NOW)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_named(missing):
    headers = {k: v for k, v in delivery().items() if k != missing}
    with pytest.raises(WebhookVerificationError, match=missing):
        verify(RAW_BODY, headers, SECRET, now=NOW)


def test_header_names_case_insensitive():
    headers = {key.title(): value for key, value in delivery().items()}
    assert verify(RAW_BODY, headers, SECRET, now=NOW).id == "evt_1"


def test_invalid_whsec_secret_explained():
    with pytest.raises(ValueError, match="not valid base64"):
        verify(RAW_BODY, delivery(), "whsec_not*base64", now=NOW)


def test_package_exposes_verify():
    assert campfire.webhooks.verify is verify
    assert issubclass(campfire.WebhookVerificationError, campfire.CampfireError)
