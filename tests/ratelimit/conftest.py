"""An app factory with small rate limits, so tests reach them in a few requests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from campfire_server.app import create_app
from tests.conftest import test_settings as make_settings


@contextlib.asynccontextmanager
async def limited_client(
    db: Any, client_address: str = "127.0.0.1", **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client of a fresh app (fresh in-memory counters) with ``overrides``."""
    app = create_app(make_settings(db.url, **overrides), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_address, 40000))
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver/api/v2"
        ) as client:
            client.app = app  # type: ignore[attr-defined]
            yield client
