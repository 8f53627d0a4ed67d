"""The realtime protocol as a state machine: client frames in, actions out.

``Protocol`` does no I/O. The gateway feeds it each frame the client sent
and the outcome of each action it asked for (authentication, a subscribe),
and performs the actions it returns: send a frame, close the socket,
authenticate a token, subscribe, unsubscribe or relay typing. Tests drive
it without sockets.

A session moves AWAITING_AUTH -> AUTHENTICATING -> OPEN -> CLOSED. The
first frame must be ``auth``; anything else closes the socket with 4401.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import clock, json_numbers
from ..auth.permissions import allowed
from ..auth.principal import Principal
from ..errors import (
    AuthenticationFailed,
    PayloadTooLarge,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    ServiceError,
    ValidationFailed,
)
from ..json_values import as_sent, detail_value
from ..validation import find_bad_text
from .events import CLIENT_FRAME_TYPES, Channel, error_frame

# Close codes used by the realtime API; docs/realtime.md lists them with their reasons.
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_BIG = PayloadTooLarge.ws_close_code
CLOSE_INTERNAL = ServiceError.ws_close_code
CLOSE_TRY_AGAIN = 1013
CLOSE_AUTH_FAILED = AuthenticationFailed.ws_close_code
CLOSE_FORBIDDEN = PermissionDenied.ws_close_code
CLOSE_TIMEOUT = RequestTimeout.ws_close_code
CLOSE_TOO_MANY = RateLimited.ws_close_code

MAX_FRAME_ID_CHARS = 64
# The maximum number of characters of an unparsable frame that a message repeats.
MAX_SHOWN_TEXT = 100
MAX_TOKEN_CHARS = 4096
AUTH_FRAME_EXAMPLE = '{"type": "auth", "token": "<API key or JWT>"}'
FRAME_TYPES_EXPECTED = ", ".join(f'"{kind}"' for kind in CLIENT_FRAME_TYPES)
# The fields each client frame type may have besides type and id, and the
# fields of its data object. Like a REST request, a frame with any other
# field is rejected, so a misspelt field is never ignored.
FRAME_FIELDS: dict[str, tuple[str, ...]] = {
    "auth": ("token", "data"),
    "ping": (),
    "pong": (),
    "subscribe": ("channel", "since"),
    "unsubscribe": ("channel",),
    "typing": ("channel", "data"),
}
FRAME_DATA_FIELDS: dict[str, tuple[str, ...]] = {"auth": ("token",), "typing": ("isTyping",)}


class State(enum.Enum):
    AWAITING_AUTH = "awaiting_auth"
    AUTHENTICATING = "authenticating"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Since:
    """The start of a replay: after a sequence or cursor, or after a moment (epoch ms)."""

    value: int | None = None
    after_ms: int | None = None


# Actions -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Send:
    frame: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Close:
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Authenticate:
    token: str


@dataclass(frozen=True, slots=True)
class Subscribe:
    channel: Channel
    since: Since | None
    frame_id: str | None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    channel: Channel


@dataclass(frozen=True, slots=True)
class Typing:
    channel: Channel
    is_typing: bool


Action = Send | Close | Authenticate | Subscribe | Unsubscribe | Typing


def close_reason(text: str) -> str:
    """Cut a close reason to the 123 bytes a close frame can carry.

    A lone surrogate, which UTF-8 cannot encode, becomes "?" instead of
    raising while the socket is being closed.
    """
    encoded = text.encode(errors="replace")
    if len(encoded) <= 123:
        return encoded.decode()
    return encoded[:120].decode(errors="ignore") + "..."


def _reject_unknown_fields(kind: str, frame: dict[str, Any]) -> None:
    """Raise ``ValidationFailed`` for the first field that a ``kind`` frame does not have.

    The message names the field but not its value, which may be a token.
    """
    allowed = ("type", "id", *FRAME_FIELDS[kind])
    fields = [(name, name) for name in frame if name not in allowed]
    data = frame.get("data")
    if kind in FRAME_DATA_FIELDS and isinstance(data, dict):
        allowed_data = FRAME_DATA_FIELDS[kind]
        fields += [(f"data.{name}", name) for name in data if name not in allowed_data]
        allowed = (*allowed, *(f"data.{name}" for name in allowed_data))
    if not fields:
        return
    path, _ = fields[0]
    listed = ", ".join(name for name in allowed if name != "data")
    raise ValidationFailed(
        f"{path} is not a field of a {kind} frame; remove it or check its spelling. "
        f"A {kind} frame has {listed}",
        field=path,
        value=None,
        expected="no such field; remove it",
    )


def _fail(error: ServiceError, frame_id: str | None = None) -> list[Action]:
    return [
        Send(error_frame(error, frame_id=frame_id)),
        Close(error.ws_close_code, close_reason(error.message)),
    ]


def parse_since(value: Any, field: str = "since") -> Since | None:
    """Accept a sequence or cursor (an integer, or digits in a string) or an ISO 8601 time.

    ``field`` names the parameter in the error, for the events list's ``cursor``.
    """
    if value is None:
        return None
    # Sequences and cursors are stored as 64-bit integers, so larger values
    # could only fail in the database.
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63:
        return Since(value=value)
    if isinstance(value, str) and value.isdigit() and len(value) <= 19 and int(value) < 2**63:
        return Since(value=int(value))
    if isinstance(value, str) and 0 < len(value) <= 40:
        try:
            return Since(after_ms=clock.from_iso(value))
        except ValueError:
            pass
    raise invalid_since(as_sent(value), detail_value(value), field)


def invalid_since(shown: str, value: Any, field: str = "since") -> ValidationFailed:
    """Return the error for a ``since`` that is neither a sequence, a cursor nor a time.

    ``shown`` is the value as the message repeats it, ``value`` as the details carry it.
    """
    return ValidationFailed(
        f"{field} {shown} is invalid; send a sequence or cursor (an integer from 0 to "
        f'{2**63 - 1}), or an ISO 8601 timestamp such as "2024-01-15T10:30:00Z", or no {field}',
        field=field,
        value=value,
        expected="a non-negative integer or an ISO 8601 timestamp",
    )


def _frame_id(frame: dict[str, Any]) -> str | None:
    """Return the frame's ``id``; raise ``ValidationFailed`` unless it is a short string."""
    frame_id = frame.get("id")
    if frame_id is None or (isinstance(frame_id, str) and 0 < len(frame_id) <= MAX_FRAME_ID_CHARS):
        return frame_id
    raise ValidationFailed(
        f"id {as_sent(frame_id)} is invalid; send a string of 1 to {MAX_FRAME_ID_CHARS} "
        "characters, or no id",
        field="id",
        value=detail_value(frame_id),
        expected=f"a string of 1 to {MAX_FRAME_ID_CHARS} characters, or no id",
    )


def _token_problem(token: Any) -> str | None:
    """Describe what is wrong with an auth frame's token, or return None when it may be tried.

    The message never repeats a string token, because it may be a valid secret.
    """
    if token is None:
        return f"the auth frame has no token; send {AUTH_FRAME_EXAMPLE}"
    if not isinstance(token, str):
        return (
            f"token {as_sent(token)} is invalid; send the API key or JWT as a string, "
            f"as in {AUTH_FRAME_EXAMPLE}"
        )
    if not token.strip():
        return f"the token is empty; send an API key or a JWT, as in {AUTH_FRAME_EXAMPLE}"
    if len(token) > MAX_TOKEN_CHARS:
        return (
            f"the token has {len(token)} characters; the limit is {MAX_TOKEN_CHARS}, so send "
            "an API key or a JWT, not another value"
        )
    return None


class Protocol:
    """One socket's session: authentication, subscriptions and the frame rules."""

    def __init__(
        self,
        *,
        max_frame_bytes: int = 64 * 1024,
        max_subscriptions: int = 100,
        frames_per_second: float = 20.0,
        frame_burst: int = 60,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.state = State.AWAITING_AUTH
        self.principal: Principal | None = None
        self.subscriptions: set[str] = set()
        self.pending: set[str] = set()
        self._max_frame_bytes = max_frame_bytes
        self._max_subscriptions = max_subscriptions
        self._rate = frames_per_second
        self._burst = float(frame_burst)
        self._tokens = float(frame_burst)
        self._monotonic = monotonic
        self._refilled_at = monotonic()

    # Frames from the client ------------------------------------------------------

    def receive_bytes(self, data: bytes) -> list[Action]:
        error = ValidationFailed(
            f"the frame is binary ({len(data)} bytes), which is not supported; send JSON text "
            "frames",
            field="frame",
            value=f"<{len(data)} bytes>",
            expected="a JSON text frame",
        )
        if self.state is State.AWAITING_AUTH:
            self.state = State.CLOSED
            return _fail(
                AuthenticationFailed(
                    f"the first frame is binary ({len(data)} bytes); send the JSON text frame "
                    f"{AUTH_FRAME_EXAMPLE}",
                    details={"field": "frame", "value": f"<{len(data)} bytes>"},
                )
            )
        if self.state is State.CLOSED:
            return []
        return [Send(error_frame(error))]

    def receive_text(self, text: str) -> list[Action]:
        if self.state is State.CLOSED:
            return []
        try:
            frame = self._decode(text)
            frame_id = _frame_id(frame)
        except ServiceError as error:
            if self.state is State.AWAITING_AUTH:
                return self._fail_first_frame(error)
            return [Send(error_frame(error))]

        kind = frame["type"]
        try:
            _reject_unknown_fields(kind, frame)
        except ValidationFailed as error:
            if self.state is State.AWAITING_AUTH:
                return self._fail_first_frame(error, frame_id)
            return [Send(error_frame(error, frame_id=frame_id))]

        if self.state is State.AWAITING_AUTH:
            return self._receive_auth(frame, frame_id)
        if kind == "auth":
            return [
                Send(
                    error_frame(
                        ValidationFailed(
                            'type "auth" is invalid here, because the socket is already '
                            "authenticated; open a new socket to change credentials",
                            field="type",
                            value="auth",
                        ),
                        frame_id=frame_id,
                    )
                )
            ]
        if self.state is State.AUTHENTICATING:
            return [
                Send(
                    error_frame(
                        ValidationFailed(
                            f"type {as_sent(kind)} came before the authenticated frame; wait "
                            "for that frame before sending more",
                            field="type",
                            value=kind,
                        ),
                        frame_id=frame_id,
                    )
                )
            ]
        if not self._take_token():
            error = RateLimited(
                f"more than {self._rate:g} frames per second; the {as_sent(kind)} frame was "
                "dropped, so send it again after a pause",
                details={"field": "type", "value": kind, "limit": self._rate},
            )
            return [Send(error_frame(error, frame_id=frame_id))]
        try:
            return self._receive_open(kind, frame, frame_id)
        except ServiceError as error:
            channel = frame.get("channel") if isinstance(frame.get("channel"), str) else None
            return [Send(error_frame(error, channel=channel, frame_id=frame_id))]

    def _fail_first_frame(self, error: ServiceError, frame_id: str | None = None) -> list[Action]:
        """Close the socket because its first frame is invalid, with the reason."""
        self.state = State.CLOSED
        return _fail(
            AuthenticationFailed(
                f"the first frame must be {AUTH_FRAME_EXAMPLE}: {error.message}",
                details=error.details,
            ),
            frame_id,
        )

    def _decode(self, text: str) -> dict[str, Any]:
        size = len(text.encode())
        if size > self._max_frame_bytes:
            raise PayloadTooLarge(
                f"the frame of {size} bytes exceeds the limit of {self._max_frame_bytes} bytes; "
                "send smaller frames",
                details={
                    "field": "frame",
                    "value": f"<{size} bytes>",
                    "limit": self._max_frame_bytes,
                },
            )
        try:
            frame = json_numbers.loads(text, root="frame")
        except ValidationFailed as error:
            # A number beyond the 64-bit range gets the message of any other invalid since.
            if error.details.get("field") == "since":
                shown = str(error.details.get("value"))
                raise invalid_since(shown, shown) from None
            raise
        except ValueError as error:
            position = getattr(error, "pos", None)
            where = f" (error at character {position})" if position is not None else ""
            # The first frame may carry a token, which no message repeats.
            if self.state is State.AWAITING_AUTH:
                shown = f"<{len(text)} characters>"
            else:
                shown = text[:MAX_SHOWN_TEXT] + ("..." if len(text) > MAX_SHOWN_TEXT else "")
            raise ValidationFailed(
                f"the frame {shown} is not valid JSON{where}; send one JSON object such as "
                '{"type": "ping"}',
                field="frame",
                value=shown,
                expected='a JSON object such as {"type": "ping"}',
            ) from None
        # Checked before any message repeats the frame: a lone surrogate cannot
        # be encoded as UTF-8, so an error frame that repeated it could not be sent.
        bad = find_bad_text(frame, "" if isinstance(frame, dict) else "frame")
        if bad is not None:
            path, expected = bad
            raise ValidationFailed(
                f"{path or 'frame'} contains a character that cannot be sent back",
                field=path or "frame",
                value=None,
                expected=expected,
            )
        if not isinstance(frame, dict):
            raise ValidationFailed(
                f"the frame {as_sent(frame)} is not a JSON object; send an object with a type, "
                'such as {"type": "ping"}',
                field="frame",
                value=detail_value(frame),
                expected="a JSON object with a type",
            )
        kind = frame.get("type")
        if "type" not in frame:
            raise ValidationFailed(
                f"the frame has no type; add a type, one of {FRAME_TYPES_EXPECTED}",
                field="type",
                value=None,
                expected=" | ".join(CLIENT_FRAME_TYPES),
            )
        if kind not in CLIENT_FRAME_TYPES:
            raise ValidationFailed(
                f"type {as_sent(kind)} is unknown; send one of {FRAME_TYPES_EXPECTED}",
                field="type",
                value=detail_value(kind),
                expected=" | ".join(CLIENT_FRAME_TYPES),
            )
        return frame

    def _receive_auth(self, frame: dict[str, Any], frame_id: str | None) -> list[Action]:
        if frame["type"] != "auth":
            self.state = State.CLOSED
            return _fail(
                AuthenticationFailed(
                    f"the first frame is a {as_sent(frame['type'])} frame; send "
                    f"{AUTH_FRAME_EXAMPLE} first",
                    details={"field": "type", "value": frame["type"], "expected": "auth"},
                ),
                frame_id,
            )
        token = frame.get("token")
        if token is None and isinstance(frame.get("data"), dict):
            token = frame["data"].get("token")
        problem = _token_problem(token)
        if problem is not None:
            self.state = State.CLOSED
            return _fail(AuthenticationFailed(problem, details={"field": "token"}), frame_id)
        self.state = State.AUTHENTICATING
        return [Authenticate(token.strip())]

    def _receive_open(self, kind: str, frame: dict[str, Any], frame_id: str | None) -> list[Action]:
        if kind == "ping":
            pong: dict[str, Any] = {"type": "pong", "timestamp": clock.to_iso(clock.now_ms())}
            if frame_id is not None:
                pong["id"] = frame_id
            return [Send(pong)]
        if kind == "pong":
            return []

        channel = Channel.parse(frame.get("channel"))
        if kind == "subscribe":
            since = parse_since(frame.get("since"))
            name = channel.name
            if name not in self.subscriptions and name not in self.pending:
                if len(self.subscriptions) + len(self.pending) >= self._max_subscriptions:
                    raise RateLimited(
                        f'channel "{name}" would exceed the limit of '
                        f"{self._max_subscriptions} subscriptions of a socket; unsubscribe "
                        "from one first",
                        details={
                            "field": "channel",
                            "value": name,
                            "limit": self._max_subscriptions,
                        },
                    )
            self.pending.add(name)
            return [Subscribe(channel, since, frame_id)]
        if kind == "unsubscribe":
            self.subscriptions.discard(channel.name)
            self.pending.discard(channel.name)
            ack: dict[str, Any] = {"type": "unsubscribed", "channel": channel.name}
            if frame_id is not None:
                ack["id"] = frame_id
            return [Unsubscribe(channel), Send(ack)]

        # kind == "typing", the only client frame that others receive.
        if self.principal is None or not allowed(self.principal, "realtime:typing"):
            role = self.principal.role if self.principal is not None else None
            raise PermissionDenied(
                f"the {role} role only reads, so it may not send typing frames; send typing "
                "with an agent, admin or customer credential",
                details={"field": "type", "value": "typing", "role": role},
            )
        if channel.kind != "conversation":
            raise ValidationFailed(
                f'channel "{channel.name}" is invalid for typing; send typing on a '
                "conversation:{id} channel",
                field="channel",
                value=channel.name,
                expected="conversation:{id}",
            )
        if channel.name not in self.subscriptions:
            raise ValidationFailed(
                f'channel "{channel.name}" is not subscribed; subscribe to it before sending '
                "typing on it",
                field="channel",
                value=channel.name,
                expected="a channel this socket is subscribed to",
            )
        data = frame.get("data")
        if not isinstance(data, dict) or "isTyping" not in data:
            shown = "has no data" if data is None else f"has data {as_sent(data)}"
            raise ValidationFailed(
                f'the typing frame {shown} without isTyping; send "data": {{"isTyping": true}} '
                "or false",
                field="data.isTyping",
                value=None,
                expected="true or false",
            )
        is_typing = data["isTyping"]
        if not isinstance(is_typing, bool):
            raise ValidationFailed(
                f"data.isTyping {as_sent(is_typing)} is invalid; send true or false",
                field="data.isTyping",
                value=detail_value(is_typing),
                expected="true or false",
            )
        return [Typing(channel, is_typing)]

    def _take_token(self) -> bool:
        now = self._monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled_at) * self._rate)
        self._refilled_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    # Outcomes of the actions -------------------------------------------------------

    def authenticated(self, principal: Principal, session: dict[str, Any]) -> list[Action]:
        """Open the session; ``session`` goes into the ``authenticated`` frame's data."""
        if self.state is not State.AUTHENTICATING:
            return []
        self.state = State.OPEN
        self.principal = principal
        data = {"organizationId": principal.org_id, "role": principal.role, **session}
        return [Send({"type": "authenticated", "data": data})]

    def authentication_failed(self, error: ServiceError) -> list[Action]:
        """Close for a rejected credential (4401), a forbidden one (4403) or a full org (4429)."""
        self.state = State.CLOSED
        return _fail(error)

    def auth_timed_out(self, seconds: float) -> list[Action]:
        if self.state not in (State.AWAITING_AUTH, State.AUTHENTICATING):
            return []
        self.state = State.CLOSED
        return _fail(RequestTimeout(f"no auth frame within {seconds:g} s; send auth first"))

    def idle_timed_out(self, seconds: float) -> list[Action]:
        if self.state is State.CLOSED:
            return []
        self.state = State.CLOSED
        return _fail(
            RequestTimeout(f"no frame received for {seconds:g} s; answer each ping with a pong")
        )

    def subscribed(
        self, channel: Channel, data: dict[str, Any], frame_id: str | None = None
    ) -> list[Action]:
        self.pending.discard(channel.name)
        self.subscriptions.add(channel.name)
        ack: dict[str, Any] = {"type": "subscribed", "channel": channel.name, "data": data}
        if frame_id is not None:
            ack["id"] = frame_id
        return [Send(ack)]

    def subscribe_failed(
        self, channel: Channel, error: ServiceError, frame_id: str | None = None
    ) -> list[Action]:
        self.pending.discard(channel.name)
        return [Send(error_frame(error, channel=channel.name, frame_id=frame_id))]

    def closed(self) -> None:
        self.state = State.CLOSED
