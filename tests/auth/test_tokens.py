"""JWT verification: server tokens, identity-provider tokens and hostile tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from campfire_server.app import create_app
from campfire_server.auth.tokens import load_external_key, verify_token
from campfire_server.errors import AuthenticationFailed
from tests.auth.conftest import bearer
from tests.conftest import test_settings as make_settings

SECRET = "server-secret-for-tests-0123456789abcdef"
ISSUER = "campfire"
AUDIENCE = "campfire"
IDP_ISSUER = "https://idp.example"
IDP_AUDIENCE = "campfire-api"

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def public_pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def claims(**overrides):
    now = int(time.time())
    base = {
        "sub": "user_1",
        "org": "org_test",
        "role": "agent",
        "aid": "agt_1",
        "mbx": [],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def verify(token: str, external=None):
    return verify_token(token, secret=SECRET, issuer=ISSUER, audience=AUDIENCE, external=external)


def rejected(token: str, external=None) -> str:
    with pytest.raises(AuthenticationFailed) as caught:
        verify(token, external)
    return caught.value.message


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_server_token():
    principal = verify(jwt.encode(claims(), SECRET, algorithm="HS256"))
    assert principal.role == "agent"
    assert principal.org_id == "org_test"
    assert principal.agent_id == "agt_1"
    assert principal.kind == "token"


def test_customer_claims():
    token = jwt.encode(claims(role="customer", cid="customer_1", mbx=["mbx_1"]), SECRET)
    principal = verify(token)
    assert principal.customer_id == "customer_1"
    assert principal.mailbox_ids == ("mbx_1",)
    assert "cid" in rejected(jwt.encode(claims(role="customer"), SECRET))


def test_expired_token():
    now = int(time.time())
    assert "expired" in rejected(jwt.encode(claims(exp=now - 31), SECRET))
    # Inside the 30 s leeway the token still passes.
    verify(jwt.encode(claims(exp=now - 20), SECRET))


def test_not_yet_valid_token():
    now = int(time.time())
    assert "not valid yet" in rejected(jwt.encode(claims(nbf=now + 120), SECRET))
    verify(jwt.encode(claims(nbf=now + 20), SECRET))


def test_forged_signature():
    assert "signature" in rejected(jwt.encode(claims(), "another-secret-0123456789abcdef0"))
    token = jwt.encode(claims(), SECRET)
    header, payload, signature = token.split(".")
    tampered = f"{header}.{b64(claims(role='admin'))}.{signature}"
    assert "signature" in rejected(tampered)


def test_wrong_audience_and_issuer():
    assert "audience" in rejected(jwt.encode(claims(aud="someone-else"), SECRET))
    assert "issuer" in rejected(jwt.encode(claims(iss="someone-else"), SECRET))
    assert rejected(jwt.encode(claims(aud=None), SECRET))


def test_alg_none_rejected():
    for alg in ("none", "None", "NONE"):
        token = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims(role='admin'))}."
        assert "not accepted" in rejected(token)


def hs256_signed_with(key_text: str, payload: dict) -> str:
    """Sign by hand, because PyJWT refuses a PEM key as an HMAC secret."""
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(payload)}"
    digest = hmac.new(key_text.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def test_algorithm_confusion_rejected():
    pem = public_pem(RSA_KEY)
    external = load_external_key(pem, IDP_ISSUER, IDP_AUDIENCE)
    for payload in (claims(iss=IDP_ISSUER, aud=IDP_AUDIENCE), claims()):
        assert "signature" in rejected(hs256_signed_with(pem, payload), external)


def test_identity_provider_rs256_and_es256():
    for private_key, algorithm in ((RSA_KEY, "RS256"), (EC_KEY, "ES256")):
        external = load_external_key(public_pem(private_key), IDP_ISSUER, IDP_AUDIENCE)
        assert external.algorithm == algorithm
        good = jwt.encode(claims(iss=IDP_ISSUER, aud=IDP_AUDIENCE), private_key, algorithm)
        assert verify(good, external).role == "agent"
        # The server's own issuer and audience do not apply to provider tokens.
        assert rejected(jwt.encode(claims(), private_key, algorithm), external)
        assert "not accepted" in rejected(good)


def test_identity_provider_wrong_key():
    external = load_external_key(public_pem(RSA_KEY), IDP_ISSUER, IDP_AUDIENCE)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims(iss=IDP_ISSUER, aud=IDP_AUDIENCE), stranger, "RS256")
    assert "signature" in rejected(token, external)
    # An ES256 token is not accepted when the configured key is RSA.
    es_token = jwt.encode(claims(iss=IDP_ISSUER, aud=IDP_AUDIENCE), EC_KEY, "ES256")
    assert "not accepted" in rejected(es_token, external)


def test_limited_agent_token_rejected():
    message = rejected(jwt.encode(claims(mbx=["mbx_1"]), SECRET))
    assert message.startswith('the token\'s mbx claim limits agent "agt_1" to mailboxes mbx_1')
    assert verify(jwt.encode(claims(role="viewer", mbx=["mbx_1"]), SECRET)).mailbox_ids == (
        "mbx_1",
    )
    assert verify(jwt.encode(claims(aid=None, mbx=["mbx_1"]), SECRET)).agent_id is None


def test_bad_claim_types():
    assert rejected(jwt.encode(claims(role="superuser"), SECRET))
    assert rejected(jwt.encode(claims(org=None), SECRET))
    assert rejected(jwt.encode(claims(mbx="mbx_1"), SECRET))
    assert rejected("not.a.token")


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"role": "superuser"}, 'the token\'s role claim "superuser" is invalid'),
        ({"role": True}, "the token's role claim true is invalid"),
        ({"org": None}, "the token's org claim is missing"),
        ({"org": 7}, "the token's org claim 7 is invalid"),
        ({"role": "customer"}, "the token's cid claim is missing"),
        ({"aid": False}, "the token's aid claim false is invalid"),
        ({"mbx": "mbx_1"}, 'the token\'s mbx claim "mbx_1" is invalid'),
        ({"mbx": [1, None]}, "the token's mbx claim [1,null] is invalid"),
        ({"agc": "1700000000000"}, 'the token\'s agc claim "1700000000000" is invalid'),
        ({"agc": True}, "the token's agc claim true is invalid"),
        ({"aid": None, "agc": 1700000000000}, "the token's agc claim 1700000000000 is invalid"),
        ({"iat": "1700000000"}, 'the token\'s iat claim "1700000000" is invalid'),
        ({"iat": True}, "the token's iat claim true is invalid"),
        ({"iat": None}, "the token's iat claim is missing"),
    ],
)
def test_claim_errors_spell_json(overrides, expected):
    message = rejected(jwt.encode(claims(**overrides), SECRET))

    assert message.startswith(expected)
    assert "issue a token whose" in message
    assert "True" not in message
    assert "None" not in message


def test_alg_error_spells_json():
    token = f"{b64({'alg': None, 'typ': 'JWT'})}.{b64(claims())}."

    message = rejected(token)

    assert message.startswith("the token's alg null is not accepted; sign it with HS256")


async def test_hostile_tokens_over_http(db, tenant):
    pem = public_pem(RSA_KEY)
    settings = make_settings(
        db.url,
        jwt_secret=SECRET,
        jwt_public_key=pem,
        jwt_external_issuer=IDP_ISSUER,
        jwt_external_audience=IDP_AUDIENCE,
    )
    app = create_app(settings, db=db)
    now = int(time.time())
    org = {"org": tenant.org_id, "role": "admin"}
    idp = {"iss": IDP_ISSUER, "aud": IDP_AUDIENCE}
    tokens = {
        "expired": jwt.encode(claims(exp=now - 120, **org), SECRET),
        "not yet valid": jwt.encode(claims(nbf=now + 120, **org), SECRET),
        "forged": jwt.encode(claims(**org), "forged-secret-0123456789abcdef012"),
        "wrong audience": jwt.encode(claims(aud="other", **org), SECRET),
        "alg none": f"{b64({'alg': 'none'})}.{b64(claims(**org))}.",
        "confused": hs256_signed_with(pem, claims(**org, **idp)),
        "confused, server audience": hs256_signed_with(pem, claims(**org)),
    }
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as client:
            # The agent that the claims name, so only the signatures are on trial.
            agent = await client.post(
                "/agents", json={"id": "agt_1", "name": "One"}, headers=tenant.headers
            )
            assert agent.status_code in (201, 409), agent.text
            for label, token in tokens.items():
                response = await client.get("/conversations", headers=bearer(token))
                assert response.status_code == 401, label
                assert response.json()["error"]["code"] == "AUTHENTICATION_ERROR", label
            good = jwt.encode(claims(**org, **idp), RSA_KEY, "RS256")
            response = await client.get("/conversations", headers=bearer(good))
            assert response.status_code == 200, response.text
            own = jwt.encode(claims(**org), SECRET)
            assert (await client.get("/conversations", headers=bearer(own))).status_code == 200


def test_weak_public_key_rejected():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError):
        load_external_key(public_pem(small), IDP_ISSUER, IDP_AUDIENCE)
    with pytest.raises(ValueError):
        load_external_key(public_pem(ec.generate_private_key(ec.SECP384R1())), "i", "a")


# Fragments of PyJWT's own messages, none of which may reach a client.
PYJWT_WORDING = (
    "Token is missing",
    "must be a string",
    "must be an integer",
    "detached_payload",
    "Signature verification failed",
    "Signature has expired",
    "not yet valid",
    "Not enough segments",
    "Invalid header",
    "Invalid payload",
    "Invalid crypto",
    "Invalid audience",
    "Invalid issuer",
    "Key ID header",
    "Unsupported critical extension",
)


def assert_own_wording(message: str) -> None:
    for fragment in PYJWT_WORDING:
        assert fragment not in message


def signed_payload(payload_bytes: bytes) -> str:
    """Sign an arbitrary payload segment with the server secret."""
    payload = base64.urlsafe_b64encode(payload_bytes).rstrip(b"=").decode()
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{payload}"
    digest = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).rstrip(b'=').decode()}"


def hostile_tokens() -> list[tuple[str, str, str]]:
    now = int(time.time())
    garbage_signature = f"{b64({'alg': 'HS256'})}.{b64(claims())}.!!!"
    return [
        (
            "expired",
            jwt.encode(claims(exp=now - 120), SECRET),
            "the token has expired (its exp is more than 30 seconds in the past); "
            "request a new token",
        ),
        (
            "not yet valid",
            jwt.encode(claims(nbf=now + 120), SECRET),
            "the token is not valid yet (its nbf is more than 30 seconds in the future); "
            "wait until its nbf time, or issue it with nbf set to the current time",
        ),
        (
            "bad signature",
            jwt.encode(claims(), "another-secret-0123456789abcdef0"),
            "the token's signature is invalid; send the token exactly as it was issued, "
            "signed with this server's secret (HS256) or the configured identity provider's key",
        ),
        (
            "wrong audience",
            jwt.encode(claims(aud="someone-else"), SECRET),
            'the token\'s audience is wrong; issue it with aud "campfire"',
        ),
        (
            "no exp",
            jwt.encode(claims(exp=None), SECRET),
            "the token's exp claim is missing; issue a token whose exp is the expiry time in "
            "epoch seconds",
        ),
        (
            "no sub",
            jwt.encode(claims(sub=None), SECRET),
            "the token's sub claim is missing; issue a token whose sub is the subject as a string",
        ),
        (
            "no iss",
            jwt.encode(claims(iss=None), SECRET),
            'the token\'s iss claim is missing; issue a token whose iss is "campfire"',
        ),
        (
            "no aud",
            jwt.encode(claims(aud=None), SECRET),
            'the token\'s aud claim is missing; issue a token whose aud is "campfire"',
        ),
        (
            "sub number",
            jwt.encode(claims(sub=5), SECRET),
            "the token's sub claim 5 is invalid; issue a token whose sub is the subject as "
            "a string",
        ),
        (
            "exp text",
            jwt.encode(claims(exp="soon"), SECRET),
            'the token\'s exp claim "soon" is invalid; issue a token whose exp is the expiry '
            "time in epoch seconds",
        ),
        (
            "nbf text",
            jwt.encode(claims(nbf="soon"), SECRET),
            'the token\'s nbf claim "soon" is invalid; issue a token whose nbf is the start of '
            "validity in epoch seconds",
        ),
        (
            "jti number",
            jwt.encode(claims(jti=5), SECRET),
            "the token's jti claim 5 is invalid; issue a token whose jti is the token id as "
            "a string",
        ),
        (
            "payload array",
            signed_payload(b"[1]"),
            "the token's payload is not a JSON object; issue a token whose payload is a JSON "
            "object of claims",
        ),
        (
            "unencoded payload",
            f"{b64({'alg': 'HS256', 'b64': False, 'crit': ['b64']})}..c2ln",
            "the token's header sets b64 to false (an unencoded payload), which is not "
            "accepted; issue a token with a base64url-encoded payload",
        ),
        (
            "kid number",
            f"{b64({'alg': 'HS256', 'kid': 5})}.{b64(claims())}.c2ln",
            "the token's header has an invalid kid or crit parameter; issue a token whose kid "
            "is a string and whose header has no crit",
        ),
        (
            "two segments",
            "abc.def",
            "the token is malformed: it has 2 dot-separated segments, but a JSON Web Token has "
            "three (header.payload.signature); send the token exactly as it was issued",
        ),
        (
            "signature not base64url",
            garbage_signature,
            "the token is malformed: a segment is not valid base64url, or its header is not a "
            "JSON object; send the token exactly as it was issued",
        ),
    ]


@pytest.mark.parametrize("label", [label for label, _, _ in hostile_tokens()])
def test_rejection_in_own_words(label):
    # The tokens are signed when the test runs, not at collection: in a long
    # run a token whose times were set minutes earlier would fail otherwise.
    token, expected = next((t, e) for name, t, e in hostile_tokens() if name == label)

    message = rejected(token)

    assert message == expected
    assert_own_wording(message)


async def test_rejection_envelope_own_words(db, tenant):
    app = create_app(make_settings(db.url, jwt_secret=SECRET), db=db)
    now = int(time.time())
    org = {"org": tenant.org_id}
    agent_token = jwt.encode(claims(role="agent", exp=None, **org), SECRET)
    customer_token = jwt.encode(
        claims(role="customer", cid="cus_1", aid=None, sub=7, exp=now + 600, **org), SECRET
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as client:
            agent = await client.get("/conversations", headers=bearer(agent_token))
            customer = await client.get("/conversations", headers=bearer(customer_token))

    assert agent.status_code == 401
    agent_error = agent.json()["error"]
    assert agent_error["code"] == "AUTHENTICATION_ERROR"
    assert agent_error["message"] == (
        "the token's exp claim is missing; issue a token whose exp is the expiry time in "
        "epoch seconds"
    )
    assert agent_error["details"]["field"] == "exp"
    assert "Token is missing" not in agent.headers["www-authenticate"]
    assert customer.status_code == 401
    customer_error = customer.json()["error"]
    assert customer_error["message"] == (
        "the token's sub claim 7 is invalid; issue a token whose sub is the subject as a string"
    )
    assert customer_error["details"]["value"] == 7
    assert_own_wording(customer.headers["www-authenticate"])
