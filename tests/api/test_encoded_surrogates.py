"""Request bodies with UTF-8-encoded surrogates, which are not valid UTF-8.

CESU-8 and Java's modified UTF-8 encode each half of a surrogate pair as
three bytes, such as ED A0 80 for U+D800. UTF-8 forbids these sequences, so
a JSON body that contains one gets the not-valid-UTF-8 error and stores
nothing, whichever field the bytes are in.
"""

from __future__ import annotations

import pytest

from tests.api.test_errors import assert_envelope
from tests.helpers import create_agent, create_conversation, get_conversation

HIGH_SURROGATE = b"\xed\xa0\x80"  # U+D800
LOW_SURROGATE = b"\xed\xb0\x80"  # U+DC00
# U+1F600 as a pair of encoded surrogates, as CESU-8 writes it.
CESU_PAIR = b"\xed\xa0\xbd\xed\xb8\x80"

SURROGATE_BYTES = [HIGH_SURROGATE, LOW_SURROGATE, CESU_PAIR]


def _body(template: bytes, surrogate: bytes) -> bytes:
    return template.replace(b"@", surrogate)


async def _post_raw(client, tenant, method: str, path: str, body: bytes, **headers: str):  # type: ignore[no-untyped-def]
    return await client.request(
        method,
        path,
        content=body,
        headers={**tenant.headers, "Content-Type": "application/json", **headers},
    )


def _assert_not_utf8(response, body: bytes) -> None:  # type: ignore[no-untyped-def]
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "body"
    assert error["details"]["value"] is None
    position = body.index(b"\xed")
    assert error["message"] == f"the request body is not valid UTF-8 (error at byte {position})"
    assert "codec" not in error["message"]


@pytest.mark.parametrize("surrogate", SURROGATE_BYTES, ids=lambda value: value.hex())
@pytest.mark.parametrize(
    "template",
    [
        b'{"content":"abc@def","authorType":"customer"}',
        b'{"content":"@","authorType":"customer"}',
        b'{"content":"hello","metadata":{"k":"a@b"}}',
        b'{"content":"hello","metadata":{"a@b":1}}',
    ],
)
async def test_message_with_encoded_surrogate_is_400(client, tenant, template, surrogate):
    conversation = await create_conversation(client, tenant)
    body = _body(template, surrogate)

    response = await _post_raw(
        client, tenant, "POST", f"/conversations/{conversation['id']}/messages", body
    )

    _assert_not_utf8(response, body)
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


@pytest.mark.parametrize(
    "template",
    [
        b'{"customerId":"customer_@"}',
        b'{"customerId":"customer_test_A","subject":"a@b"}',
        b'{"customerId":"customer_test_A","metadata":{"k":"a@b"}}',
    ],
)
async def test_new_conversation_with_encoded_surrogate_is_400(client, tenant, template):
    body = _body(template, HIGH_SURROGATE)

    response = await _post_raw(client, tenant, "POST", "/conversations", body)

    _assert_not_utf8(response, body)
    listed = await client.get("/conversations", headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_conversation_update_with_encoded_surrogate_is_400(client, tenant):
    conversation = await create_conversation(client, tenant, metadata={"k": "before"})
    body = _body(b'{"metadata":{"k":"a@b"},"subject":"x@"}', HIGH_SURROGATE)

    response = await _post_raw(
        client, tenant, "PATCH", f"/conversations/{conversation['id']}", body
    )

    _assert_not_utf8(response, body)
    stored = await get_conversation(client, tenant, conversation["id"])
    assert stored["metadata"] == {"k": "before"}


async def test_handoff_context_with_encoded_surrogate_is_400(client, tenant):
    conversation = await create_conversation(client, tenant)
    body = _body(b'{"reason":"help","context":{"note":"a@b"}}', HIGH_SURROGATE)

    response = await _post_raw(
        client, tenant, "POST", f"/conversations/{conversation['id']}/handoff", body
    )

    _assert_not_utf8(response, body)
    listed = await client.get("/handoffs", headers=tenant.headers)
    assert listed.json()["data"] == []


async def test_agent_skill_with_encoded_surrogate_is_400(client, tenant):
    agent = await create_agent(client, tenant, "agent_surrogate", skills=["billing"])
    body = _body(b'{"skills":["a@b"]}', HIGH_SURROGATE)

    response = await _post_raw(client, tenant, "PATCH", f"/agents/{agent['id']}", body)

    _assert_not_utf8(response, body)
    stored = await client.get(f"/agents/{agent['id']}", headers=tenant.headers)
    assert stored.json()["skills"] == ["billing"]


async def test_webhook_url_with_encoded_surrogate_is_400(client, tenant):
    created = await client.post(
        "/webhooks",
        json={"url": "https://hooks.example.com/before", "events": ["conversation.created"]},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    webhook_id = created.json()["id"]
    create_body = _body(
        b'{"url":"https://hooks.example.com/a@b","events":["conversation.created"]}',
        HIGH_SURROGATE,
    )
    update_body = _body(b'{"url":"https://hooks.example.com/a@b"}', HIGH_SURROGATE)

    create_response = await _post_raw(client, tenant, "POST", "/webhooks", create_body)
    update_response = await _post_raw(
        client, tenant, "PATCH", f"/webhooks/{webhook_id}", update_body
    )

    _assert_not_utf8(create_response, create_body)
    _assert_not_utf8(update_response, update_body)
    listed = await client.get("/webhooks", headers=tenant.headers)
    assert [hook["url"] for hook in listed.json()["data"]] == ["https://hooks.example.com/before"]


async def test_encoded_surrogate_keeps_idempotency_key(client, tenant):
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}/messages"
    key = "surrogate-retry-1"
    bad_body = _body(b'{"content":"abc@def","authorType":"customer"}', HIGH_SURROGATE)

    rejected = await _post_raw(client, tenant, "POST", path, bad_body, **{"Idempotency-Key": key})
    accepted = await _post_raw(
        client,
        tenant,
        "POST",
        path,
        b'{"content":"abcdef","authorType":"customer"}',
        **{"Idempotency-Key": key},
    )

    _assert_not_utf8(rejected, bad_body)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["content"] == "abcdef"
    assert "idempotent-replayed" not in accepted.headers
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1
