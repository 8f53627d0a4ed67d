"""Idempotency-Key: a retried POST never creates twice."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from campfire_server import clock
from campfire_server.api import idempotency, write_results
from campfire_server.auth.widget import SessionIdentity
from campfire_server.conversations.schemas import Message
from tests.auth.conftest import bearer, create_key
from tests.helpers import create_conversation, get_conversation

KEY = "7c1e0f4a-0000-4000-8000-000000000001"


async def post_message(client, tenant, conversation_id, content, key=KEY):
    return await client.post(
        f"/conversations/{conversation_id}/messages",
        json={"content": content, "authorType": "customer", "authorId": "customer_test_A"},
        headers={**tenant.headers, "Idempotency-Key": key},
    )


async def event_count(db, conversation_id):
    return await db.read(
        lambda tx: tx.value(
            "SELECT COUNT(*) AS n FROM events "
            "WHERE conversation_id = :id AND type = 'message.sent'",
            id=conversation_id,
        )
    )


async def test_repeat_returns_first_response(client, tenant, db):
    conversation = await create_conversation(client, tenant)
    first = await post_message(client, tenant, conversation["id"], "Hello")
    second = await post_message(client, tenant, conversation["id"], "Hello")

    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1
    assert await event_count(db, conversation["id"]) == 1


async def test_same_key_other_body_is_409(client, tenant):
    conversation = await create_conversation(client, tenant)
    await post_message(client, tenant, conversation["id"], "Hello")
    response = await post_message(client, tenant, conversation["id"], "Something else")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1


async def test_reordered_body_replays(client, tenant):
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}/messages"
    headers = {**tenant.headers, "Idempotency-Key": KEY, "Content-Type": "application/json"}
    first = await client.post(
        path,
        content=b'{"content":"Hello","authorType":"customer","authorId":"customer_test_A"}',
        headers=headers,
    )
    second = await client.post(
        path,
        content=(
            b'{ "authorId": "customer_test_A",\n  "authorType": "customer", "content": "Hello" }'
        ),
        headers=headers,
    )

    assert first.status_code == 201
    assert second.status_code == 201, second.text
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["idempotent-replayed"] == "true"
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"b":1,"a":[2,{"d":3,"c":4}]}', b'{"a":[2,{"c":4,"d":3}],"b":1}'),
        (b'{"a": "\\u00e9"}', '{"a":"\u00e9"}'.encode()),
        (b"not json", b"not json"),
        (b"[" * 100_000, b"[" * 100_000),
    ],
)
def test_canonical_body(body, expected):
    assert idempotency.canonical_body(body) == expected


async def test_without_key_creates_twice(client, tenant):
    conversation = await create_conversation(client, tenant)
    for _ in range(2):
        response = await client.post(
            f"/conversations/{conversation['id']}/messages",
            json={"content": "Hello"},
            headers=tenant.headers,
        )
        assert response.status_code == 201
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 2


async def test_concurrent_repeats_store_one(client, tenant, db):
    conversation = await create_conversation(client, tenant)
    responses = await asyncio.gather(
        *(
            post_message(client, tenant, conversation["id"], "once", "concurrent-key")
            for _ in range(30)
        )
    )

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1
    assert await event_count(db, conversation["id"]) == 1


async def test_key_scoped_to_credential(client, tenant, other_tenant):
    mine = await create_conversation(client, tenant)
    theirs = await create_conversation(client, other_tenant)
    first = await post_message(client, tenant, mine["id"], "Hello", "shared-key")
    second = await post_message(client, other_tenant, theirs["id"], "Hello", "shared-key")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_failed_request_can_be_retried(client, tenant):
    first = await post_message(client, tenant, "conv_missing", "Hello", "retry-key")
    assert first.status_code == 404
    conversation = await create_conversation(client, tenant)
    # A 4xx is the final response to that exact request, so the same body replays it.
    again = await post_message(client, tenant, "conv_missing", "Hello", "retry-key")
    assert again.status_code == 404
    fresh = await post_message(client, tenant, conversation["id"], "Hello", "retry-key-2")
    assert fresh.status_code == 201


async def test_rejected_body_leaves_key_free(client, tenant):
    conversation = await create_conversation(client, tenant)
    rejected = await post_message(client, tenant, conversation["id"], "", "corrected-key")
    assert rejected.status_code == 400

    corrected = await post_message(client, tenant, conversation["id"], "Hello", "corrected-key")
    assert corrected.status_code == 201, corrected.text
    assert "idempotent-replayed" not in corrected.headers
    replayed = await post_message(client, tenant, conversation["id"], "Hello", "corrected-key")
    assert replayed.json()["id"] == corrected.json()["id"]
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1


async def test_replayed_error_names_own_request_id(client, tenant):
    first = await post_message(client, tenant, "conv_missing", "Hello", "request-id-key")
    again = await post_message(client, tenant, "conv_missing", "Hello", "request-id-key")

    assert again.status_code == 404
    assert again.headers["idempotent-replayed"] == "true"
    request_id = again.headers["x-request-id"]
    assert request_id != first.headers["x-request-id"]
    assert again.json()["error"]["requestId"] == request_id
    assert again.json()["error"]["code"] == first.json()["error"]["code"]


@pytest.fixture
def frozen_clock():
    frozen = clock.FrozenClock()
    previous = clock.set_clock(frozen)
    yield frozen
    clock.set_clock(previous)


def _crash_before_response_stored(monkeypatch) -> None:
    """Make the process "die" after the request's writes commit, before its response is stored."""

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("the process died")

    monkeypatch.setattr(idempotency, "_complete", crash)


async def _count(db, sql: str, **params) -> int:
    return await db.read(lambda tx: tx.value(sql, **params))


async def test_retry_after_crash_replays_writes(client, tenant, db, frozen_clock, monkeypatch):
    conversation = await create_conversation(client, tenant)
    key = "crash-message"
    with monkeypatch.context() as patch:
        _crash_before_response_stored(patch)
        with pytest.raises(KeyboardInterrupt):
            await post_message(client, tenant, conversation["id"], "Hello", key=key)

    # A repeat within the minute may race the first request, so it waits and gives up.
    monkeypatch.setattr(idempotency.IdempotencyMiddleware, "WAIT_SECONDS", 0.2)
    soon = await post_message(client, tenant, conversation["id"], "Hello", key=key)
    frozen_clock.advance(61)
    retried = await post_message(client, tenant, conversation["id"], "Hello", key=key)
    again = await post_message(client, tenant, conversation["id"], "Hello", key=key)

    assert soon.status_code == 409
    assert soon.json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    # The clock stood still, so the claim is taken over a whole minute later.
    assert soon.headers["retry-after"] == "60"
    assert soon.json()["error"]["details"] == {"field": "Idempotency-Key", "value": key}
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    message_id = retried.json()["id"]
    assert retried.headers["location"].endswith(f"/messages/{message_id}")
    assert again.json()["id"] == message_id
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1
    assert await event_count(db, conversation["id"]) == 1


async def test_retry_after_crash_keeps_created_status(
    client, tenant, db, frozen_clock, monkeypatch
):
    """A write that returns more than a model (a handoff and whether it is new) replays whole."""
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}/handoff"
    headers = {**tenant.headers, "Idempotency-Key": "crash-handoff"}
    with monkeypatch.context() as patch:
        _crash_before_response_stored(patch)
        with pytest.raises(KeyboardInterrupt):
            await client.post(path, json={"reason": "crash"}, headers=headers)

    frozen_clock.advance(61)
    retried = await client.post(path, json={"reason": "crash"}, headers=headers)
    handoffs = await _count(
        db, "SELECT COUNT(*) AS n FROM handoffs WHERE conversation_id = :id", id=conversation["id"]
    )

    assert retried.status_code == 201, retried.text
    assert retried.headers["location"].endswith(f"/conversations/{conversation['id']}/handoff")
    assert handoffs == 1


async def test_crash_retry_with_other_body_is_409(client, tenant, frozen_clock, monkeypatch):
    conversation = await create_conversation(client, tenant)
    with monkeypatch.context() as patch:
        _crash_before_response_stored(patch)
        with pytest.raises(KeyboardInterrupt):
            await post_message(client, tenant, conversation["id"], "Hello", key="crash-other")

    frozen_clock.advance(61)
    response = await post_message(client, tenant, conversation["id"], "Bye", key="crash-other")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 1


def test_readme_states_crash_window():
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Retrying a POST safely", 1)[1].split("\n## ", 1)[0]
    wait = f"after {idempotency.IdempotencyMiddleware.WAIT_SECONDS:g} s"
    window = f"until {idempotency.ABANDONED_MS // 1000} s after the first"

    assert "If the server dies while a request runs" in section
    assert wait in section
    assert window in section
    assert "IDEMPOTENCY_IN_PROGRESS" in section


async def test_write_results_recorded_in_write(client, tenant, db):
    """The write records its result before the response is stored; completion clears it."""
    conversation = await create_conversation(client, tenant)
    seen: list[str | None] = []
    original = idempotency._complete

    def inspect(tx, scope_key, key, *args):
        seen.append(
            tx.value(
                "SELECT write_results FROM idempotency_keys WHERE scope = :scope AND key = :key",
                scope=scope_key,
                key=key,
            )
        )
        return original(tx, scope_key, key, *args)

    idempotency._complete = inspect
    try:
        sent = await post_message(client, tenant, conversation["id"], "Hello", key="recorded")
    finally:
        idempotency._complete = original
    stored = await _count(
        db,
        "SELECT COUNT(*) AS n FROM idempotency_keys WHERE key = 'recorded' "
        "AND write_results IS NULL AND status_code = 201",
    )

    assert sent.status_code == 201
    assert len(seen) == 1
    assert sent.json()["id"] in seen[0]
    assert stored == 1


async def test_every_post_resumes_from_its_writes(
    client, tenant, db, caplog, frozen_clock, monkeypatch
):
    """Each kind of POST, cut off before its response is stored, is resumed by a retry."""
    publishable = await create_key(
        db,
        tenant.org_id,
        kind="publishable",
        role="customer",
        allowed_origins=["https://shop.test"],
    )
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}"
    webhook = await client.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["*"]},
        headers=tenant.headers,
    )
    webhook_id = webhook.json()["id"]
    await client.post(f"{path}/handoff", json={"reason": "first"}, headers=tenant.headers)
    widget = {**bearer(publishable), "Origin": "https://shop.test"}
    # Path, body and headers (the admin key's when None) of one request per kind of result.
    requests = [
        ("/knowledge/articles/import", {"articles": [{"title": "T", "content": "Text."}]}, None),
        (f"{path}/handoff/cancel", None, None),
        (f"/webhooks/{webhook_id}/rotate-secret", None, None),
        (f"/webhooks/{webhook_id}/test", None, None),
        ("/widget/session", {"mailboxId": tenant.mailbox_id, "customerId": "customer_w"}, widget),
        (f"{path}/satisfaction", {"rating": 3}, None),
    ]
    with caplog.at_level(logging.WARNING, logger=idempotency.__name__):
        for url, body, headers in requests:
            key_headers = {**(headers or tenant.headers), "Idempotency-Key": f"resume-{url}"}
            with monkeypatch.context() as patch:
                _crash_before_response_stored(patch)
                with pytest.raises(KeyboardInterrupt):
                    await client.post(url, json=body, headers=key_headers)
            frozen_clock.advance(61)
            retried = await client.post(url, json=body, headers=key_headers)

            assert retried.status_code < 300, f"{url}: {retried.text}"
            assert retried.headers["idempotent-replayed"] == "true", url

    unrecorded = [record for record in caplog.records if record.name == idempotency.__name__]
    assert unrecorded == []
    ratings = await _count(
        db,
        "SELECT COUNT(*) AS n FROM satisfaction_ratings WHERE conversation_id = :id",
        id=conversation["id"],
    )
    assert ratings == 1


def test_write_results_round_trip():
    identity = SessionIdentity(customer_id="customer_1", mailbox_id="mailbox_1", verified=True)
    message = Message(
        id="msg_1",
        conversation_id="conv_1",
        content="Hello 👋",
        author_type="customer",
        author_id=None,
        created_at="2026-01-01T00:00:00.000Z",
        metadata={"nested": {"n": 1}},
        private=False,
    )
    values = [None, 3, "text", [1, 2], {"row": {"a": 1}}, (message, True), identity]

    for value in values:
        document = json.loads(json.dumps(write_results.encode(value)))
        assert write_results.decode(document) == value


def test_write_results_refuse_foreign_classes():
    with pytest.raises(TypeError):
        write_results.encode(object())
    with pytest.raises(ValueError):
        write_results.decode({"model": "os:PathLike", "data": {}})


def _request_lines(caplog) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "campfire_server.access"]


async def test_replay_log_names_route_and_org(client, tenant, caplog):
    conversation = await create_conversation(client, tenant)
    with caplog.at_level(logging.INFO, logger="campfire_server.access"):
        first = await post_message(client, tenant, conversation["id"], "Hello", "log-key")
        replayed = await post_message(client, tenant, conversation["id"], "Hello", "log-key")
        reused = await post_message(client, tenant, conversation["id"], "Other", "log-key")

    assert replayed.headers["idempotent-replayed"] == "true"
    assert reused.status_code == 409
    lines = _request_lines(caplog)
    by_request = {record.request_id: record for record in lines}
    template = "/api/v2/conversations/{conversation_id}/messages"
    for response in (first, replayed, reused):
        record = by_request[response.headers["x-request-id"]]
        assert record.route == template, response.status_code
        assert record.organization_id == tenant.org_id, response.status_code
        assert record.status == response.status_code


async def test_replay_log_names_literal_route(client, tenant, caplog):
    headers = {**tenant.headers, "Idempotency-Key": "import-log-key"}
    body = {"articles": [{"title": "Returns", "content": "Returns are accepted for 30 days."}]}
    with caplog.at_level(logging.INFO, logger="campfire_server.access"):
        await client.post("/knowledge/articles/import", json=body, headers=headers)
        replayed = await client.post("/knowledge/articles/import", json=body, headers=headers)

    assert replayed.headers["idempotent-replayed"] == "true"
    record = _request_lines(caplog)[-1]
    assert record.request_id == replayed.headers["x-request-id"]
    assert record.route == "/api/v2/knowledge/articles/import"
    assert record.organization_id == tenant.org_id


async def test_replay_needs_live_credential(client, tenant):
    created = await client.post("/keys", json={"name": "replay key"}, headers=tenant.headers)
    assert created.status_code == 201, created.text
    key = created.json()
    headers = {**bearer(key["key"]), "Idempotency-Key": "revoked-key"}
    body = {"customerId": "customer_replay"}
    first = await client.post("/conversations", json=body, headers=headers)
    revoked = await client.delete(f"/keys/{key['id']}", headers=tenant.headers)
    replayed = await client.post("/conversations", json=body, headers=headers)

    assert first.status_code == 201
    assert revoked.status_code in (200, 204)
    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "AUTHENTICATION_ERROR"
    assert "idempotent-replayed" not in replayed.headers


async def test_response_stored_before_sent(app, client, tenant, db):
    """A client that received a response can replay it at once, even if the server then died."""
    conversation = await create_conversation(client, tenant)
    key = "stored-before-sent"
    body = json.dumps({"content": "Hello", "authorType": "customer"}).encode()
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "root_path": "",
        "path": f"/api/v2/conversations/{conversation['id']}/messages",
        "raw_path": f"/api/v2/conversations/{conversation['id']}/messages".encode(),
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", tenant.headers["Authorization"].encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"idempotency-key", key.encode()),
        ],
    }
    stored_at_start: list[int | None] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        if message["type"] == "http.response.start":
            row = await db.read(
                lambda tx: tx.one(
                    "SELECT status_code FROM idempotency_keys WHERE key = :key", key=key
                )
            )
            stored_at_start.append(row["status_code"] if row else None)

    await app(scope, receive, send)

    assert stored_at_start == [201]


async def test_patch_repeat_replays_first_response(client, tenant, db):
    conversation = await create_conversation(client, tenant)
    path = f"/conversations/{conversation['id']}"
    headers = {**tenant.headers, "Idempotency-Key": KEY}

    first = await client.patch(path, json={"priority": "high"}, headers=headers)
    assert first.status_code == 200, first.text
    changed = await client.patch(path, json={"priority": "low"}, headers=tenant.headers)
    assert changed.status_code == 200, changed.text
    repeat = await client.patch(path, json={"priority": "high"}, headers=headers)
    assert repeat.status_code == 200, repeat.text
    assert repeat.headers["idempotent-replayed"] == "true"
    assert repeat.json()["priority"] == "high"
    # The replay applied nothing: the change made in between stays.
    assert (await get_conversation(client, tenant, conversation["id"]))["priority"] == "low"

    other = await client.patch(path, json={"priority": "urgent"}, headers=headers)
    assert other.status_code == 409, other.text
    assert other.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_delete_honours_key(client, tenant):
    created = await client.post(
        "/keys", json={"name": "short-lived", "role": "agent"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    path = f"/keys/{created.json()['id']}"
    headers = {**tenant.headers, "Idempotency-Key": KEY}
    first = await client.delete(path, headers=headers)
    repeat = await client.delete(path, headers=headers)
    assert first.status_code == 204
    assert repeat.status_code == 204
    assert repeat.headers["idempotent-replayed"] == "true"


async def test_get_ignores_key(client, tenant):
    headers = {**tenant.headers, "Idempotency-Key": KEY}
    first = await client.get("/conversations", headers=headers)
    second = await client.get("/conversations", headers=headers)
    assert first.status_code == 200
    assert second.status_code == 200
    assert "idempotent-replayed" not in second.headers
