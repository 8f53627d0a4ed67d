"""A since outside the channel's log gets the same error on both transports and backends."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from campfire_server.db import migrate
from campfire_server.db.database import Database, open_database
from tests.conftest import (
    LiveServer,
    Tenant,
    create_postgres_database,
    drop_postgres_database,
    make_tenant,
    start_server,
)
from tests.realtime.conftest import (
    SERVER_ENV,
    connect,
    next_frame,
    open_conversation,
    post_message,
    sqlite_url,
)

MAX_SINCE = 2**63 - 1


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def since_url(
    request: pytest.FixtureRequest,
    postgres_available: bool,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    if request.param == "sqlite":
        yield sqlite_url(tmp_path_factory.mktemp("since"))
        return
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = create_postgres_database()
    migrate.upgrade(url)
    yield url
    drop_postgres_database(url)


@pytest.fixture(scope="module")
def since_server(since_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(since_url, tmp_path_factory.mktemp("since-logs"), env=SERVER_ENV)
    yield live
    live.stop()


@pytest.fixture(scope="module")
async def since_db(since_url: str) -> AsyncIterator[Database]:
    database = open_database(since_url, pool_size=2)
    yield database
    await database.close()


@pytest.fixture
async def since_http(since_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=since_server.api, timeout=30) as client:
        yield client


async def _channels(http: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    conversation_id = await open_conversation(http, tenant)
    await post_message(http, tenant, conversation_id, "first")
    return {
        "conversation": f"conversation:{conversation_id}",
        "mailbox": f"mailbox:{tenant.mailbox_id}",
    }


async def _last_position(http: httpx.AsyncClient, tenant: Tenant, channel: str) -> int:
    response = await http.get("/events", params={"channel": channel}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return int(response.json()["pagination"]["nextCursor"])


@pytest.mark.parametrize("kind", ["conversation", "mailbox"])
async def test_since_beyond_end_rejected_over_http(
    since_server, since_db, since_http, kind
) -> None:
    tenant = await make_tenant(since_db, f"Since HTTP {kind}")
    channel = (await _channels(since_http, tenant))[kind]
    end = await _last_position(since_http, tenant, channel)

    response = await since_http.get(
        "/events", params={"channel": channel, "since": "1000000000"}, headers=tenant.headers
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "since"
    assert error["details"]["value"] == 1000000000
    assert "1000000000 is beyond the end" in error["message"]
    if kind == "conversation":
        assert f"last sequence is {end}" in error["message"]

    at_end = await since_http.get(
        "/events", params={"channel": channel, "since": str(end)}, headers=tenant.headers
    )
    assert at_end.status_code == 200, at_end.text


@pytest.mark.parametrize("kind", ["conversation", "mailbox"])
async def test_since_beyond_end_rejected_over_socket(
    since_server, since_db, since_http, kind
) -> None:
    tenant = await make_tenant(since_db, f"Since socket {kind}")
    channel = (await _channels(since_http, tenant))[kind]
    ws = await connect(since_server, tenant.key)

    await ws.send(json.dumps({"type": "subscribe", "channel": channel, "since": 1000000000}))
    error = await next_frame(ws)

    assert error["type"] == "error"
    assert error["channel"] == channel
    assert error["data"]["code"] == "VALIDATION_ERROR"
    assert error["data"]["details"]["value"] == 1000000000
    assert "1000000000 is beyond the end" in error["data"]["message"]

    await ws.send(json.dumps({"type": "subscribe", "channel": channel, "since": 0}))
    subscribed = await next_frame(ws)
    assert subscribed["type"] == "subscribed"
    assert subscribed["channel"] == channel
    await ws.close()


@pytest.mark.parametrize("kind", ["conversation", "mailbox"])
@pytest.mark.parametrize("since", ["-1", str(MAX_SINCE + 1), "99999999999999999999"])
async def test_since_out_of_range_same_message(
    since_server, since_db, since_http, kind, since
) -> None:
    tenant = await make_tenant(since_db, f"Since range {kind} {since}")
    channel = (await _channels(since_http, tenant))[kind]
    expected = f"an integer from 0 to {MAX_SINCE}"
    ws = await connect(since_server, tenant.key)

    await ws.send(f'{{"type":"subscribe","channel":"{channel}","since":{since}}}')
    frame = await next_frame(ws)
    response = await since_http.get(
        "/events", params={"channel": channel, "since": since}, headers=tenant.headers
    )

    assert frame["data"]["code"] == "VALIDATION_ERROR"
    assert frame["data"]["details"]["field"] == "since"
    assert expected in frame["data"]["message"]
    assert "-9223372036854775808" not in frame["data"]["message"]
    assert response.status_code == 400
    assert expected in response.json()["error"]["message"]
    await ws.close()


async def test_max_since_beyond_end_same_on_both(since_server, since_db, since_http) -> None:
    tenant = await make_tenant(since_db, "Since max")
    channel = (await _channels(since_http, tenant))["mailbox"]
    ws = await connect(since_server, tenant.key)

    await ws.send(json.dumps({"type": "subscribe", "channel": channel, "since": MAX_SINCE}))
    frame = await next_frame(ws)
    response = await since_http.get(
        "/events", params={"channel": channel, "since": str(MAX_SINCE)}, headers=tenant.headers
    )

    assert frame["type"] == "error"
    assert f"{MAX_SINCE} is beyond the end" in frame["data"]["message"]
    assert response.status_code == 400
    assert f"{MAX_SINCE} is beyond the end" in response.json()["error"]["message"]
    await ws.close()
