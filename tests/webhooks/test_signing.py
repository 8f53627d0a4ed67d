"""Secrets, signatures and the receiver-side verification helper."""

from __future__ import annotations

import base64
import json

import pytest
import standardwebhooks

from campfire_server.errors import ValidationFailed
from campfire_server.webhooks import signing
from campfire_server.webhooks.verify import WebhookVerificationError, verify

BODY = '{"id":"evt_1","type":"message.sent","data":{"content":"Café ☕"}}'.encode()


def _headers(secret: str, timestamp: int, body: bytes = BODY, message_id: str = "evt_1") -> dict:
    keys = [signing.signing_key(secret)]
    return signing.headers_for(keys, message_id, timestamp, body)


def test_generated_secret_format():
    secret = signing.generate_secret()

    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret[len("whsec_") :], validate=True)) == 32
    assert signing.generate_secret() != secret


def test_whsec_secret_decodes_like_standard_verifiers(frozen):
    secret = signing.generate_secret()
    now = frozen.now_ms() // 1000
    headers = _headers(secret, now)

    expected = standardwebhooks.Webhook(secret).sign("evt_1", frozen.now(), BODY)
    assert headers["webhook-signature"] == expected


def test_plain_secret_uses_utf8_bytes(frozen):
    secret = "your_webhook_secret"
    headers = _headers(secret, frozen.now_ms() // 1000)
    # An off-the-shelf verifier takes the key as bytes, or as whsec_ + base64 of them.
    as_whsec = "whsec_" + base64.b64encode(secret.encode()).decode()

    assert (
        standardwebhooks.Webhook(secret.encode()).sign("evt_1", frozen.now(), BODY)
        == (headers["webhook-signature"])
    )
    assert verify(BODY, headers, secret)["type"] == "message.sent"
    assert verify(BODY, headers, as_whsec)["type"] == "message.sent"


def test_two_keys_give_two_signatures():
    old, new = signing.generate_secret(), signing.generate_secret()
    header = signing.signature_header(
        [signing.signing_key(new), signing.signing_key(old)], "evt_1", 1700000000, BODY
    )
    first, second = header.split(" ")

    assert first == signing.sign(signing.signing_key(new), "evt_1", 1700000000, BODY)
    assert second == signing.sign(signing.signing_key(old), "evt_1", 1700000000, BODY)


def test_mask_keeps_only_a_hint():
    assert signing.mask_secret("whsec_abcdefghijklmnopqrstuvwxyz12") == "whsec_...yz12"
    assert signing.mask_secret("plain-secret-value-1234") == "...1234"


@pytest.mark.parametrize(
    "secret",
    ["short", "x" * 256, "whsec_bm90IGVub3VnaA==", "whsec_%%%%%%%%%%%%%%%%", "tab\tinside-secret"],
)
def test_check_secret_rejects(secret):
    with pytest.raises(ValidationFailed) as raised:
        signing.check_secret(secret)
    assert raised.value.details["field"] == "secret"


def test_verify_accepts_bytes_and_str(frozen):
    secret = signing.generate_secret()
    headers = _headers(secret, frozen.now_ms() // 1000)

    assert verify(BODY, headers, secret)["id"] == "evt_1"
    assert verify(BODY.decode(), headers, secret)["id"] == "evt_1"
    upper = {name.upper(): value for name, value in headers.items()}
    assert verify(BODY, upper, secret)["id"] == "evt_1"


def test_verify_rejects_dict_payload_clearly(frozen):
    secret = signing.generate_secret()
    headers = _headers(secret, frozen.now_ms() // 1000)

    with pytest.raises(TypeError, match="raw request body as bytes or str"):
        verify(json.loads(BODY), headers, secret)


@pytest.mark.parametrize("offset", [-301, 301])
def test_verify_rejects_timestamp_outside_tolerance(frozen, offset):
    secret = signing.generate_secret()
    headers = _headers(secret, frozen.now_ms() // 1000 + offset)

    with pytest.raises(WebhookVerificationError, match="tolerance"):
        verify(BODY, headers, secret)
    assert verify(BODY, headers, secret, tolerance=302)["id"] == "evt_1"


def test_verify_rejects_tampering(frozen):
    secret = signing.generate_secret()
    now = frozen.now_ms() // 1000
    headers = _headers(secret, now)
    cases = [
        (BODY.replace(b"Caf", b"caf"), headers),
        (BODY, {**headers, "webhook-signature": headers["webhook-signature"][:-3]}),
        (BODY, {**headers, "webhook-id": "evt_2"}),
        (BODY, {**headers, "webhook-timestamp": str(now - 1)}),
        (BODY, {key: value for key, value in headers.items() if key != "webhook-signature"}),
        (BODY, {**headers, "webhook-timestamp": "soon"}),
    ]
    for body, changed in cases:
        with pytest.raises(WebhookVerificationError):
            verify(body, changed, secret)
    with pytest.raises(WebhookVerificationError):
        verify(BODY, headers, signing.generate_secret())
