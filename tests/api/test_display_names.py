"""Display names are stored trimmed and without control characters on every route."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from campfire_server.validation import NAME_EXPECTED
from tests.conftest import LiveServer, start_server

CREATE_PATHS = ["/mailboxes", "/agents", "/keys"]

# Names that a listing would show unlike the text sent, or not at all.
REJECTED = {
    "bell": "Sup\x07port",
    "tab": "Sup\tport",
    "newline": "Sup\nport",
    "carriage return": "Sup\rport",
    "delete": "Sup\x7fport",
    "next line (C1)": "Sup\x85port",
    "leading zero-width space": "\u200bSupport",
    "trailing byte order mark": "Support\ufeff",
    "leading right-to-left mark": "\u200fSupport",
    "trailing word joiner": "Support\u2060",
    "line separator": "Sup\u2028port",
    "paragraph separator": "Sup\u2029port",
}
# Names whose invisible characters sit inside, or end a visible sequence.
ACCEPTED = {
    "family emoji with joiners": "Team \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "flag of Scotland": "Support \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063"
    "\U000e0074\U000e007f",
    "decomposed accent": "Cafe\u0301",
    "joiner inside": "Sup\u200dport",
}

rejected_cases = pytest.mark.parametrize("name", list(REJECTED.values()), ids=list(REJECTED))
accepted_cases = pytest.mark.parametrize("name", list(ACCEPTED.values()), ids=list(ACCEPTED))


@pytest.fixture(scope="module")
def server(db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(db.url, tmp_path_factory.mktemp("display-names"))
    yield live
    live.stop()


def _body(path: str, name: str) -> dict:
    if path == "/agents":
        return {"name": name, "email": f"n{uuid.uuid4().hex[:8]}@example.com"}
    if path == "/keys":
        return {"name": name, "role": "viewer"}
    return {"name": name}


def _assert_name_rejected(response: httpx.Response, field: str, sent: str) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert error["details"]["value"] == sent
    assert error["details"]["expected"] == NAME_EXPECTED


@pytest.mark.parametrize("path", CREATE_PATHS)
async def test_name_stored_trimmed(server, tenant, path):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post(path, json=_body(path, "  Support \n"))

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Support"


@pytest.mark.parametrize("path", ["/mailboxes", "/agents"])
async def test_renamed_name_stored_trimmed(server, tenant, path):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        created = await http.post(path, json=_body(path, "Before"))
        assert created.status_code == 201, created.text
        item = f"{path}/{created.json()['id']}"

        renamed = await http.patch(item, json={"name": "  After  "})
        stored = await http.get(item)

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "After"
    assert stored.json()["name"] == "After"


@rejected_cases
@pytest.mark.parametrize("path", CREATE_PATHS)
async def test_name_with_control_character_rejected(server, tenant, path, name):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        before = await http.get(path)
        response = await http.post(path, json=_body(path, name))
        after = await http.get(path)

    _assert_name_rejected(response, "name", name)
    assert len(after.json()["data"]) == len(before.json()["data"])


@rejected_cases
@pytest.mark.parametrize("path", ["/mailboxes", "/agents"])
async def test_rename_with_control_character_rejected(server, tenant, path, name):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        created = await http.post(path, json=_body(path, "Kept"))
        item = f"{path}/{created.json()['id']}"

        response = await http.patch(item, json={"name": name})
        stored = await http.get(item)

    _assert_name_rejected(response, "name", name)
    assert stored.json()["name"] == "Kept"


@accepted_cases
@pytest.mark.parametrize("path", CREATE_PATHS)
async def test_name_with_inner_invisible_accepted(server, tenant, path, name):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post(path, json=_body(path, name))

    assert response.status_code == 201, response.text
    assert response.json()["name"] == name


async def test_long_name_shown_as_length(server, tenant):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        response = await http.post("/mailboxes", json={"name": "x" * 100_000})

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["details"]["field"] == "name"
    assert error["details"]["value"] == "<100000 characters>"
    assert len(error["message"]) < 300


async def test_subject_stored_trimmed(server, tenant):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        created = await http.post(
            "/conversations", json={"customerId": "customer_names", "subject": "  Refund  "}
        )
        assert created.status_code == 201, created.text
        item = f"/conversations/{created.json()['id']}"
        renamed = await http.patch(item, json={"subject": "\tLate refund\n"})

    assert created.json()["subject"] == "Refund"
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["subject"] == "Late refund"


@rejected_cases
async def test_subject_with_control_character_rejected(server, tenant, name):
    async with httpx.AsyncClient(base_url=server.api, headers=tenant.headers) as http:
        created = await http.post(
            "/conversations", json={"customerId": "customer_names", "subject": name}
        )
        kept = await http.post(
            "/conversations", json={"customerId": "customer_names", "subject": "Kept"}
        )
        item = f"/conversations/{kept.json()['id']}"
        renamed = await http.patch(item, json={"subject": name})
        stored = await http.get(item)

    _assert_name_rejected(created, "subject", name)
    _assert_name_rejected(renamed, "subject", name)
    assert stored.json()["subject"] == "Kept"
