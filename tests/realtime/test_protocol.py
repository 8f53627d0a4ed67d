"""The realtime state machine, driven without sockets."""

from __future__ import annotations

import json

import pytest

from campfire_server.auth.principal import Principal
from campfire_server.errors import AuthenticationFailed, NotFound, RateLimited
from campfire_server.realtime.events import Channel
from campfire_server.realtime.protocol import (
    Authenticate,
    Close,
    Protocol,
    Send,
    Since,
    State,
    Subscribe,
    Typing,
    Unsubscribe,
    close_reason,
    parse_since,
)

AGENT = Principal(org_id="org_1", role="agent", kind="token", subject="agent_alpha")


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def opened(**options) -> Protocol:  # type: ignore[no-untyped-def]
    protocol = Protocol(**options)
    assert protocol.receive_text(json.dumps({"type": "auth", "token": "sk"})) == [
        Authenticate("sk")
    ]
    protocol.authenticated(AGENT, {"connectionId": "ws_1"})
    return protocol


def frames(actions) -> list[dict]:  # type: ignore[no-untyped-def]
    return [action.frame for action in actions if isinstance(action, Send)]


def test_auth_frame_starts_authentication() -> None:
    protocol = Protocol()
    actions = protocol.receive_text('{"type": "auth", "token": " tok "}')
    assert actions == [Authenticate("tok")]
    assert protocol.state is State.AUTHENTICATING


def test_auth_token_in_data_accepted() -> None:
    protocol = Protocol()
    assert protocol.receive_text('{"type": "auth", "data": {"token": "t"}}') == [Authenticate("t")]


def test_authenticated_frame_carries_session() -> None:
    protocol = Protocol()
    protocol.receive_text('{"type": "auth", "token": "t"}')
    actions = protocol.authenticated(AGENT, {"connectionId": "ws_1"})
    assert frames(actions) == [
        {
            "type": "authenticated",
            "data": {"organizationId": "org_1", "role": "agent", "connectionId": "ws_1"},
        }
    ]
    assert protocol.state is State.OPEN


@pytest.mark.parametrize(
    "first",
    ['{"type": "ping"}', "garbage", '{"type": "auth"}', '{"type": "auth", "token": 5}', "[]"],
)
def test_bad_first_frame_closes_4401(first: str) -> None:
    protocol = Protocol()
    actions = protocol.receive_text(first)
    assert frames(actions)[0]["data"]["code"] == "AUTHENTICATION_ERROR"
    assert isinstance(actions[-1], Close)
    assert actions[-1].code == 4401
    assert protocol.state is State.CLOSED
    assert protocol.receive_text('{"type": "auth", "token": "t"}') == []


def test_binary_first_frame_closes_4401() -> None:
    actions = Protocol().receive_bytes(b"\x00")
    assert actions[-1] == Close(
        4401,
        'the first frame is binary (1 bytes); send the JSON text frame {"type": "auth", '
        '"token": "<API key or JWT>"}',
    )


def test_authentication_failure_closes_with_error_code() -> None:
    protocol = Protocol()
    protocol.receive_text('{"type": "auth", "token": "t"}')
    actions = protocol.authentication_failed(AuthenticationFailed("the token has expired"))
    assert frames(actions)[0]["data"] == {
        "code": "AUTHENTICATION_ERROR",
        "message": "the token has expired",
    }
    assert actions[-1] == Close(4401, "the token has expired")


def test_connection_limit_closes_4429() -> None:
    protocol = Protocol()
    protocol.receive_text('{"type": "auth", "token": "t"}')
    actions = protocol.authentication_failed(RateLimited("100 connections already"))
    assert actions[-1].code == 4429  # type: ignore[union-attr]


def test_auth_timeout_closes_4408() -> None:
    protocol = Protocol()
    actions = protocol.auth_timed_out(10)
    assert frames(actions)[0]["data"]["code"] == "TIMEOUT"
    assert actions[-1].code == 4408  # type: ignore[union-attr]
    assert opened().auth_timed_out(10) == []


def test_frames_before_authenticated_rejected() -> None:
    protocol = Protocol()
    protocol.receive_text('{"type": "auth", "token": "t"}')
    actions = protocol.receive_text('{"type": "ping"}')
    assert frames(actions)[0]["data"]["code"] == "VALIDATION_ERROR"
    assert protocol.state is State.AUTHENTICATING


def test_subscribe_emits_action_and_ack() -> None:
    protocol = opened()
    actions = protocol.receive_text(
        '{"type": "subscribe", "channel": "conversation:conv_1", "since": 4, "id": "s1"}'
    )
    channel = Channel("conversation", "conv_1")
    assert actions == [Subscribe(channel, Since(value=4), "s1")]
    ack = frames(protocol.subscribed(channel, {"sequence": 9}, "s1"))[0]
    assert ack == {
        "type": "subscribed",
        "channel": "conversation:conv_1",
        "data": {"sequence": 9},
        "id": "s1",
    }
    assert protocol.subscriptions == {"conversation:conv_1"}


def test_subscribe_failure_is_error_frame() -> None:
    protocol = opened()
    channel = Channel("conversation", "conv_x")
    protocol.receive_text('{"type": "subscribe", "channel": "conversation:conv_x"}')
    error = frames(protocol.subscribe_failed(channel, NotFound("channel not found")))[0]
    assert error["type"] == "error"
    assert error["channel"] == "conversation:conv_x"
    assert error["data"]["code"] == "NOT_FOUND"
    assert protocol.subscriptions == set()
    assert protocol.state is State.OPEN


@pytest.mark.parametrize(
    "channel",
    ["room:1", "conversation:", "conversation:a b", "conversation:" + "x" * 65, 7, None],
)
def test_invalid_channel_rejected(channel: object) -> None:
    actions = opened().receive_text(json.dumps({"type": "subscribe", "channel": channel}))
    error = frames(actions)[0]
    assert error["data"]["code"] == "VALIDATION_ERROR"
    assert error["data"]["details"]["field"] == "channel"


def test_unsubscribe_acknowledged() -> None:
    protocol = opened()
    protocol.receive_text('{"type": "subscribe", "channel": "mailbox:mb_1"}')
    protocol.subscribed(Channel("mailbox", "mb_1"), {"cursor": 3})
    actions = protocol.receive_text('{"type": "unsubscribe", "channel": "mailbox:mb_1"}')
    assert actions[0] == Unsubscribe(Channel("mailbox", "mb_1"))
    assert frames(actions) == [{"type": "unsubscribed", "channel": "mailbox:mb_1"}]
    assert protocol.subscriptions == set()


def test_subscription_limit() -> None:
    protocol = opened(max_subscriptions=2)
    for index in range(2):
        protocol.receive_text(json.dumps({"type": "subscribe", "channel": f"agent:a{index}"}))
    actions = protocol.receive_text('{"type": "subscribe", "channel": "agent:a9"}')
    assert frames(actions)[0]["data"]["code"] == "RATE_LIMIT_EXCEEDED"


def test_typing_requires_subscription_and_flag() -> None:
    protocol = opened()
    frame = {"type": "typing", "channel": "conversation:c1", "data": {"isTyping": True}}
    not_subscribed = frames(protocol.receive_text(json.dumps(frame)))[0]
    assert not_subscribed["data"]["code"] == "VALIDATION_ERROR"

    protocol.subscribed(Channel("conversation", "c1"), {"sequence": 1})
    assert protocol.receive_text(json.dumps(frame)) == [Typing(Channel("conversation", "c1"), True)]
    missing_flag = {"type": "typing", "channel": "conversation:c1", "data": {"isTyping": "yes"}}
    error = frames(protocol.receive_text(json.dumps(missing_flag)))[0]
    assert error["data"]["details"]["field"] == "data.isTyping"


def test_typing_only_on_conversations() -> None:
    protocol = opened()
    protocol.subscribed(Channel("mailbox", "m1"), {"cursor": 1})
    frame = {"type": "typing", "channel": "mailbox:m1", "data": {"isTyping": True}}
    assert frames(protocol.receive_text(json.dumps(frame)))[0]["data"]["code"] == (
        "VALIDATION_ERROR"
    )


def test_ping_answered_with_pong() -> None:
    pong = frames(opened().receive_text('{"type": "ping", "id": "p"}'))[0]
    assert pong["type"] == "pong"
    assert pong["id"] == "p"
    assert pong["timestamp"].endswith("Z")


def test_oversized_frame_answered_with_error() -> None:
    protocol = opened(max_frame_bytes=1024)
    error = frames(protocol.receive_text(json.dumps({"type": "ping", "x": "y" * 2000})))[0]
    assert error["data"]["code"] == "PAYLOAD_TOO_LARGE"
    assert protocol.state is State.OPEN


def test_binary_frame_after_auth_is_error() -> None:
    error = frames(opened().receive_bytes(b"\x01\x02"))[0]
    assert error["data"]["code"] == "VALIDATION_ERROR"


def test_frame_rate_limited() -> None:
    monotonic = FakeMonotonic()
    protocol = opened(frames_per_second=2, frame_burst=3, monotonic=monotonic)
    answers = [frames(protocol.receive_text('{"type": "ping"}'))[0]["type"] for _ in range(4)]
    assert answers == ["pong", "pong", "pong", "error"]
    monotonic.now += 1.0
    assert frames(protocol.receive_text('{"type": "ping"}'))[0]["type"] == "pong"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (0, Since(value=0)),
        (42, Since(value=42)),
        ("42", Since(value=42)),
        ("2024-01-15T10:30:00.000Z", Since(after_ms=1705314600000)),
    ],
)
def test_parse_since(value: object, expected: Since | None) -> None:
    assert parse_since(value) == expected


@pytest.mark.parametrize("value", [-1, True, "yesterday", 1.5, {"a": 1}, ""])
def test_parse_since_rejects(value: object) -> None:
    from campfire_server.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as raised:
        parse_since(value)
    assert raised.value.details["field"] == "since"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "1e400", "9223372036854775808"])
def test_number_out_of_range_is_error_frame(number: str) -> None:
    protocol = opened()
    actions = protocol.receive_text(
        '{"type": "typing", "channel": "conversation:conv_1", "data": {"isTyping": ' + number + "}}"
    )
    error = frames(actions)[0]

    assert error["type"] == "error"
    assert error["data"]["code"] == "VALIDATION_ERROR"
    assert error["data"]["details"]["field"] == "data.isTyping"
    assert "out of range" in error["data"]["message"]


def test_close_reason_replaces_lone_surrogate() -> None:
    reason = close_reason("bad \ud800 text")

    assert reason == "bad ? text"
    assert reason.encode() == b"bad ? text"


def test_close_reason_cuts_long_text() -> None:
    reason = close_reason("\u00e9" * 100)

    assert len(reason.encode()) <= 123
    assert reason.endswith("...")


def test_non_object_surrogate_frame_keeps_socket_open() -> None:
    protocol = Protocol()
    protocol.receive_text(json.dumps({"type": "auth", "token": "tok"}))
    protocol.authenticated(AGENT, {})

    actions = protocol.receive_text('["\\ud800"]')

    assert len(actions) == 1
    assert isinstance(actions[0], Send)
    assert actions[0].frame["data"]["details"] == {
        "field": "frame[0]",
        "value": None,
        "expected": "valid Unicode text without unpaired surrogates",
    }
    assert protocol.state is State.OPEN


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"type": "subscribe", "channel": "conversation:conv_1", "sinse": 3}, "sinse"),
        ({"type": "unsubscribe", "channel": "conversation:conv_1", "since": 3}, "since"),
        ({"type": "ping", "channel": "conversation:conv_1"}, "channel"),
        (
            {
                "type": "typing",
                "channel": "conversation:conv_1",
                "data": {"isTyping": True, "x": 1},
            },
            "data.x",
        ),
    ],
)
def test_unknown_frame_field_is_error_frame(frame: dict, field: str) -> None:
    protocol = opened()

    actions = protocol.receive_text(json.dumps({**frame, "id": "f1"}))

    [error] = frames(actions)
    assert error["type"] == "error"
    assert error["id"] == "f1"
    assert error["data"]["code"] == "VALIDATION_ERROR"
    assert error["data"]["details"]["field"] == field
    assert f"{field} is not a field of a {frame['type']} frame" in error["data"]["message"]
    assert not any(isinstance(action, Subscribe | Unsubscribe | Typing) for action in actions)
    assert protocol.state is State.OPEN


def test_unknown_auth_field_closes_without_token() -> None:
    protocol = Protocol()

    actions = protocol.receive_text('{"type": "auth", "token": "sk_secret", "tokn": "sk_other"}')

    [error] = frames(actions)
    assert error["data"]["details"]["field"] == "tokn"
    assert "sk_other" not in json.dumps(error)
    assert "sk_secret" not in json.dumps(error)
    assert any(isinstance(action, Close) for action in actions)


def test_known_frame_fields_accepted() -> None:
    protocol = opened()

    actions = protocol.receive_text(
        '{"type": "subscribe", "channel": "conversation:conv_1", "since": 0, "id": "s1"}'
    )

    assert any(isinstance(action, Subscribe) for action in actions)
