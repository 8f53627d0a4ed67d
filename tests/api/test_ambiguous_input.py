"""Input that could be read two ways: repeated keys, parameters and headers, other encodings."""

from __future__ import annotations

import pytest

from tests.api.test_errors import assert_envelope
from tests.helpers import create_conversation, get_conversation


async def post_raw_message(  # type: ignore[no-untyped-def]
    client, tenant, conversation_id, body, content_type="application/json"
):
    """Post ``body`` as bytes to a conversation's messages, with ``content_type``."""
    return await client.post(
        f"/conversations/{conversation_id}/messages",
        content=body,
        headers={**tenant.headers, "Content-Type": content_type},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b'{"content":"one","content":"two"}', "content"),
        (b'{"content":"hi","metadata":{"source":"a","source":"b"}}', "metadata.source"),
        (b'{"content":"hi","metadata":{"items":[{"k":1,"k":2}]}}', "metadata.items[0].k"),
    ],
)
async def test_duplicate_body_key_is_400(client, tenant, body, field):
    conversation = await create_conversation(client, tenant)

    response = await post_raw_message(client, tenant, conversation["id"], body)

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == field
    assert error["message"] == (
        f"{field} appears more than once in the body; send each key of an object once"
    )
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


async def test_repeated_query_parameter_is_400(client, tenant):
    response = await client.get("/conversations?status=open&status=closed", headers=tenant.headers)

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "status"
    assert error["details"]["value"] == ["open", "closed"]
    assert "'status' was sent 2 times" in error["message"]


async def test_list_query_parameter_may_repeat(client, tenant):
    response = await client.get("/handoffs?status=queued&status=assigned", headers=tenant.headers)

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", ["/conversations", "/conversations/{id}/messages"])
async def test_cursor_with_page_is_400(client, tenant, path):
    conversation = await create_conversation(client, tenant)
    await create_conversation(client, tenant)
    url = path.format(id=conversation["id"])
    first = await client.get(url, params={"limit": 1}, headers=tenant.headers)
    cursor = first.json()["pagination"]["nextCursor"] or "unused"

    response = await client.get(
        url, params={"cursor": cursor, "page": 2, "limit": 1}, headers=tenant.headers
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "page"
    assert "cursor and page were both sent" in error["message"]


async def test_two_idempotency_keys_are_400(client, tenant):
    conversation = await create_conversation(client, tenant)
    headers = [
        *tenant.headers.items(),
        ("Idempotency-Key", "key-one"),
        ("Idempotency-Key", "key-two"),
    ]

    response = await client.post(
        f"/conversations/{conversation['id']}/messages",
        json={"content": "hello"},
        headers=headers,
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "Idempotency-Key"
    assert error["details"]["value"] == ["key-one", "key-two"]
    assert "sent 2 times" in error["message"]
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


@pytest.mark.parametrize(
    ("charset", "shown"),
    [("utf-16", "utf-16"), ("UTF-16LE", "UTF-16LE"), ('"ISO-8859-1"', "ISO-8859-1")],
)
async def test_other_charset_is_415(client, tenant, charset, shown):
    conversation = await create_conversation(client, tenant)

    response = await post_raw_message(
        client,
        tenant,
        conversation["id"],
        b'{"content":"hello"}',
        f"application/json; charset={charset}",
    )

    error = assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert error["message"].startswith(f"charset {shown!r} is not supported")
    assert "encode the JSON body as UTF-8" in error["message"]
    assert error["details"]["value"] == shown
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


@pytest.mark.parametrize("parameter", ["charset=", 'Charset=""', "charset= "])
async def test_empty_charset_is_415(client, tenant, parameter):
    conversation = await create_conversation(client, tenant)

    response = await post_raw_message(
        client,
        tenant,
        conversation["id"],
        b'{"content":"hello"}',
        f"application/json; {parameter}",
    )

    error = assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    sent = parameter.strip()
    assert error["message"].startswith(f"the charset parameter {sent!r} is empty")
    assert "charset ''" not in error["message"]
    assert error["details"]["value"] == sent
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf-8"'])
async def test_utf8_charset_is_accepted(client, tenant, charset):
    conversation = await create_conversation(client, tenant)

    response = await post_raw_message(
        client,
        tenant,
        conversation["id"],
        '{"content":"héllo"}'.encode(),
        f"application/json; charset={charset}",
    )

    assert response.status_code == 201, response.text
    assert response.json()["content"] == "héllo"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'\xef\xbb\xbf{"content":"hello"}', "starts with a UTF-8 byte order mark"),
        ('{"content":"hello"}'.encode("utf-16"), "starts with a UTF-16 byte order mark"),
        ('{"content":"hello"}'.encode("utf-32"), "starts with a UTF-32 byte order mark"),
        ('{"content":"hello"}'.encode("utf-16-le"), "as UTF-16 or UTF-32 text has"),
        ('{"content":"hello"}'.encode("utf-16-be"), "as UTF-16 or UTF-32 text has"),
    ],
)
async def test_bom_or_utf16_body_is_400(client, tenant, body, message):
    conversation = await create_conversation(client, tenant)

    response = await post_raw_message(client, tenant, conversation["id"], body)

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "body"
    assert message in error["message"]
    assert "UTF-8" in error["message"]
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        ("charset=ütf-8".encode(), "ütf-8"),
        (b"charset=caf\xe9", "caf\\xe9"),
    ],
)
async def test_non_ascii_charset_shown_as_sent(client, tenant, header, shown):
    conversation = await create_conversation(client, tenant)

    response = await post_raw_message(
        client,
        tenant,
        conversation["id"],
        b'{"content":"hello"}',
        b"application/json; " + header,
    )

    error = assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert error["message"].startswith(f"charset {shown!r} is not supported")
    assert error["details"]["value"] == shown
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


async def test_quoted_blank_charset_is_empty(client, tenant):
    conversation = await create_conversation(client, tenant)

    response = await post_raw_message(
        client,
        tenant,
        conversation["id"],
        b'{"content":"hello"}',
        'application/json; charset="  "',
    )

    error = assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert error["message"].startswith("the charset parameter 'charset=\"  \"' is empty")
    assert "not supported" not in error["message"]
    assert error["details"]["value"] == 'charset="  "'
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0
