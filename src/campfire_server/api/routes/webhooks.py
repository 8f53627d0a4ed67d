"""Webhooks: subscriptions, secret rotation, the delivery log, replays and test pings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Response

from ... import clock
from ...auth.permissions import narrow_mailboxes
from ...db.tx import Tx
from ...pagination import page_request
from ...webhooks import actions, guard, service
from ...webhooks.schemas import (
    Delivery,
    DeliveryStatus,
    SecretRotation,
    Webhook,
    WebhookCreate,
    WebhookUpdate,
)
from ..deps import DbDep, SettingsDep
from ..lean_route import LeanRoute
from ..locations import set_location
from ..query import PageCursor, PageLimit, PageNumber
from ..route_access import WebhookManager
from ..schemas import Page, errors

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=LeanRoute)


@router.post(
    "",
    status_code=201,
    response_model=Webhook,
    responses=errors(400, 403, 404, 413, 415),
    operation_id="webhooks-create",
    summary="Create a webhook; the response carries the signing secret, shown only once",
)
async def create_webhook(
    body: WebhookCreate,
    principal: WebhookManager,
    db: DbDep,
    settings: SettingsDep,
    response: Response,
) -> Webhook:
    actions.check_events(body.events)
    mailbox_ids = narrow_mailboxes(principal, body.mailbox_ids)
    guard.check_url(body.url, settings)
    webhook = await db.write(
        lambda tx: actions.create_webhook(tx, principal.org_id, body, mailbox_ids)
    )
    set_location(response, "webhooks", webhook.id)
    return webhook


@router.get(
    "",
    response_model=Page[Webhook],
    responses=errors(400, 403),
    operation_id="webhooks-list",
    summary="List webhooks, oldest first; secrets are masked",
)
async def list_webhooks(
    principal: WebhookManager,
    db: DbDep,
    page: PageNumber = 1,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> dict:
    request = page_request(page, limit, cursor, list_key=f"{principal.org_id}:webhooks")
    rows, meta = await db.read(lambda tx: service.list_webhooks(tx, principal, request))
    now = clock.now_ms()
    return {"data": [service.webhook_from_row(row, now_ms=now) for row in rows], "pagination": meta}


@router.get(
    "/{webhook_id}",
    response_model=Webhook,
    responses=errors(403, 404),
    operation_id="webhooks-get",
    summary="Get a webhook; the secret is masked",
)
async def get_webhook(webhook_id: str, principal: WebhookManager, db: DbDep) -> Webhook:
    row = await db.read(lambda tx: service.find_webhook_row(tx, principal, webhook_id))
    return service.webhook_from_row(row, now_ms=clock.now_ms())


@router.patch(
    "/{webhook_id}",
    response_model=Webhook,
    responses=errors(400, 403, 404, 413, 415),
    operation_id="webhooks-update",
    summary="Change the URL or events, or enable or disable a webhook",
)
async def update_webhook(
    webhook_id: str,
    body: WebhookUpdate,
    principal: WebhookManager,
    db: DbDep,
    settings: SettingsDep,
) -> Webhook:
    if body.events is not None:
        actions.check_events(body.events)
    if body.url is not None:
        guard.check_url(body.url, settings)

    def work(tx: Tx) -> Webhook:
        service.find_webhook_row(tx, principal, webhook_id, lock=True)
        return actions.update_webhook(tx, principal.org_id, webhook_id, body)

    return await db.write(work)


@router.delete(
    "/{webhook_id}",
    status_code=204,
    responses=errors(403, 404),
    operation_id="webhooks-delete",
    summary="Delete a webhook and its delivery log",
)
async def delete_webhook(webhook_id: str, principal: WebhookManager, db: DbDep) -> Response:

    def work(tx: Tx) -> None:
        service.find_webhook_row(tx, principal, webhook_id, lock=True)
        actions.delete_webhook(tx, principal.org_id, webhook_id)

    await db.write(work)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    response_model=Webhook,
    responses=errors(400, 403, 404, 413, 415),
    operation_id="webhooks-rotate-secret",
    summary="Replace the secret; the old one keeps signing during the grace window",
)
async def rotate_secret(
    webhook_id: str,
    principal: WebhookManager,
    db: DbDep,
    settings: SettingsDep,
    body: Annotated[SecretRotation | None, Body()] = None,
) -> Webhook:
    new_secret = body.secret if body is not None else None
    grace_ms = int(settings.webhook_rotation_grace_seconds * 1000)

    def work(tx: Tx) -> Webhook:
        service.find_webhook_row(tx, principal, webhook_id, lock=True)
        return actions.rotate_secret(tx, principal.org_id, webhook_id, new_secret, grace_ms)

    return await db.write(work)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[Delivery],
    responses=errors(400, 403, 404),
    operation_id="webhooks-deliveries-list",
    summary="List deliveries, newest first, each with its attempts",
)
async def list_deliveries(
    webhook_id: str,
    principal: WebhookManager,
    db: DbDep,
    page: PageNumber = 1,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    status: DeliveryStatus | None = None,
) -> dict:
    request = page_request(
        page, limit, cursor, list_key=f"{principal.org_id}:deliveries:{webhook_id}:{status}"
    )

    def work(tx: Tx) -> tuple[list[Delivery], dict]:
        service.find_webhook_row(tx, principal, webhook_id)
        return service.list_deliveries(tx, principal.org_id, webhook_id, request, status)

    items, meta = await db.read(work)
    return {"data": items, "pagination": meta}


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    status_code=202,
    response_model=Delivery,
    responses=errors(403, 404, 409),
    operation_id="webhooks-deliveries-retry",
    summary="Send a delivery again now, with the same webhook-id",
)
async def retry_delivery(
    webhook_id: str, delivery_id: str, principal: WebhookManager, db: DbDep
) -> Delivery:

    def work(tx: Tx) -> Delivery:
        service.find_webhook_row(tx, principal, webhook_id)
        return actions.retry_delivery(tx, principal.org_id, webhook_id, delivery_id)

    return await db.write(work)


@router.post(
    "/{webhook_id}/test",
    status_code=202,
    response_model=Delivery,
    responses=errors(403, 404, 409),
    operation_id="webhooks-test",
    summary="Queue a ping event for this webhook",
)
async def test_webhook(webhook_id: str, principal: WebhookManager, db: DbDep) -> Delivery:

    def work(tx: Tx) -> Delivery:
        service.find_webhook_row(tx, principal, webhook_id)
        return actions.send_test(tx, principal.org_id, webhook_id)

    return await db.write(work)
