"""Request bodies are strict about JSON types; query integers follow one rule."""

from __future__ import annotations

import copy
import re

import pytest

from campfire_server.redaction import is_secret_field
from tests.helpers import create_conversation, writer_headers

# JSON values that lax parsing would turn into the type, per OpenAPI type.
WRONG_VALUES = {
    "boolean": ["yes", "true", 1, 0, "1"],
    "integer": ["5", 5.0, 5.5, True],
    "number": ["1.5", True],
    "string": [5, 1.5, True],
}
EXPECTED = {
    "boolean": "a boolean",
    "integer": "an integer",
    "number": "a number",
    "string": "a string",
}


def _resolve(schema: dict, components: dict) -> dict:
    if "$ref" in schema:
        return components[schema["$ref"].rsplit("/", 1)[1]]
    for option in schema.get("anyOf", []):
        if option.get("type") != "null":
            return _resolve(option, components)
    return schema


def _scalar_type(schema: dict) -> str | None:
    options = schema.get("anyOf", [schema])
    types = {option.get("type") for option in options} - {"null"}
    if len(types) == 1 and (kind := types.pop()) in WRONG_VALUES:
        return kind
    return None


def _expected(schema: dict, kind: str) -> str:
    """Return the start of ``details.expected``: an enumeration lists its values."""
    options = schema.get("anyOf", [schema])
    if any("enum" in option or "const" in option for option in options):
        return "one of "
    return EXPECTED[kind]


def _fields(schema: dict, components: dict, prefix: tuple[str, ...] = ()):
    """Yield (path, OpenAPI type, schema) for every scalar property, nested objects included."""
    for name, prop in schema.get("properties", {}).items():
        kind = _scalar_type(prop)
        if kind is not None:
            yield (*prefix, name), kind, prop
            continue
        nested = _resolve(prop, components)
        if nested.get("properties"):
            yield from _fields(nested, components, (*prefix, name))


def _with_value(example: dict, path: tuple[str, ...], value: object) -> dict:
    body = copy.deepcopy(example)
    target = body
    for part in path[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[path[-1]] = value
    return body


async def test_every_body_field_rejects_other_types(client, tenant):
    document = (await client.get("/openapi.json")).json()
    components = document["components"]["schemas"]
    checked = 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            request_body = operation.get("requestBody")
            if request_body is None:
                continue
            schema = _resolve(request_body["content"]["application/json"]["schema"], components)
            example = (schema.get("examples") or [{}])[0]
            url = re.sub(r"\{[^}]+\}", "missing_0", path).removeprefix("/api/v2")
            headers = await writer_headers(client, tenant, path)
            for field_path, kind, prop in _fields(schema, components):
                for value in WRONG_VALUES[kind]:
                    body = _with_value(example, field_path, value)
                    response = await client.request(method.upper(), url, json=body, headers=headers)
                    label = f"{method} {path} {'.'.join(field_path)}={value!r}"

                    assert response.status_code == 400, f"{label}: {response.text}"
                    error = response.json()["error"]
                    assert error["code"] == "VALIDATION_ERROR", label
                    assert error["details"]["field"] == ".".join(field_path), label
                    # A secret's value is never echoed back.
                    shown = "<hidden>" if is_secret_field(".".join(field_path)) else value
                    assert error["details"]["value"] == shown, label
                    assert error["details"]["expected"].startswith(_expected(prop, kind)), label
                    checked += 1
    # Every request model has typed fields; the walk must have found them.
    assert checked > 100


async def test_private_yes_is_rejected(client, tenant, db):
    conversation = await create_conversation(client, tenant)
    response = await client.post(
        f"/conversations/{conversation['id']}/messages",
        json={"content": "internal?", "authorType": "agent", "private": "yes"},
        headers=tenant.headers,
    )
    stored = await db.read(
        lambda tx: tx.value(
            "SELECT COUNT(*) AS n FROM messages WHERE conversation_id = :id",
            id=conversation["id"],
        )
    )

    assert response.status_code == 400
    details = response.json()["error"]["details"]
    assert details == {"field": "private", "value": "yes", "expected": "a boolean"}
    assert stored == 0


async def test_number_fields_take_integers(client, tenant):
    conversation = await create_conversation(client, tenant)
    response = await client.post(
        f"/conversations/{conversation['id']}/satisfaction",
        json={"rating": 4},
        headers=tenant.headers,
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("value", ["20.0", "+20", "2_0", " 20", "20 ", "0x14", "twenty", ""])
async def test_query_integer_must_be_decimal(client, tenant, value):
    response = await client.get("/conversations", params={"limit": value}, headers=tenant.headers)

    assert response.status_code == 400, response.text
    details = response.json()["error"]["details"]
    assert details["field"] == "limit"
    assert details["value"] == value
    assert "integer" in details["expected"]


async def test_query_integer_in_decimal_works(client, tenant):
    response = await client.get("/conversations", params={"limit": "20"}, headers=tenant.headers)

    assert response.status_code == 200
    assert response.json()["pagination"]["limit"] == 20


async def test_mailbox_settings_patch_is_strict(client, tenant):
    response = await client.patch(
        f"/mailboxes/{tenant.mailbox_id}",
        json={"settings": {"autoReply": "yes"}},
        headers=tenant.headers,
    )
    mailbox = await client.get(f"/mailboxes/{tenant.mailbox_id}", headers=tenant.headers)

    assert response.status_code == 400, response.text
    details = response.json()["error"]["details"]
    assert details["field"] == "settings.autoReply"
    assert details["value"] == "yes"
    assert details["expected"] == "a boolean"
    assert mailbox.json()["settings"]["autoReply"] is False
