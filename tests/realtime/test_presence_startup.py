"""Agent presence left in the database by a process that died without closing its sockets."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from campfire_server.app import create_app
from tests.conftest import test_settings as make_settings


@contextlib.asynccontextmanager
async def running_app(db: Any, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Yield a client of a fresh app on ``db`` whose start-up has run."""
    app = create_app(make_settings(db.url, **overrides), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver/api/v2"
        ) as client:
            yield client


async def create_agents(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    for agent_id, status in (("agent_on", "online"), ("agent_away", "away")):
        created = await client.post(
            "/agents", json={"id": agent_id, "name": agent_id, "status": status}, headers=headers
        )
        assert created.status_code == 201, created.text


async def statuses(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    listed = await client.get("/agents", headers=headers)
    assert listed.status_code == 200, listed.text
    return {agent["id"]: agent["status"] for agent in listed.json()["data"]}


async def test_start_up_marks_online_agents_offline(db, tenant):
    if db.dialect != "sqlite":
        pytest.skip("only a server on SQLite knows it is the only process")
    async with running_app(db) as before:
        await create_agents(before, tenant.headers)
        assert await statuses(before, tenant.headers) == {
            "agent_on": "online",
            "agent_away": "away",
        }

    # The first app's statuses stay stored, as after a crash; the next start clears them.
    async with running_app(db) as after:
        assert await statuses(after, tenant.headers) == {
            "agent_on": "offline",
            "agent_away": "away",
        }


async def test_start_up_with_several_workers_keeps_presence(db, tenant):
    async with running_app(db) as before:
        await create_agents(before, tenant.headers)

    # Without Redis, other workers may hold the agents' sockets, so nothing is cleared.
    async with running_app(db, workers=2) as after:
        assert (await statuses(after, tenant.headers))["agent_on"] == "online"


async def test_start_up_on_postgresql_keeps_presence(db, tenant):
    if db.dialect != "postgresql":
        pytest.skip("the PostgreSQL case")
    async with running_app(db) as before:
        await create_agents(before, tenant.headers)

    # Other servers without Redis may share the database and hold the agents' sockets.
    async with running_app(db) as after:
        assert (await statuses(after, tenant.headers))["agent_on"] == "online"


async def test_start_up_on_unmigrated_database_goes_on(tmp_path):
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'empty.db'}", env="test"))
    async with app.router.lifespan_context(app):
        assert await app.state.realtime.clear_stale_presence() == 0
