"""The frames of the realtime API: channels, client frames, and event frames built from the log.

Every frame is a JSON object with a ``type``. Server frames that report a
logged event also carry ``channel``, ``sequence`` (per conversation),
``cursor`` (the event's position in the whole log), ``eventId`` and a
millisecond ``timestamp``. docs/realtime.md lists every frame.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from ..clock import to_iso
from ..errors import ServiceError, ValidationFailed
from ..events import records
from ..events.records import EventRecord
from ..json_values import as_sent, detail_value
from ..routing.frames import handoff_frame

log = logging.getLogger(__name__)

ChannelKind = Literal["conversation", "mailbox", "agent"]

CHANNEL_PATTERN = re.compile(r"^(conversation|mailbox|agent):([A-Za-z0-9_\-]{1,64})$")
CHANNEL_EXPECTED = "conversation:{id}, mailbox:{id} or agent:{id}"

# Client frame types and the server frame types.
CLIENT_FRAME_TYPES = ("auth", "subscribe", "unsubscribe", "typing", "ping", "pong")
EVENT_FRAME_TYPES = ("message", "typing", "handoff", "conversation", "rating", "presence")


_non_finite_frames = 0


def _finite(value: Any) -> Any:
    """Return ``value`` with NaN and the infinities replaced by None, as ``JSON.stringify`` does."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def dumps(frame: dict[str, Any]) -> str:
    """Serialize a frame, or a broker envelope, as strict JSON.

    JSON has no NaN or Infinity, and a browser's ``JSON.parse`` rejects the
    whole frame that contains one, so such a number is sent as ``null``.
    """
    global _non_finite_frames
    try:
        text = json.dumps(
            frame, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False
        )
    except ValueError:
        _non_finite_frames += 1
        count = _non_finite_frames
        if count in (1, 10, 100) or count % 1000 == 0:
            log.warning(
                "non-finite number in a realtime frame sent as null",
                extra={"frame_type": frame.get("type") or frame.get("kind"), "count": count},
            )
        text = json.dumps(
            _finite(frame), ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False
        )
    return _encodable(text, frame)


def _encodable(text: str, frame: dict[str, Any]) -> str:
    """Return ``text``, or the frame with escaped non-ASCII when ``text`` has a lone surrogate.

    A socket cannot encode a lone surrogate as UTF-8, and the failed send
    would stop its writer. JSON can still carry it as a ``\\ud800`` escape.
    """
    if text.isascii():
        return text
    try:
        text.encode()
    except UnicodeEncodeError:
        log.warning(
            "lone surrogate in a realtime frame sent as a JSON escape",
            extra={"frame_type": frame.get("type") or frame.get("kind")},
        )
        return json.dumps(_finite(frame), separators=(",", ":"), default=str, allow_nan=False)
    return text


@dataclass(frozen=True, slots=True)
class Channel:
    kind: ChannelKind
    id: str

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, value: Any) -> Channel:
        """Parse ``kind:id``; raise ``ValidationFailed`` naming the expected forms."""
        if value is None:
            raise ValidationFailed(
                f"the frame has no channel; add a channel such as {CHANNEL_EXPECTED}",
                field="channel",
                value=None,
                expected=CHANNEL_EXPECTED,
            )
        match = CHANNEL_PATTERN.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValidationFailed(
                f"channel {as_sent(value)} is invalid; send {CHANNEL_EXPECTED}, with an id "
                "of 1 to 64 letters, digits, _ or -",
                field="channel",
                value=detail_value(value),
                expected=CHANNEL_EXPECTED,
            )
        return cls(match.group(1), match.group(2))  # type: ignore[arg-type]


# Server frames that are not events ----------------------------------------------


def error_frame(
    error: ServiceError, *, channel: str | None = None, frame_id: str | None = None
) -> dict[str, Any]:
    data: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.details:
        data["details"] = error.details
    frame: dict[str, Any] = {"type": "error", "data": data}
    if channel is not None:
        frame["channel"] = channel
    if frame_id is not None:
        frame["id"] = frame_id
    return frame


def typing_frame(
    channel: str, *, author_id: str, author_type: str, is_typing: bool, now_ms: int
) -> dict[str, Any]:
    data: dict[str, Any] = {"authorId": author_id, "authorType": author_type, "isTyping": is_typing}
    if channel.startswith("conversation:"):
        data["conversationId"] = channel.partition(":")[2]
    return {"type": "typing", "channel": channel, "data": data, "timestamp": to_iso(now_ms)}


def presence_frame(
    channel: str, *, agent_id: str, status: str, connections: int, now_ms: int
) -> dict[str, Any]:
    return {
        "type": "presence",
        "channel": channel,
        "data": {"agentId": agent_id, "status": status, "connections": connections},
        "timestamp": to_iso(now_ms),
    }


# Event frames from the log ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventFrame:
    """One logged event in its realtime form, before a channel is attached."""

    record: EventRecord
    type: str
    data: dict[str, Any]
    private: bool
    agent_ids: frozenset[str]

    def to_frame(self, channel: str, *, customer: bool = False) -> dict[str, Any]:
        data = self.data
        if customer and self.type == "conversation":
            # The snapshot's counts and lastMessageAt include private notes.
            data = {key: value for key, value in data.items() if key not in NOTE_REVEALING_FIELDS}
        frame: dict[str, Any] = {"type": self.type, "channel": channel, "data": data}
        if self.record.sequence is not None:
            frame["sequence"] = self.record.sequence
        frame["cursor"] = self.record.position
        frame["eventId"] = self.record.id
        frame["timestamp"] = to_iso(self.record.created_at)
        return frame

    def render(self, channel: str, *, customer: bool = False) -> str:
        """Serialize the frame for ``channel``, for a customer without note-revealing fields."""
        return dumps(self.to_frame(channel, customer=customer))


# Conversation snapshot fields that a private note changes; customers do not receive them.
NOTE_REVEALING_FIELDS = frozenset({"messageCount", "lastMessageAt"})


def _message_data(record: EventRecord) -> tuple[dict[str, Any], bool]:
    message = dict(record.data.get("message") or {})
    message.setdefault("conversationId", record.conversation_id)
    message["timestamp"] = message.get("createdAt") or to_iso(record.created_at)
    return message, bool(message.get("private"))


def _handoff_data(record: EventRecord) -> dict[str, Any] | None:
    """Return the handoff frame data that the routing layer defines, or None to skip the event."""
    try:
        built = handoff_frame(record)
    except (KeyError, TypeError):
        # A handoff event without the routing layer's fields: pass its data on as it is.
        data = dict(record.data)
        data.setdefault("status", record.type.partition(".")[2])
        data.setdefault("conversationId", record.conversation_id)
        return data
    if built is None:
        return None
    return {**built["data"], "conversationId": record.conversation_id}


def _conversation_data(record: EventRecord) -> dict[str, Any]:
    snapshot = record.data.get("conversation")
    data = dict(snapshot) if isinstance(snapshot, dict) else {}
    data.setdefault("id", record.conversation_id)
    data["action"] = record.type.partition(".")[2]
    if "changes" in record.data:
        data["changes"] = record.data["changes"]
    return data


def _agents_named(data: dict[str, Any]) -> frozenset[str]:
    names = {data.get("agentId"), data.get("assignedAgentId"), data.get("previousAgentId")}
    changes = data.get("changes")
    if isinstance(changes, dict):
        names.add(changes.get("assignedAgentId"))
    return frozenset(name for name in names if isinstance(name, str) and name)


def frame_for(record: EventRecord) -> EventFrame | None:
    """Map a logged event onto its frame, or ``None`` for types the realtime API does not carry."""
    if record.type == records.MESSAGE_SENT:
        data, private = _message_data(record)
        return EventFrame(record, "message", data, private, frozenset())
    if record.type.startswith("handoff."):
        handoff = _handoff_data(record)
        if handoff is None:
            return None
        return EventFrame(record, "handoff", handoff, False, _agents_named(handoff))
    if record.type.startswith("conversation."):
        data = _conversation_data(record)
        return EventFrame(record, "conversation", data, False, _agents_named(data))
    if record.type == records.SATISFACTION_RATED:
        # Sent so that an open inbox shows a new rating without asking for one
        # that may not exist yet.
        rating = record.data.get("rating")
        data = dict(rating) if isinstance(rating, dict) else {}
        data.setdefault("conversationId", record.conversation_id)
        return EventFrame(record, "rating", data, False, frozenset())
    return None


# Event types read back from the log for replays; the others map to no frame.
REPLAYED_TYPE_PATTERNS = ("message.sent", "handoff.%", "conversation.%", "satisfaction.rated")
