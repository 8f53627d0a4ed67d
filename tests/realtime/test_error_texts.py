"""Every realtime error names the field, the value in the client's JSON spelling, and the fix."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
import websockets

from campfire_server.auth.principal import Principal
from campfire_server.json_numbers import MAX_DEPTH
from campfire_server.realtime.protocol import Close, Protocol, Send
from tests.realtime.conftest import connect, next_frame, ws_url

AGENT = Principal(org_id="org_1", role="agent", kind="token", subject="agent_alpha")

# Python spellings that must never reach a client.
PYTHON_SPELLING = re.compile(r"\b(?:True|False|None|NoneType|dict|list|str|int|bool|float)\b")
FIX_WORDS = re.compile(r"\b(?:send|add|subscribe|unsubscribe|open|wait)\b")


def opened() -> Protocol:
    protocol = Protocol()
    protocol.receive_text(json.dumps({"type": "auth", "token": "sk"}))
    protocol.authenticated(AGENT, {"connectionId": "ws_1"})
    protocol.subscriptions.add("conversation:conv_1")
    return protocol


def error_of(actions) -> dict:  # type: ignore[no-untyped-def]
    sent = [action.frame for action in actions if isinstance(action, Send)]
    assert len(sent) == 1, actions
    assert sent[0]["type"] == "error"
    return sent[0]["data"]


# (frame as the client wrote it, field, the value's spelling in the message)
OPEN_CASES = [
    ("null", "frame", "null"),
    ("true", "frame", "true"),
    ("[1,2]", "frame", "[1,2]"),
    ('"ping"', "frame", '"ping"'),
    ("{}", "type", "no type"),
    ('{"type": null}', "type", "null"),
    ('{"type": true}', "type", "true"),
    ('{"type": 5}', "type", "5"),
    ('{"type": "bogus"}', "type", '"bogus"'),
    ('{"type": "auth", "token": "sk"}', "type", '"auth"'),
    ('{"type": "ping", "id": true}', "id", "true"),
    ('{"type": "ping", "id": false}', "id", "false"),
    ('{"type": "ping", "id": {}}', "id", "{}"),
    ('{"type": "ping", "id": 12}', "id", "12"),
    ('{"type": "ping", "id": ""}', "id", '""'),
    ('{"type": "subscribe"}', "channel", "no channel"),
    ('{"type": "subscribe", "channel": null}', "channel", "no channel"),
    ('{"type": "subscribe", "channel": true}', "channel", "true"),
    ('{"type": "subscribe", "channel": ["a"]}', "channel", '["a"]'),
    ('{"type": "subscribe", "channel": "bad"}', "channel", '"bad"'),
    ('{"type": "unsubscribe", "channel": 7}', "channel", "7"),
    ('{"type": "subscribe", "channel": "conversation:c1", "since": true}', "since", "true"),
    ('{"type": "subscribe", "channel": "conversation:c1", "since": false}', "since", "false"),
    ('{"type": "subscribe", "channel": "conversation:c1", "since": -1}', "since", "-1"),
    ('{"type": "subscribe", "channel": "conversation:c1", "since": 1.5}', "since", "1.5"),
    ('{"type": "subscribe", "channel": "conversation:c1", "since": {}}', "since", "{}"),
    ('{"type": "subscribe", "channel": "conversation:c1", "since": "soon"}', "since", '"soon"'),
    ('{"type": "typing", "channel": "mailbox:m1"}', "channel", '"mailbox:m1"'),
    ('{"type": "typing", "channel": "conversation:c9"}', "channel", '"conversation:c9"'),
    ('{"type": "typing", "channel": "conversation:conv_1"}', "data.isTyping", "no data"),
    ('{"type": "typing", "channel": "conversation:conv_1", "data": {}}', "data.isTyping", "{}"),
    (
        '{"type": "typing", "channel": "conversation:conv_1", "data": {"isTyping": null}}',
        "data.isTyping",
        "null",
    ),
    (
        '{"type": "typing", "channel": "conversation:conv_1", "data": {"isTyping": "yes"}}',
        "data.isTyping",
        '"yes"',
    ),
    (
        '{"type": "typing", "channel": "conversation:conv_1", "data": {"isTyping": 1}}',
        "data.isTyping",
        "1",
    ),
    ('{"type": "ping",}', "frame", '{"type": "ping",}'),
]


@pytest.mark.parametrize(("text", "field", "spelling"), OPEN_CASES)
def test_open_session_error_text(text, field, spelling) -> None:
    data = error_of(opened().receive_text(text))

    message = data["message"]
    assert data["code"] == "VALIDATION_ERROR"
    assert data["details"]["field"] == field
    assert spelling in message
    assert PYTHON_SPELLING.search(message) is None, message
    assert FIX_WORDS.search(message) is not None, message


def test_binary_frame_error_text() -> None:
    data = error_of(opened().receive_bytes(b"\x00\x01"))

    assert data["details"] == {
        "field": "frame",
        "value": "<2 bytes>",
        "expected": "a JSON text frame",
    }
    assert "binary (2 bytes)" in data["message"]
    assert "send JSON text frames" in data["message"]


def test_long_value_cut_in_message() -> None:
    channel = "x" * 500
    data = error_of(opened().receive_text(json.dumps({"type": "subscribe", "channel": channel})))

    assert len(data["message"]) < 300
    assert data["details"]["value"].endswith("...")
    assert len(data["details"]["value"]) == 103


# (first frame as the client wrote it, field, the value's spelling in the message)
FIRST_FRAME_CASES = [
    ('{"type": "ping"}', "type", '"ping"'),
    ('{"type": "auth"}', "token", "no token"),
    ('{"type": "auth", "token": null}', "token", "no token"),
    ('{"type": "auth", "token": true}', "token", "true"),
    ('{"type": "auth", "token": 5}', "token", "5"),
    ('{"type": "auth", "token": {"key": 1}}', "token", '{"key":1}'),
    ('{"type": "auth", "token": "   "}', "token", "empty"),
    ('{"type": "auth", "token": "' + "k" * 4097 + '"}', "token", "4097 characters"),
    ("null", "frame", "null"),
    ('{"type": true}', "type", "true"),
    ('{"type": "auth", "token": "sk_secret"', "frame", "characters"),
]


@pytest.mark.parametrize(("text", "field", "spelling"), FIRST_FRAME_CASES)
def test_first_frame_error_text(text, field, spelling) -> None:
    actions = Protocol().receive_text(text)
    data = error_of(actions)

    message = data["message"]
    assert data["code"] == "AUTHENTICATION_ERROR"
    assert data["details"]["field"] == field
    assert spelling in message
    assert "sk_secret" not in json.dumps(data)
    assert "k" * 100 not in json.dumps(data)
    assert PYTHON_SPELLING.search(message) is None, message
    assert FIX_WORDS.search(message) is not None, message
    assert isinstance(actions[-1], Close)
    assert actions[-1].code == 4401


def test_nested_ping_names_depth_limit() -> None:
    deep = '{"type": "ping", "data": ' + "[" * 5000 + "]" * 5000 + "}"
    shallow = '{"type": "ping", "data": ' + "[" * 40 + "]" * 40 + "}"

    for text, shown in ((deep, f"more than {MAX_DEPTH} levels"), (shallow, "41 levels")):
        data = error_of(opened().receive_text(text))

        assert data["code"] == "VALIDATION_ERROR"
        assert data["details"]["field"] == "frame"
        assert shown in data["message"]
        assert f"the limit is {MAX_DEPTH}" in data["message"]
        assert "not valid JSON" not in data["message"]


def test_nesting_at_limit_accepted() -> None:
    # The frame object is the first level.
    levels = MAX_DEPTH - 1
    text = '{"type": "ping", "data": ' + "[" * levels + "]" * levels + "}"

    frames = [action.frame for action in opened().receive_text(text) if isinstance(action, Send)]

    # The frame is parsed, so the error is about the field that a ping lacks, not its depth.
    assert frames[0]["data"]["details"]["field"] == "data"
    assert "levels" not in frames[0]["data"]["message"]


async def test_nested_ping_over_socket(server, org) -> None:
    ws = await connect(server, org.key)
    await ws.send('{"type":"ping","id":"deep","data":' + "[" * 5000 + "]" * 5000 + "}")
    error = await next_frame(ws)
    await ws.send('{"type":"ping","id":"after"}')
    pong = await next_frame(ws)

    assert error["type"] == "error"
    assert error["data"]["details"]["field"] == "frame"
    assert f"the limit is {MAX_DEPTH}" in error["data"]["message"]
    assert pong["type"] == "pong"
    await ws.close()


async def test_first_frame_error_over_socket(server) -> None:
    ws = await websockets.connect(ws_url(server))
    await ws.send('{"type": "auth", "token": true}')
    error = json.loads(await asyncio.wait_for(ws.recv(), 5))
    with pytest.raises(websockets.ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)

    assert error["data"]["details"]["field"] == "token"
    assert error["data"]["message"].startswith("token true is invalid")
    assert ws.close_code == 4401
