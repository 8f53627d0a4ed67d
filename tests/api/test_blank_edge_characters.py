"""Blank letters and stray tag characters at either end of an id or a name.

Fonts draw the Hangul fillers and the empty Braille pattern as blank space.
A tag character outside an emoji flag draws nothing, and a combining mark
in first place has no base character. So each makes a value look like another.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveServer, start_server

BLANK_EDGES = [
    "\u3164edge_blank",  # Hangul filler
    "edge_blank\uffa0",  # halfwidth Hangul filler
    "\u2800edge_blank",  # empty Braille pattern
    "edge_blank\U000e0041",  # tag letter A outside a flag
    "\U000e0067edge_blank",  # tag letter g at the start
    "\u0301edge_blank",  # combining acute accent with no base character
    "\ufe0fedge_blank",  # variation selector with no base character
    "\u034fedge_blank",  # combining grapheme joiner at the start
]


@pytest.fixture(scope="module")
def server(db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(db.url, tmp_path_factory.mktemp("blank-edges"))
    yield live
    live.stop()


@pytest.mark.parametrize("customer_id", BLANK_EDGES)
async def test_blank_edge_id_rejected(server, tenant, customer_id):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post("/conversations", json={"customerId": customer_id})
        listed = await http.get("/conversations", params={"customerId": customer_id})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["field"] == "customerId"
    assert listed.json()["data"] == []


@pytest.mark.parametrize("name", BLANK_EDGES)
async def test_blank_edge_mailbox_name_rejected(server, tenant, name):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        before = await http.get("/mailboxes", params={"limit": 100})
        response = await http.post("/mailboxes", json={"name": name})
        after = await http.get("/mailboxes", params={"limit": 100})

    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["field"] == "name"
    assert len(after.json()["data"]) == len(before.json()["data"])


@pytest.mark.parametrize(
    "name",
    [
        "Scotland \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
        "\ud55c\uad6d",  # Hangul syllables, which are not fillers
        "\u2801 Braille",  # a Braille pattern with a dot
    ],
)
async def test_visible_edge_mailbox_name_accepted(server, tenant, name):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post("/mailboxes", json={"name": name})

    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
