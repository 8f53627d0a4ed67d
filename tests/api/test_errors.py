"""The error envelope for every failure, and input limits."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from campfire_server.errors import ValidationFailed
from campfire_server.json_numbers import MAX_DEPTH
from campfire_server.pagination import decode_cursor
from tests.helpers import CREATE_CONVERSATION, create_conversation, get_conversation, send_message

BAD_BODIES = [
    b'{"customerId":"customer_test_A",}',
    b'{"customerId":"customer_test_A" "subject":"x"}',
    b"",
    b"null",
    b"[]",
    b'"text"',
    b"\xff",
    b"[" * 10_000,
]


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["requestId"] == response.headers["x-request-id"]
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in error["message"]
    return error


@pytest.mark.parametrize("body", BAD_BODIES, ids=lambda body: repr(body[:20]))
async def test_malformed_bodies_are_400(client, tenant, body):
    conversation = await create_conversation(client, tenant)
    targets = [
        ("POST", "/conversations"),
        ("POST", f"/conversations/{conversation['id']}/messages"),
        ("PATCH", f"/conversations/{conversation['id']}"),
        ("POST", "/mailboxes"),
        ("POST", "/ai/generate-response"),
        ("POST", f"/conversations/{conversation['id']}/handoff"),
        ("POST", "/webhooks"),
    ]
    for method, path in targets:
        response = await client.request(
            method,
            path,
            content=body,
            headers={**tenant.headers, "Content-Type": "application/json"},
        )
        assert_envelope(response, 400, "VALIDATION_ERROR")


async def test_text_plain_is_415(client, tenant):
    response = await client.post(
        "/conversations",
        content=json.dumps(CREATE_CONVERSATION),
        headers={**tenant.headers, "Content-Type": "text/plain"},
    )
    assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


@pytest.mark.parametrize(
    ("content_type", "expected_start"),
    [
        (";;;==", "content type ';;;==' is not supported"),
        ("  ; charset=utf-8", "content type '; charset=utf-8' is not supported"),
        ("text/x-it's", 'content type "text/x-it\'s" is not supported'),
        (None, "the Content-Type header is missing or empty"),
    ],
)
async def test_unsupported_media_type_named(client, tenant, content_type, expected_start):
    headers = dict(tenant.headers)
    if content_type is not None:
        headers["Content-Type"] = content_type

    response = await client.post(
        "/conversations", content=json.dumps(CREATE_CONVERSATION), headers=headers
    )

    error = assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert error["message"].startswith(expected_start), error["message"]
    assert error["message"].endswith("send the body as application/json")


async def test_long_media_type_is_cut(client, tenant):
    content_type = "application/" + "x" * 5000

    response = await client.post(
        "/conversations",
        content=json.dumps(CREATE_CONVERSATION),
        headers={**tenant.headers, "Content-Type": content_type},
    )

    error = assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert len(error["message"]) < 300
    assert error["details"]["value"] == content_type[:100] + "..."
    assert repr(content_type[:100] + "...") in error["message"]


@pytest.mark.parametrize("content_type", ["APPLICATION/JSON", "Application/Json; charset=utf-8"])
async def test_media_type_ignores_case(client, tenant, content_type):
    response = await client.post(
        "/conversations",
        content=json.dumps(CREATE_CONVERSATION),
        headers={**tenant.headers, "Content-Type": content_type},
    )
    assert response.status_code == 201, response.text


async def test_stalled_body_is_408():
    from campfire_server.api.middleware import BodyGuard, send_error
    from campfire_server.errors import RequestTimeout

    async def stalled_receive():
        await asyncio.sleep(3600)

    sent = []

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v2/conversations",
        "query_string": b"",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "state": {"request_id": "req_stalled"},
    }
    guard = BodyGuard(max_body_bytes=1024 * 1024, idle_timeout=0.2)
    with pytest.raises(RequestTimeout) as caught:
        await asyncio.wait_for(guard.read(scope, stalled_receive), 5)
    await send_error(send, caught.value, "req_stalled")

    assert sent[0]["status"] == 408
    error = json.loads(sent[1]["body"])["error"]
    assert error["code"] == "TIMEOUT"
    assert error["requestId"] == "req_stalled"
    assert "0.2 seconds after 0 bytes" in error["message"]


async def test_body_over_limit_is_413(client, tenant):
    huge = b'{"customerId":"' + b"a" * (1024 * 1024 + 10) + b'"}'
    response = await client.post(
        "/conversations",
        content=huge,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")


async def test_unknown_route_is_404(client, tenant):
    response = await client.get("/nothing-here", headers=tenant.headers)
    assert_envelope(response, 404, "NOT_FOUND")


async def test_wrong_method_is_405(client, tenant):
    response = await client.delete("/conversations", headers=tenant.headers)
    assert_envelope(response, 405, "METHOD_NOT_ALLOWED")


async def test_405_allow_lists_every_method(client, tenant):
    conversation = await create_conversation(client, tenant)
    cases = [
        ("/conversations", {"GET", "HEAD", "POST", "OPTIONS"}),
        (f"/conversations/{conversation['id']}", {"GET", "HEAD", "PATCH", "OPTIONS"}),
        (f"/conversations/{conversation['id']}/messages", {"GET", "HEAD", "POST", "OPTIONS"}),
    ]
    for path, expected in cases:
        response = await client.put(path, headers=tenant.headers)
        assert_envelope(response, 405, "METHOD_NOT_ALLOWED")
        allowed = {method.strip() for method in response.headers["allow"].split(",")}
        assert allowed == expected, (path, response.headers["allow"])


async def test_missing_key_is_401(client):
    response = await client.get("/conversations")
    assert_envelope(response, 401, "AUTHENTICATION_ERROR")


async def test_invalid_key_is_401(client):
    response = await client.get(
        "/conversations", headers={"Authorization": "Bearer sk_live_" + "x" * 44}
    )
    assert_envelope(response, 401, "AUTHENTICATION_ERROR")


async def test_sane_request_id_is_kept(client, tenant):
    response = await client.get(
        "/conversations", headers={**tenant.headers, "X-Request-ID": "trace-abc.123"}
    )
    assert response.headers["x-request-id"] == "trace-abc.123"

    response = await client.get(
        "/conversations", headers={**tenant.headers, "X-Request-ID": "bad id\twith spaces"}
    )
    assert response.headers["x-request-id"].startswith("req_")


async def test_unhandled_error_is_500_with_request_id(app, client, tenant):
    @app.get("/api/v2/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    response = await client.get("/boom", headers=tenant.headers)
    error = assert_envelope(response, 500, "INTERNAL_ERROR")
    assert "secret internals" not in response.text
    assert error["details"] == {}


@pytest.mark.parametrize(
    "content",
    ["a" * 10_000, "é" * 10_000, "😀" * 10_000],
    ids=["ascii", "two-byte", "four-byte"],
)
async def test_content_limit_counts_code_points(client, tenant, content):
    conversation = await create_conversation(client, tenant)
    response = await send_message(client, tenant, conversation["id"], content)
    assert response.status_code == 201
    assert response.json()["content"] == content


async def test_content_over_limit_is_400(client, tenant):
    conversation = await create_conversation(client, tenant)
    response = await send_message(client, tenant, conversation["id"], "a" * 10_001)
    error = assert_envelope(response, 400, "VALIDATION_ERROR")

    assert error["details"]["field"] == "content"
    assert "10000" in error["details"]["expected"]
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


@pytest.mark.parametrize("content", ["", "   \n\t"])
async def test_empty_content_is_400(client, tenant, content):
    conversation = await create_conversation(client, tenant)
    response = await send_message(client, tenant, conversation["id"], content)
    assert assert_envelope(response, 400, "VALIDATION_ERROR")["details"]["field"] == "content"


async def test_metadata_limits(client, tenant):
    many_keys = {f"k{i}": i for i in range(10_000)}
    response = await client.post(
        "/conversations",
        json={**CREATE_CONVERSATION, "metadata": many_keys},
        headers=tenant.headers,
    )
    assert assert_envelope(response, 400, "VALIDATION_ERROR")["details"]["field"] == "metadata"

    deep = {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}
    response = await client.post(
        "/conversations", json={**CREATE_CONVERSATION, "metadata": deep}, headers=tenant.headers
    )
    assert assert_envelope(response, 400, "VALIDATION_ERROR")["details"]["field"] == "metadata"

    response = await client.post(
        "/conversations", json={**CREATE_CONVERSATION, "metadata": [1, 2]}, headers=tenant.headers
    )
    assert assert_envelope(response, 400, "VALIDATION_ERROR")["details"]["field"] == "metadata"


async def _conversation_count(db) -> int:
    return await db.read(lambda tx: tx.value("SELECT COUNT(*) AS n FROM conversations"))


@pytest.mark.parametrize(
    ("levels", "shown"),
    [(MAX_DEPTH + 1, f"{MAX_DEPTH + 1} levels"), (900, "900 levels"), (5000, "more than")],
)
async def test_deep_body_names_depth_limit(client, tenant, db, levels, shown):
    # The body object is the first level, and its metadata the second.
    nested = "[" * (levels - 2) + "]" * (levels - 2)
    body = '{"customerId": "customer_test_A", "metadata": {"a": ' + nested + "}}"
    before = await _conversation_count(db)

    response = await client.post(
        "/conversations",
        content=body,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "body"
    assert shown in error["message"]
    assert f"the limit is {MAX_DEPTH} levels" in error["message"]
    assert error["details"]["expected"] == f"JSON nested at most {MAX_DEPTH} levels deep"
    assert "not valid JSON" not in error["message"]
    assert await _conversation_count(db) == before


async def test_body_at_depth_limit_reaches_route(client, tenant):
    nested = "[" * (MAX_DEPTH - 2) + "]" * (MAX_DEPTH - 2)
    body = '{"customerId": "customer_test_A", "metadata": {"a": ' + nested + "}}"

    response = await client.post(
        "/conversations",
        content=body,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )

    # The route's own metadata rule rejects it, not the body parser.
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "metadata"
    assert error["message"] == f"metadata nests {MAX_DEPTH - 1} levels deep; the limit is 5"


def test_deep_cursor_is_unreadable():
    # The query parameter's length limit keeps such a cursor out of HTTP
    # requests; the decoder rejects it on its own all the same.
    cursor = base64.urlsafe_b64encode(b"[" * 5000).decode().rstrip("=")

    with pytest.raises(ValidationFailed) as raised:
        decode_cursor(cursor, "conversations")

    assert raised.value.details["field"] == "cursor"


async def test_subject_over_limit_is_400(client, tenant):
    response = await client.post(
        "/conversations",
        json={**CREATE_CONVERSATION, "subject": "s" * 1000},
        headers=tenant.headers,
    )
    assert assert_envelope(response, 400, "VALIDATION_ERROR")["details"]["field"] == "subject"


UNICODE_TEXT = "Hello 👋 I need help 🙏🏽 with 日本語, 𝟙 and 👨‍👩‍👧 — end"


async def test_unicode_round_trips_exactly(client, tenant):
    conversation = await create_conversation(client, tenant, subject="Order 📦 late")
    for text in (UNICODE_TEXT, "🙂"):
        sent = await send_message(client, tenant, conversation["id"], text)
        assert sent.status_code == 201
        assert sent.json()["content"].encode() == text.encode()

    listed = await client.get(
        f"/conversations/{conversation['id']}/messages", headers=tenant.headers
    )
    contents = [item["content"] for item in listed.json()["data"]]
    assert contents == [UNICODE_TEXT, "🙂"]
    assert (await get_conversation(client, tenant, conversation["id"]))[
        "subject"
    ] == "Order 📦 late"


@pytest.mark.parametrize(
    "raw,field",
    [
        (b'{"content":"nul \\u0000 here","authorType":"customer"}', "content"),
        (b'{"content":"lone \\ud800 surrogate","authorType":"customer"}', "content"),
        (b'{"content":"ok","metadata":{"note":"a\\u0000b"}}', "metadata.note"),
        (b'{"content":"ok","metadata":{"k\\udc00":"v"}}', "metadata.k\udc00"),
    ],
)
async def test_unstorable_characters_are_400(client, tenant, raw, field):
    conversation = await create_conversation(client, tenant)
    response = await client.post(
        f"/conversations/{conversation['id']}/messages",
        content=raw,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"].split(".")[0] == field.split(".")[0]
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


@pytest.mark.parametrize(
    "referrer",
    [
        "javascript:window.__xss=1//https://example.test/pricing",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
    ],
)
async def test_non_http_referrer_is_400(client, tenant, referrer):
    response = await client.post(
        "/conversations",
        json={**CREATE_CONVERSATION, "metadata": {"referrer": referrer}},
        headers=tenant.headers,
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "metadata.referrer"
    assert "http" in error["details"]["expected"]


@pytest.mark.parametrize(
    ("referrer", "reason"),
    [
        ("//evil.example/x", "it starts with //, so a browser would open it on another host"),
        ("javascript:alert(1)", "its scheme javascript: is not http or https"),
        ("https:///x", "it has no host after the scheme"),
        ("pricing", "it is neither an absolute URL nor a path starting with /"),
    ],
)
async def test_rejected_referrer_message_names_value(client, tenant, referrer, reason):
    response = await client.post(
        "/conversations",
        json={**CREATE_CONVERSATION, "metadata": {"referrer": referrer}},
        headers=tenant.headers,
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["message"].startswith(f'metadata.referrer "{referrer}" is not an allowed link')
    assert reason in error["message"]
    assert "https://example.com/pricing" in error["message"]
    assert "a single /" in error["message"]


async def test_http_referrer_is_accepted(client, tenant):
    body = await create_conversation(
        client, tenant, metadata={"referrer": "https://example.test/pricing"}
    )
    assert body["metadata"]["referrer"] == "https://example.test/pricing"


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        (b"NaN", "a finite number"),
        (b"Infinity", "a finite number"),
        (b"-Infinity", "a finite number"),
        (b"1e400", "a finite number"),
        (b"-1e999", "a finite number"),
        (b"1e-400", "a finite number"),
        (b"-2.5E-330", "a finite number"),
        (b"9223372036854775808", "an integer from"),
        (b"-9223372036854775809", "an integer from"),
        (b"1" + b"0" * 5000, "an integer from"),
    ],
)
async def test_numbers_out_of_range_are_400(client, tenant, number, expected):
    body = b'{"customerId":"customer_test_A","metadata":{"score":[1,' + number + b"]}}"
    response = await client.post(
        "/conversations",
        content=body,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert "out of range" in error["message"]
    assert "UTF-8" not in error["message"]
    assert error["details"]["field"] == "metadata.score[1]"
    assert error["details"]["value"].startswith(number[:20].decode())
    assert error["details"]["expected"].startswith(expected)


async def test_number_out_of_range_as_whole_body(client, tenant):
    response = await client.post(
        "/conversations",
        content=b"1e400",
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "body"
    assert error["details"]["value"] == "1e400"


async def test_tiny_and_zero_numbers_round_trip(client, tenant):
    body = await create_conversation(
        client, tenant, metadata={"zero": 0.0, "negativeZero": -0e5, "tiny": 5e-324}
    )
    assert body["metadata"] == {"zero": 0.0, "negativeZero": -0.0, "tiny": 5e-324}


async def test_underflow_stores_nothing(client, tenant):
    before = await client.get("/conversations", headers=tenant.headers)
    response = await client.post(
        "/conversations",
        content=b'{"customerId":"customer_test_A","metadata":{"score":1e-400}}',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "metadata.score"
    assert error["details"]["value"] == "1e-400"
    after = await client.get("/conversations", headers=tenant.headers)
    assert after.json()["pagination"]["total"] == before.json()["pagination"]["total"]


async def test_int64_bounds_are_accepted(client, tenant):
    body = await create_conversation(
        client, tenant, metadata={"low": -(2**63), "high": 2**63 - 1, "big": 1.7e308}
    )
    assert body["metadata"] == {"low": -(2**63), "high": 2**63 - 1, "big": 1.7e308}


async def test_invalid_utf8_names_utf8(client, tenant):
    response = await client.post(
        "/conversations",
        content=b'{"customerId":"\xff"}',
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert "UTF-8" in error["message"]


async def test_nul_in_url_is_400(client, tenant):
    conversation = await create_conversation(client, tenant)
    requests = [
        ("GET", "/conversations/conv%00x", None, "path"),
        ("GET", f"/conversations/{conversation['id']}%00/messages", None, "path"),
        ("DELETE", "/agents/agent%00x", None, "path"),
        ("GET", "/conversations", {"customerId": "customer\x00"}, "customerId"),
        ("GET", "/conversations", {"mailboxId": "\x00"}, "mailboxId"),
        ("GET", "/handoffs", {"mailboxId": "\x00"}, "mailboxId"),
    ]
    for method, path, params, field in requests:
        response = await client.request(method, path, params=params, headers=tenant.headers)
        error = assert_envelope(response, 400, "VALIDATION_ERROR")
        assert error["details"]["field"] == field, (method, path, params)
    sent = await client.post(
        "/conversations/conv%00x/messages",
        json={"content": "Hello", "authorType": "agent"},
        headers=tenant.headers,
    )
    assert_envelope(sent, 400, "VALIDATION_ERROR")


@pytest.mark.parametrize("path", ["/conversations/", "/mailboxes/"])
async def test_trailing_slash_is_404_not_redirect(client, tenant, path):
    response = await client.get(path, headers={**tenant.headers, "Host": "attacker.example"})

    assert_envelope(response, 404, "NOT_FOUND")
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("query", "expected", "message"),
    [
        ("limit=0", "a number at least 1", "limit 0 is too small; send a number at least 1"),
        ("limit=101", "a number at most 100", "limit 101 is too large; send a number at most 100"),
        (
            "limit=2.5",
            "an integer written in decimal digits, such as 20",
            "limit 2.5 is invalid; send an integer written in decimal digits, such as 20",
        ),
        (
            "status=archived",
            'one of "open", "pending", "resolved" or "closed"',
            'status archived is not one of "open", "pending", "resolved" or "closed"; '
            "send one of them",
        ),
    ],
)
async def test_query_errors_are_worded(client, tenant, query, expected, message):
    response = await client.get(f"/conversations?{query}", headers=tenant.headers)

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["expected"] == expected
    assert error["message"] == message


# Each body error names the field, the value's problem and the fix, in
# this API's words rather than pydantic's.
BODY_ERRORS = [
    (
        "/conversations",
        {"customerId": "c_1", "mailboxId": "mailbox_test_1", "subject": "x" * 501},
        "subject",
        "subject has 501 characters; send at most 500 characters",
    ),
    (
        "/conversations",
        {"mailboxId": "mailbox_test_1"},
        "customerId",
        "customerId is missing; send customerId, your own id for the customer "
        "(only a customer token may leave it out)",
    ),
    (
        "/conversations",
        {"customerId": "c_1", "mailboxId": "mailbox_test_1", "priority": "asap"},
        "priority",
        'priority "asap" is not one of "low", "medium", "high" or "urgent"; send one of them',
    ),
    (
        "/conversations",
        {"customerId": "c_1", "mailboxId": "mailbox_test_1", "subject": 5},
        "subject",
        "subject must be a string, not the integer 5",
    ),
    (
        "/conversations",
        {"customerId": "c_1", "mailboxId": "mailbox_test_1", "colour": "red"},
        "colour",
        "colour is not a field of this request; remove it or check its spelling",
    ),
    (
        "/knowledge/articles/import",
        {"articles": [{"title": "Refunds", "content": "How refunds work", "domain": "cloud"}]},
        "articles[0].domain",
        "articles[0].domain is not a field of this request; remove it or check its spelling",
    ),
    (
        "/knowledge/articles",
        {"title": "Refunds", "content": "How refunds work", "url": "//evil.example/x"},
        "url",
        'url "//evil.example/x" is invalid: it starts with //, so a browser would open it '
        "on another host; send an absolute http or https URL or a path starting with a single /",
    ),
    (
        "/knowledge/articles",
        {"title": "\u200b", "content": "How refunds work"},
        "title",
        "title has no visible character; send text with at least one visible character, "
        "not only spaces, invisible or control characters, or combining marks",
    ),
]


@pytest.mark.parametrize(
    ("path", "body", "field", "message"), BODY_ERRORS, ids=[row[3][:30] for row in BODY_ERRORS]
)
async def test_body_errors_are_worded(client, tenant, path, body, field, message):
    response = await client.post(path, json=body, headers=tenant.headers)

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == field
    assert error["message"] == message
    for pydantic_phrase in ("should", "Value error", "Input ", "String "):
        assert pydantic_phrase not in error["message"]


async def test_each_listed_error_is_worded(client, tenant):
    body = {"customerId": 5, "mailboxId": "mailbox_test_1", "priority": "asap"}

    response = await client.post("/conversations", json=body, headers=tenant.headers)

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    listed = {item["field"]: item["message"] for item in error["details"]["errors"]}
    assert listed["customerId"] == "customerId must be a string, not the integer 5"
    assert listed["priority"].startswith('priority "asap" is not one of')


@pytest.mark.parametrize(
    ("body", "sent"),
    [
        (b"null", "null"),
        (b"[]", "an array"),
        (b'"text"', 'the string "text"'),
        (b"5", "the integer 5"),
    ],
)
async def test_body_not_an_object_is_worded(client, tenant, body, sent):
    response = await client.post(
        "/conversations",
        content=body,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["message"] == f"the request body must be a JSON object, not {sent}"
    assert error["details"]["expected"] == "a JSON object"


@pytest.mark.parametrize(
    ("path", "query", "field", "expected"),
    [
        ("/conversations", "stauts=closed", "stauts", "one of: "),
        ("/conversations", "status=open&sort=asc", "sort", "one of: "),
        ("/mailboxes", "foo=bar", "foo", "one of: "),
        ("/keys", "foo=bar", "foo", "one of: cursor, limit, page"),
        ("/analytics/metrics", "period=7d&tz=UTC", "tz", "one of: "),
    ],
)
async def test_unknown_query_parameter_is_400(client, tenant, path, query, field, expected):
    response = await client.get(f"{path}?{query}", headers=tenant.headers)

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == field
    assert error["details"]["expected"].startswith(expected)


async def test_declared_query_parameters_accepted(client, tenant):
    query = "status=open&limit=5&createdAfter=2024-01-01T00:00:00Z&customerId=customer_test_A"
    response = await client.get(f"/conversations?{query}", headers=tenant.headers)

    assert response.status_code == 200, response.text
