"""Validation messages worded by this API, never the text of a Python exception.

``urllib.parse``, ``idna`` and codecs raise errors such as "Invalid IPv6
URL" or "'utf-8' codec can't encode character". Each case below makes one
of them happen inside a check, and the 400 message must explain the problem
in this API's words instead.
"""

from __future__ import annotations

from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from campfire_server.pydantic_errors import validation_failed
from tests.api.test_errors import assert_envelope
from tests.helpers import create_conversation, get_conversation

# Fragments of the messages of urllib.parse, idna and the codecs.
PYTHON_WORDING = (
    "Invalid IPv6 URL",
    "Port out of range",
    "Port could not be cast",
    "does not appear to be an IPv4 or IPv6 address",
    "under NFKC normalization",
    "not allowed at position",
    "codec",
)


def _assert_own_wording(message: str) -> None:
    for fragment in PYTHON_WORDING:
        assert fragment not in message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1/help", "its host has unbalanced brackets"),
        ("http://[nothost]/help", "brackets around something other than an IPv6 address"),
        ("http://help\uff03center.example/", "Unicode normalization (NFKC)"),
    ],
)
async def test_metadata_link_reason_is_ours(client, tenant, url, reason):
    conversation = await create_conversation(client, tenant)

    response = await client.post(
        f"/conversations/{conversation['id']}/messages",
        json={"content": "hello", "metadata": {"pageUrl": url}},
        headers=tenant.headers,
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "metadata.pageUrl"
    assert reason in error["message"]
    _assert_own_wording(error["message"])
    _assert_own_wording(str(error["details"]["expected"]))
    assert (await get_conversation(client, tenant, conversation["id"]))["messageCount"] == 0


async def test_article_url_reason_is_ours(client, tenant):
    response = await client.post(
        "/knowledge/articles",
        json={"title": "Refunds", "content": "How refunds work.", "url": "https://[::1/refunds"},
        headers=tenant.headers,
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "url"
    assert "its host has unbalanced brackets" in error["message"]
    _assert_own_wording(error["message"])


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://[::1/hook", "its host has unbalanced brackets"),
        ("https://[nothost]/hook", "brackets around something other than an IPv6 address"),
        ("https://hooks.example.com:99999/hook", "its port is not a whole number"),
        ("https://hooks.example.com:8o/hook", "its port is not a whole number"),
        ("https://hooks\uff03x.example/hook", "Unicode normalization (NFKC)"),
        ("https://a\u200db.example/hook", "not a valid internationalized domain name"),
    ],
)
async def test_webhook_url_reason_is_ours(client, tenant, url, reason):
    response = await client.post(
        "/webhooks", json={"url": url, "events": ["conversation.created"]}, headers=tenant.headers
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "url"
    assert reason in error["message"]
    _assert_own_wording(error["message"])
    listed = await client.get("/webhooks", headers=tenant.headers)
    assert listed.json()["data"] == []


class _Checked(BaseModel):
    name: str

    @field_validator("name")
    @classmethod
    def _encode(cls, value: str) -> str:
        value.encode("ascii")
        return value


def test_foreign_validator_exception_not_shown():
    with pytest.raises(ValidationError) as raised:
        _Checked(name="caf\u00e9")

    error = validation_failed(list(raised.value.errors()))

    assert error.details["field"] == "name"
    assert error.message == (
        'name "caf\u00e9" is invalid; correct the value and send the request again'
    )
    assert error.details["expected"] == "a valid value"
    _assert_own_wording(error.message)


async def test_oversized_query_integer_is_ours(client, tenant):
    response = await client.get(
        "/conversations", params={"limit": "9" * 5000}, headers=tenant.headers
    )

    error = assert_envelope(response, 400, "VALIDATION_ERROR")
    assert error["details"]["field"] == "limit"
    assert error["details"]["expected"] == "an integer of at most 4300 digits"
    assert error["message"].endswith("... is invalid; send an integer of at most 4300 digits")
    assert "Unable to parse" not in error["message"]
    assert "exceeded maximum size" not in error["details"]["expected"]


class _Identified(BaseModel):
    id: UUID


def test_unlisted_pydantic_type_not_shown():
    with pytest.raises(ValidationError) as raised:
        _Identified(id="not-a-uuid")

    error = validation_failed(list(raised.value.errors()))

    assert error.details["field"] == "id"
    assert error.details["expected"] == "a valid value"
    assert error.message == 'id "not-a-uuid" is invalid; send a valid value'
    assert "Input should be" not in error.message
