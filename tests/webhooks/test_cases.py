"""The webhook faults seen in similar systems, replayed against ours."""

from __future__ import annotations

import asyncio
import json

import pytest
import standardwebhooks

from campfire_server import clock
from campfire_server.webhooks.verify import WebhookVerificationError, verify
from tests.helpers import create_conversation, send_message

from .conftest import api_client, closed_port, create_webhook
from .receiver import Reply

BR02_CONTENT = 'Café ☕ — price/€12 "quoted" \\ back'


async def _deliveries(client, tenant, webhook_id: str) -> list[dict]:
    response = await client.get(
        f"/webhooks/{webhook_id}/deliveries", params={"limit": 100}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_raw_bytes_verify(hook_client, tenant, receiver):
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["message.sent"])
    secret = webhook["secret"]
    conversation = await create_conversation(hook_client, tenant)
    sent = await send_message(
        hook_client, tenant, conversation["id"], BR02_CONTENT, metadata={"z": 1, "a": 2}
    )
    assert sent.status_code == 201

    (request,) = await receiver.wait_for(1)
    raw = request.body
    reserialised = json.dumps(json.loads(raw)).encode()

    assert verify(raw, request.headers, secret)["data"]["message"]["content"] == BR02_CONTENT
    assert verify(raw.decode(), request.headers, secret)["data"]["message"]["metadata"] == {
        "z": 1,
        "a": 2,
    }
    assert list(json.loads(raw)["data"]["message"]["metadata"]) == ["z", "a"]
    assert reserialised != raw
    with pytest.raises(WebhookVerificationError):
        verify(reserialised, request.headers, secret)
    with pytest.raises(TypeError, match="raw request body"):
        verify(json.loads(raw), request.headers, secret)
    assert int(request.headers["content-length"]) == len(raw)
    standardwebhooks.Webhook(secret).verify(raw, request.headers)


async def test_each_attempt_freshly_signed(manual_factory, tenant, frozen, make_receiver):
    answers = iter([500])
    receiver = await make_receiver(lambda request: Reply(status=next(answers, 200)))
    manual = await manual_factory()
    webhook = await create_webhook(manual.client, tenant, receiver.url, ["conversation.created"])
    secret = webhook["secret"]
    await create_conversation(manual.client, tenant)

    assert await manual.worker.run_once() == 1
    first_sent_at = frozen.now_ms()
    frozen.advance(60)
    assert await manual.worker.run_once() == 1
    second_sent_at = frozen.now_ms()
    first, second = receiver.requests

    assert [first.status, second.status] == [500, 200]
    assert first.webhook_id == second.webhook_id
    assert json.loads(first.body)["id"] == json.loads(second.body)["id"] == first.webhook_id
    assert first.body == second.body
    assert int(first.headers["webhook-timestamp"]) == first_sent_at // 1000
    assert int(second.headers["webhook-timestamp"]) == second_sent_at // 1000
    assert first.headers["webhook-signature"] != second.headers["webhook-signature"]
    frozen.set(first_sent_at)
    verify(first.body, first.headers, secret, tolerance=300)
    frozen.set(second_sent_at)
    verify(second.body, second.headers, secret, tolerance=300)

    # A captured delivery replayed later, and one with a rewritten timestamp.
    frozen.set(second_sent_at + 301_000)
    with pytest.raises(WebhookVerificationError, match="old"):
        verify(second.body, second.headers, secret, tolerance=300)
    rewritten = {**second.headers, "webhook-timestamp": str(frozen.now_ms() // 1000 + 301)}
    with pytest.raises(WebhookVerificationError):
        verify(second.body, rewritten, secret, tolerance=300)
    rewritten_now = {**second.headers, "webhook-timestamp": str(frozen.now_ms() // 1000)}
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(second.body, rewritten_now, secret, tolerance=300)
    assert all("webhook-signature" in request.headers for request in receiver.requests)


async def test_rotation_grace_window(manual_factory, tenant, frozen, make_receiver):
    state = {"status": 503}
    receiver = await make_receiver(lambda request: Reply(status=state["status"]))
    manual = await manual_factory(webhook_rotation_grace_seconds=3600)
    webhook = await create_webhook(manual.client, tenant, receiver.url, ["conversation.created"])
    s1 = webhook["secret"]
    e1 = await create_conversation(manual.client, tenant)
    assert await manual.worker.run_once() == 1

    rotated = await manual.client.post(
        f"/webhooks/{webhook['id']}/rotate-secret", headers=tenant.headers
    )
    assert rotated.status_code == 200
    s2 = rotated.json()["secret"]
    assert s2.startswith("whsec_")
    assert s2 != s1
    assert rotated.json()["previousSecretExpiresAt"] == clock.to_iso(frozen.now_ms() + 3_600_000)
    fetched = (await manual.client.get(f"/webhooks/{webhook['id']}", headers=tenant.headers)).json()
    assert fetched["secret"] == "whsec_..." + s2[-4:]

    state["status"] = 200
    e2 = await create_conversation(manual.client, tenant)
    frozen.advance(30)
    assert await manual.worker.run_once() == 2
    by_conversation = {
        json.loads(request.body)["conversationId"]: request for request in receiver.requests[1:]
    }
    for conversation in (e1, e2):
        request = by_conversation[conversation["id"]]
        signatures = request.headers["webhook-signature"].split(" ")
        assert len(signatures) == 2
        assert all(signature.startswith("v1,") for signature in signatures)
        verify(request.body, request.headers, s1)
        verify(request.body, request.headers, s2)
        standardwebhooks.Webhook(s1).verify(request.body, request.headers)
        standardwebhooks.Webhook(s2).verify(request.body, request.headers)

    frozen.advance(3601)
    e3 = await create_conversation(manual.client, tenant)
    assert await manual.worker.run_once() == 1
    last = receiver.requests[-1]
    assert json.loads(last.body)["conversationId"] == e3["id"]
    assert len(last.headers["webhook-signature"].split(" ")) == 1
    verify(last.body, last.headers, s2)
    with pytest.raises(WebhookVerificationError):
        verify(last.body, last.headers, s1)
    after = (await manual.client.get(f"/webhooks/{webhook['id']}", headers=tenant.headers)).json()
    assert after["previousSecretExpiresAt"] is None


async def test_timeouts_5xx_and_refusals_retried(live_factory, tenant, make_receiver):
    r1_answers = iter([503, 503])
    r1 = await make_receiver(lambda request: Reply(status=next(r1_answers, 200)))
    r2_delays = iter([3.0])
    r2 = await make_receiver(lambda request: Reply(delay=next(r2_delays, 0.0)))
    r3_port = closed_port()
    app = await live_factory(
        webhook_timeout_seconds=1.0,
        webhook_retry_base_seconds=0.1,
        webhook_retry_max_delay_seconds=0.8,
    )
    async with api_client(app) as client:
        hooks = {}
        for name, url in (
            ("r1", r1.url),
            ("r2", r2.url),
            ("r3", f"http://127.0.0.1:{r3_port}/hook/r3"),
        ):
            hooks[name] = await create_webhook(client, tenant, url, ["message.sent"])
        conversation = await create_conversation(client, tenant)
        message = (await send_message(client, tenant, conversation["id"], "hi")).json()

        await asyncio.sleep(2.0)
        r3 = await make_receiver(port=r3_port)
        r3.path = "/hook/r3"
        for receiver in (r1, r2, r3):
            await receiver.wait_for(1, timeout=30, predicate=lambda r: r.status == 200)
        # The held first request is recorded only once the receiver replies to it.
        await r2.wait_for(2, timeout=30)
        await asyncio.sleep(1.0)
        logs = {
            name: (await _deliveries(client, tenant, hook["id"]))[0] for name, hook in hooks.items()
        }

    assert [request.status for request in r1.requests] == [503, 503, 200]
    # The receiver records the held request when it finally replies, after the
    # worker gave up on it. The retry got its reply at once.
    assert len(r2.requests) == 2
    assert len(r3.requests) == 1
    assert r3.requests[0].status == 200
    event_ids = {request.webhook_id for receiver in (r1, r2, r3) for request in receiver.requests}
    assert len(event_ids) == 1
    assert json.loads(r1.requests[0].body)["data"]["message"]["id"] == message["id"]

    assert logs["r1"]["attemptCount"] == 3
    assert logs["r2"]["attempts"][0]["error"].startswith("timed out")
    assert logs["r2"]["attemptCount"] == 2
    refusals = logs["r3"]["attempts"][:-1]
    assert len(refusals) >= 3
    assert all(attempt["statusCode"] is None for attempt in refusals)
    assert all("Connect" in attempt["error"] for attempt in refusals)
    gaps = [
        clock.from_iso(attempt["nextRetryAt"]) - clock.from_iso(attempt["attemptedAt"])
        for attempt in refusals
    ]
    capped = [gap for gap in gaps if gap < 0.8 * 800]
    assert capped == sorted(capped)
    assert len(set(capped)) == len(capped)
    for log in logs.values():
        assert log["status"] == "succeeded"
        assert log["attempts"][-1]["statusCode"] == 200


async def test_burst_has_no_duplicates(hook_client, tenant, receiver):
    await create_webhook(
        hook_client, tenant, receiver.url, ["message.sent", "conversation.updated"]
    )
    conversation = await create_conversation(hook_client, tenant)

    responses = await asyncio.gather(
        *(
            send_message(hook_client, tenant, conversation["id"], f"message {index}")
            for index in range(20)
        )
    )
    path = f"/conversations/{conversation['id']}"
    first_patch = await hook_client.patch(path, json={"priority": "high"}, headers=tenant.headers)
    second_patch = await hook_client.patch(path, json={"priority": "high"}, headers=tenant.headers)
    await receiver.wait_for(21)
    await asyncio.sleep(0.5)
    payloads = [json.loads(request.body) for request in receiver.requests]
    sent = [payload for payload in payloads if payload["type"] == "message.sent"]
    updated = [payload for payload in payloads if payload["type"] == "conversation.updated"]

    assert [response.status_code for response in responses] == [201] * 20
    message_ids = {response.json()["id"] for response in responses}
    assert len(message_ids) == 20
    assert len(sent) == 20
    assert len({payload["id"] for payload in sent}) == 20
    assert sorted(payload["data"]["message"]["id"] for payload in sent) == sorted(message_ids)
    assert first_patch.status_code == second_patch.status_code == 200
    assert len(updated) == 1
    assert updated[0]["data"]["changes"] == {"priority": "high"}
    assert len(receiver.requests) == 21


async def test_events_carry_ordering(hook_client, tenant, make_receiver):
    delays = iter([3.0])
    receiver = await make_receiver(lambda request: Reply(delay=next(delays, 0.0)))
    await create_webhook(
        hook_client,
        tenant,
        receiver.url,
        ["conversation.created", "message.sent", "conversation.updated"],
    )
    conversation = await create_conversation(hook_client, tenant)
    await send_message(hook_client, tenant, conversation["id"], "where is my order?")
    await hook_client.patch(
        f"/conversations/{conversation['id']}",
        json={"status": "resolved"},
        headers=tenant.headers,
    )

    await receiver.wait_for(3, timeout=30)
    payloads = [json.loads(request.body) for request in receiver.requests]
    ordered = sorted(payloads, key=lambda payload: payload["sequence"])

    assert [payload["type"] for payload in ordered] == [
        "conversation.created",
        "message.sent",
        "conversation.updated",
    ]
    assert len({payload["sequence"] for payload in payloads}) == 3
    for payload in payloads:
        assert payload["conversationId"] == conversation["id"]
        # Millisecond precision: 2024-01-15T10:30:00.123Z
        assert len(payload["timestamp"]) == 24
        assert payload["timestamp"].endswith("Z")
    assert ordered[-1]["data"]["conversation"]["status"] == "resolved"
    updated_at = [payload["data"]["conversation"]["updatedAt"] for payload in ordered]
    assert updated_at == sorted(updated_at)


async def test_receiver_down_all_day_disables_webhook(manual_factory, tenant, frozen):
    manual = await manual_factory(
        webhook_retry_base_seconds=10, webhook_retry_max_delay_seconds=7200
    )
    url = f"http://127.0.0.1:{closed_port()}/hook"
    webhook = await create_webhook(manual.client, tenant, url, ["conversation.created"])
    await create_conversation(manual.client, tenant)
    started = frozen.now_ms()

    rounds = 0
    while rounds < 100:
        assert await manual.worker.run_once() >= 1
        rounds += 1
        state = (
            await manual.client.get(f"/webhooks/{webhook['id']}", headers=tenant.headers)
        ).json()
        if not state["enabled"]:
            break
        pending = await _deliveries(manual.client, tenant, webhook["id"])
        assert {delivery["status"] for delivery in pending} == {"pending"}
        if rounds == 3:
            # A second event, queued while the receiver is down.
            await create_conversation(manual.client, tenant)
        frozen.set(min(clock.from_iso(delivery["nextAttemptAt"]) for delivery in pending))

    deliveries = await _deliveries(manual.client, tenant, webhook["id"])
    first = deliveries[-1]
    assert state["enabled"] is False
    assert "24 hours" in state["disabledReason"]
    assert "ConnectError" in state["disabledReason"]
    assert 15 <= first["attemptCount"] <= 30
    assert frozen.now_ms() - started >= 24 * 3600 * 1000
    assert frozen.now_ms() - started <= 25 * 3600 * 1000
    assert [delivery["status"] for delivery in deliveries] == ["failed", "failed"]
    assert len(first["attempts"]) == first["attemptCount"]

    await create_conversation(manual.client, tenant)
    assert len(await _deliveries(manual.client, tenant, webhook["id"])) == 2


async def test_sdk_verifies_real_deliveries(hook_client, tenant, receiver):
    sdk_webhooks = pytest.importorskip("campfire.webhooks")
    supplied = "your_webhook_secret"
    generated = await create_webhook(hook_client, tenant, receiver.url, ["message.sent"])
    plain = await create_webhook(
        hook_client, tenant, receiver.url, ["message.sent"], secret=supplied
    )
    conversation = await create_conversation(hook_client, tenant)
    await send_message(hook_client, tenant, conversation["id"], BR02_CONTENT)

    requests = await receiver.wait_for(2)
    verified = 0
    for request in requests:
        for secret in (generated["secret"], supplied):
            try:
                event = sdk_webhooks.verify(request.body, request.headers, secret)
            except sdk_webhooks.WebhookVerificationError:
                continue
            verified += 1
            assert event.id == request.webhook_id
        with pytest.raises(TypeError):
            sdk_webhooks.verify(json.loads(request.body), request.headers, supplied)

    assert verified == 2
    assert plain["secret"] == supplied
