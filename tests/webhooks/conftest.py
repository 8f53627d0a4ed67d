"""Fixtures for webhook tests: local receivers, fast retry settings, a manual worker."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from campfire_server import clock
from campfire_server.app import create_app
from campfire_server.db.database import Database
from campfire_server.webhooks.delivery import DeliveryWorker, new_http_client
from tests.conftest import test_settings

from .receiver import Behaviour, Receiver

# Retries in milliseconds instead of minutes, so a test sees several attempts.
FAST = {
    "webhook_retry_base_seconds": 0.05,
    "webhook_retry_max_delay_seconds": 0.4,
    "webhook_poll_seconds": 0.1,
    "webhook_timeout_seconds": 2.0,
    "webhook_lease_seconds": 10.0,
}


def fast_settings(database_url: str, **overrides: Any):  # type: ignore[no-untyped-def]
    return test_settings(database_url, **{**FAST, **overrides})


@pytest.fixture
async def make_receiver() -> AsyncIterator[Callable[..., Any]]:
    started: list[Receiver] = []

    async def make(behaviour: Behaviour | None = None, port: int = 0) -> Receiver:
        receiver = await Receiver(behaviour, port).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


@pytest.fixture
async def receiver(make_receiver: Callable[..., Any]) -> Receiver:
    return await make_receiver()


async def _forget_webhooks(db: Database, org_id: str) -> None:
    """Delete a tenant's webhooks so their retries cannot reach a later test's receiver."""

    def work(tx):  # type: ignore[no-untyped-def]
        tx.execute(
            "DELETE FROM webhook_attempts WHERE delivery_id IN "
            "(SELECT id FROM webhook_deliveries WHERE org_id = :org_id)",
            org_id=org_id,
        )
        tx.execute("DELETE FROM webhook_deliveries WHERE org_id = :org_id", org_id=org_id)
        tx.execute("DELETE FROM webhooks WHERE org_id = :org_id", org_id=org_id)

    await db.write(work)


async def _park_other_deliveries(db: Database, org_id: str) -> None:
    """Fail the due deliveries that earlier tests of the shared database left behind.

    A manual worker claims every due row, and the tests count its claims.
    """

    def work(tx):  # type: ignore[no-untyped-def]
        tx.execute(
            "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL, "
            "claimed_by = NULL, last_error = 'left behind by an earlier test' "
            "WHERE org_id <> :org_id AND status IN ('pending', 'delivering')",
            org_id=org_id,
        )

    await db.write(work)


@pytest.fixture
async def live_factory(db: Database, tenant: Any) -> AsyncIterator[Callable[..., Any]]:
    """Build applications with the in-process worker, fast retries and ``overrides``."""
    opened: list[tuple[Any, Any]] = []

    async def make(**overrides: Any) -> Any:
        application = create_app(fast_settings(db.url, **overrides), db=db)
        lifespan = application.router.lifespan_context(application)
        await lifespan.__aenter__()
        opened.append((application, lifespan))
        return application

    yield make
    for _application, lifespan in reversed(opened):
        await lifespan.__aexit__(None, None, None)
    await _forget_webhooks(db, tenant.org_id)


def api_client(application: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=application),
        base_url="http://testserver/api/v2",
        timeout=30,
    )


@pytest.fixture
async def hook_app(live_factory: Callable[..., Any]) -> Any:
    """The application with its in-process worker and fast retries."""
    return await live_factory()


@pytest.fixture
async def hook_client(hook_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(hook_app) as http:
        yield http


@pytest.fixture
def frozen() -> Iterator[clock.FrozenClock]:
    frozen_clock = clock.FrozenClock()
    previous = clock.set_clock(frozen_clock)
    yield frozen_clock
    clock.set_clock(previous)


class Manual:
    """An application without a background worker, and a worker the test drives."""

    def __init__(self, app: Any, client: httpx.AsyncClient, worker: DeliveryWorker) -> None:
        self.app = app
        self.client = client
        self.worker = worker


@pytest.fixture
async def manual_factory(db: Database, tenant: Any) -> AsyncIterator[Callable[..., Any]]:
    opened: list[tuple[Any, Any, httpx.AsyncClient, httpx.AsyncClient]] = []

    async def make(**overrides: Any) -> Manual:
        await _park_other_deliveries(db, tenant.org_id)
        settings = fast_settings(db.url, webhook_worker=False, **overrides)
        application = create_app(settings, db=db)
        lifespan = application.router.lifespan_context(application)
        await lifespan.__aenter__()
        api = api_client(application)
        sender = new_http_client(settings)
        opened.append((application, lifespan, api, sender))
        return Manual(application, api, DeliveryWorker(db, settings, sender))

    yield make
    for _application, lifespan, api, sender in opened:
        await api.aclose()
        await sender.aclose()
        await lifespan.__aexit__(None, None, None)
    await _forget_webhooks(db, tenant.org_id)


def closed_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def create_webhook(
    client: httpx.AsyncClient, tenant: Any, url: str, events: list[str], **extra: Any
) -> dict:
    response = await client.post(
        "/webhooks", json={"url": url, "events": events, **extra}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def wait_settled(
    client: httpx.AsyncClient, tenant: Any, webhook_id: str, count: int, timeout: float = 20
) -> list[dict]:
    """Wait until ``count`` deliveries of the webhook succeeded or failed; return them all."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await client.get(
            f"/webhooks/{webhook_id}/deliveries", params={"limit": 100}, headers=tenant.headers
        )
        assert response.status_code == 200, response.text
        items = response.json()["data"]
        settled = [item for item in items if item["status"] in ("succeeded", "failed")]
        if len(settled) >= count:
            return items
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"only {len(settled)} of {count} deliveries settled: {items}")
        await asyncio.sleep(0.05)
