"""Deliveries to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
import standardwebhooks

from campfire_server.events import records
from campfire_server.events.emit import emit
from campfire_server.logs import configure_logging
from campfire_server.outage_log import OutageLog
from campfire_server.webhooks.verify import WebhookVerificationError, verify
from tests.helpers import create_conversation, send_message

from .conftest import closed_port, create_webhook, wait_settled
from .receiver import Reply


async def _deliveries(client, tenant, webhook_id: str) -> list[dict]:
    response = await client.get(f"/webhooks/{webhook_id}/deliveries", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def test_every_event_type_arrives_once_and_verifies(
    hook_client, hook_app, tenant, db, receiver
):
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["*"])
    secret = webhook["secret"]

    conversation = await create_conversation(hook_client, tenant)
    sent = await send_message(hook_client, tenant, conversation["id"], "hello")
    assert sent.status_code == 201
    patched = await hook_client.patch(
        f"/conversations/{conversation['id']}",
        json={"status": "resolved"},
        headers=tenant.headers,
    )
    assert patched.status_code == 200
    # Events built by other parts of the product, emitted the way they emit them.
    triggered = {
        records.CONVERSATION_CREATED,
        records.CONVERSATION_UPDATED,
        records.CONVERSATION_RESOLVED,
        records.MESSAGE_SENT,
    }
    others = [event_type for event_type in records.CATALOG if event_type not in triggered]
    for event_type in others:
        await db.write(
            lambda tx, event_type=event_type: emit(
                tx,
                org_id=tenant.org_id,
                type=event_type,
                data={"conversation": {"id": conversation["id"]}},
                conversation_id=conversation["id"],
            )
        )

    arrived = await receiver.wait_for(len(records.CATALOG))
    await asyncio.sleep(0.3)
    types = [json.loads(request.body)["type"] for request in receiver.requests]

    assert sorted(types) == sorted(records.CATALOG)
    assert len(set(receiver.ids())) == len(records.CATALOG)
    verifier = standardwebhooks.Webhook(secret)
    for request in arrived:
        payload = verifier.verify(request.body, request.headers)
        assert payload["id"] == request.webhook_id
        assert payload["id"].startswith("evt_")
        assert request.headers["content-type"] == "application/json"
        assert int(request.headers["content-length"]) == len(request.body)
        assert verify(request.body, request.headers, secret)["type"] == payload["type"]


async def test_tampered_stale_and_truncated_fail(hook_client, tenant, receiver):
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["conversation.created"])
    await create_conversation(hook_client, tenant)
    (request,) = await receiver.wait_for(1)
    verifier = standardwebhooks.Webhook(webhook["secret"])
    headers = dict(request.headers)

    tampered = request.body.replace(b'"open"', b'"closed"')
    assert tampered != request.body
    stale = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) - 301)}
    truncated = {**headers, "webhook-signature": headers["webhook-signature"][:-4]}

    for check in (verifier.verify, lambda body, h: verify(body, h, webhook["secret"])):
        with pytest.raises((standardwebhooks.WebhookVerificationError, WebhookVerificationError)):
            check(tampered, headers)
        with pytest.raises((standardwebhooks.WebhookVerificationError, WebhookVerificationError)):
            check(request.body, stale)
        with pytest.raises((standardwebhooks.WebhookVerificationError, WebhookVerificationError)):
            check(request.body, truncated)
        check(request.body, headers)


async def test_receiver_500_then_recovers(hook_client, tenant, make_receiver):
    answers = iter([500, 500])
    receiver = await make_receiver(lambda request: Reply(status=next(answers, 200)))
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["conversation.created"])
    await create_conversation(hook_client, tenant)

    await receiver.wait_for(3)
    (delivery,) = await wait_settled(hook_client, tenant, webhook["id"], 1)
    await asyncio.sleep(0.3)

    assert [request.status for request in receiver.requests] == [500, 500, 200]
    assert len(set(receiver.ids())) == 1
    assert delivery["status"] == "succeeded"
    assert delivery["attemptCount"] == 3
    codes = [attempt["statusCode"] for attempt in delivery["attempts"]]
    assert codes == [500, 500, 200]
    assert delivery["attempts"][0]["nextRetryAt"] is not None
    assert delivery["attempts"][0]["responseExcerpt"] == "ok"
    assert delivery["attempts"][0]["error"] == "HTTP 500"
    assert delivery["attempts"][2]["nextRetryAt"] is None
    assert all(attempt["durationMs"] >= 0 for attempt in delivery["attempts"])


async def test_client_error_is_not_retried(hook_client, tenant, make_receiver):
    receiver = await make_receiver(lambda request: Reply(status=400, body=b"bad payload"))
    webhook = await create_webhook(hook_client, tenant, receiver.url, ["conversation.created"])
    await create_conversation(hook_client, tenant)

    (delivery,) = await wait_settled(hook_client, tenant, webhook["id"], 1)
    await asyncio.sleep(0.5)

    assert len(receiver.requests) == 1
    assert delivery["status"] == "failed"
    assert delivery["attemptCount"] == 1
    assert delivery["lastStatusCode"] == 400
    assert delivery["attempts"][0]["responseExcerpt"] == "bad payload"
    assert delivery["attempts"][0]["nextRetryAt"] is None


@pytest.mark.parametrize("status", [408, 425, 429, 502, 503])
async def test_retryable_statuses_are_retried(hook_client, tenant, make_receiver, status):
    answers = iter([status])
    receiver = await make_receiver(lambda request: Reply(status=next(answers, 200)))
    await create_webhook(hook_client, tenant, receiver.url, ["conversation.created"])
    await create_conversation(hook_client, tenant)

    await receiver.wait_for(2)

    assert [request.status for request in receiver.requests[:2]] == [status, 200]


async def test_retry_after_is_honoured(hook_client, tenant, make_receiver):
    answers = iter([Reply(status=429, headers={"Retry-After": "1"})])
    receiver = await make_receiver(lambda request: next(answers, Reply()))
    await create_webhook(hook_client, tenant, receiver.url, ["conversation.created"])
    await create_conversation(hook_client, tenant)

    first, second = await receiver.wait_for(2)

    # The fast test backoff is 0.05 s; only Retry-After explains a wait this long.
    assert second.received_at - first.received_at >= 0.9


async def test_logs_never_show_url_query(manual_factory, tenant, receiver, capsys):
    """Neither httpx request lines nor attempt lines show a secret query value."""
    secret = "query-secret-4f9a1c"
    manual = await manual_factory()
    await create_webhook(manual.client, tenant, f"{receiver.url}?token={secret}", ["*"])
    await create_webhook(
        manual.client, tenant, f"http://127.0.0.1:{closed_port()}/hook?token={secret}", ["*"]
    )
    await create_conversation(manual.client, tenant)
    capsys.readouterr()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging("INFO", "json")
    try:
        assert await manual.worker.run_once() == 2
    finally:
        logged = capsys.readouterr().err
        root.handlers[:], root.level = handlers, level

    assert receiver.requests or "HTTP 404" in logged
    assert "webhook attempt failed" in logged
    assert "HTTP Request" not in logged
    assert secret not in logged


async def test_outage_logs_first_summary_recovery(manual_factory, tenant, make_receiver, caplog):
    """A failing receiver logs its first failure, then a summary a minute, then its recovery."""
    status = {"code": 500}
    receiver = await make_receiver(lambda request: Reply(status=status["code"]))
    manual = await manual_factory()
    webhook = await create_webhook(manual.client, tenant, receiver.url, ["conversation.created"])
    for _ in range(3):
        await create_conversation(manual.client, tenant)
    now = [0.0]
    delivery_log = logging.getLogger("campfire_server.webhooks.delivery")
    manual.worker.endpoint_outages = OutageLog(delivery_log, monotonic=lambda: now[0])
    caplog.set_level(logging.INFO, logger=delivery_log.name)

    def lines() -> list[logging.LogRecord]:
        return [record for record in caplog.records if record.name == delivery_log.name]

    assert await manual.worker.run_once() == 3
    first = lines()
    # The fast test backoff is at most 0.4 s plus jitter, so every retry is due after this.
    await asyncio.sleep(0.6)
    now[0] = 61.0
    assert await manual.worker.run_once() == 3
    summary = lines()[len(first) :]
    status["code"] = 200
    await asyncio.sleep(0.6)
    assert await manual.worker.run_once() == 3
    recovered = lines()[len(first) + len(summary) :]

    assert [record.getMessage() for record in first] == ["webhook attempt failed"]
    assert first[0].levelno == logging.WARNING
    assert first[0].webhook_id == webhook["id"]
    assert first[0].delivery_id.startswith("dlv_")
    assert first[0].error == "HTTP 500"
    assert first[0].status_code == 500
    assert [record.getMessage() for record in summary] == [
        "webhook attempt failed (3 failures in the last 61 s)"
    ]
    assert summary[0].levelno == logging.WARNING
    assert summary[0].failures == 4
    assert summary[0].webhook_id == webhook["id"]
    assert summary[0].error == "HTTP 500"
    assert [record.getMessage() for record in recovered] == ["webhook endpoint recovered"]
    assert recovered[0].levelno == logging.INFO
    assert recovered[0].failures == 6
    assert recovered[0].webhook_id == webhook["id"]
