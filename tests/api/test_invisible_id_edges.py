"""Supplied ids whose first or last character draws nothing are rejected.

A zero-width space or byte order mark at either end makes an id that a
listing shows exactly like another one, as leading spaces do.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveServer, start_server


@pytest.fixture(scope="module")
def server(db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(db.url, tmp_path_factory.mktemp("invisible-id-edges"))
    yield live
    live.stop()


@pytest.mark.parametrize(
    "customer_id",
    [
        "\u200bcustomer_zw",  # zero-width space
        "customer_zw\ufeff",  # byte order mark
        "\u2060customer_zw",  # word joiner
        "customer_zw\u200e",  # left-to-right mark
        "\u202ecustomer_zw",  # right-to-left override
        "customer_zw\u2028",  # line separator
    ],
)
async def test_invisible_edge_id_rejected(server, tenant, customer_id):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post("/conversations", json={"customerId": customer_id})
        listed = await http.get("/conversations", params={"customerId": customer_id})

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "customerId"
    assert "trim" in error["message"]
    assert listed.json()["data"] == []


@pytest.mark.parametrize(
    "customer_id",
    [
        "cafe\u0301",  # ends with a combining acute accent (NFD)
        "family_\U0001f468\u200d\U0001f469\u200d\U0001f467",  # joiners inside an emoji
        "flag_\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "heart_\u2764\ufe0f",  # ends with a variation selector
    ],
)
async def test_visible_edge_id_accepted(server, tenant, customer_id):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post("/conversations", json={"customerId": customer_id})

    assert response.status_code == 201, response.text
    assert response.json()["customerId"] == customer_id
