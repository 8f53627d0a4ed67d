from __future__ import annotations

from typing import Any

from .._core import body, path, query
from .._models import Webhook, WebhookDelivery
from .._pagination import Paginator
from ._base import Resource, ignore


class Webhooks(Resource):
    """Webhook subscriptions, their deliveries and signing secrets.

    To check a delivery that your endpoint received, use ``campfire.webhooks.verify``.
    """

    def create(
        self,
        *,
        url: str,
        events: list[str],
        secret: str | None = None,
        mailbox_ids: list[str] | None = None,
    ) -> Webhook:
        """Subscribe ``url`` to ``events`` (such as ``message.sent``, or ``*`` for all).

        Without ``secret`` the server generates a ``whsec_...`` secret and returns it
        once, in this response. ``mailbox_ids`` limits it to those mailboxes' events.
        """
        return self._call(
            "POST",
            "/webhooks",
            Webhook.model_validate,
            json=body(url=url, events=events, secret=secret, mailbox_ids=mailbox_ids),
        )

    def get(self, webhook_id: str) -> Webhook:
        return self._call("GET", path("/webhooks/{}", webhook_id), Webhook.model_validate)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Paginator[Webhook]:
        """Iterate the webhook subscriptions, oldest first.

        ``limit`` is the page size (1..100) and ``cursor`` the ``nextCursor`` of
        an earlier page to continue from.
        """
        return self._list("/webhooks", Webhook.model_validate, query(limit=limit, cursor=cursor))

    def update(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        events: list[str] | None = None,
        enabled: bool | None = None,
    ) -> Webhook:
        return self._call(
            "PATCH",
            path("/webhooks/{}", webhook_id),
            Webhook.model_validate,
            json=body(url=url, events=events, enabled=enabled),
        )

    def delete(self, webhook_id: str) -> None:
        return self._call("DELETE", path("/webhooks/{}", webhook_id), ignore)

    def rotate_secret(self, webhook_id: str, *, secret: str | None = None) -> Webhook:
        """Switch to a new signing secret (generated unless given).

        The old secret stays valid for a grace window, and deliveries carry both signatures.
        """
        return self._call(
            "POST",
            path("/webhooks/{}/rotate-secret", webhook_id),
            Webhook.model_validate,
            json=body(secret=secret),
        )

    def deliveries(
        self,
        webhook_id: str,
        *,
        status: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paginator[WebhookDelivery]:
        """Iterate delivery attempts of a subscription, with status codes and next retry."""
        return self._list(
            path("/webhooks/{}/deliveries", webhook_id),
            WebhookDelivery.model_validate,
            query(status=status, limit=limit, cursor=cursor),
        )

    def retry_delivery(self, webhook_id: str, delivery_id: str) -> WebhookDelivery:
        return self._call(
            "POST",
            path("/webhooks/{}/deliveries/{}/retry", webhook_id, delivery_id),
            WebhookDelivery.model_validate,
            json={},
        )

    def test(self, webhook_id: str) -> dict[str, Any]:
        """Send a ping event to the subscription's URL; returns the server's summary."""
        return self._call("POST", path("/webhooks/{}/test", webhook_id), dict, json={})
