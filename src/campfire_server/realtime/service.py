"""Queries behind the realtime API: who may read a channel, replays, and log pruning.

Replays read the ``events`` table, the log that every change writes in its
own transaction, so a replay holds exactly the committed events.

Cursors: on a ``conversation:{id}`` channel ``since`` is the conversation's
event ``sequence``; on ``mailbox:{id}`` and ``agent:{id}`` channels it is
the event's ``cursor``, its position in the whole log. ``since`` may also
be an ISO 8601 time: the replay then starts after that moment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from ..auth.permissions import require
from ..auth.principal import Principal
from ..auth.scope import sees_mailbox
from ..conversations import service as conversations
from ..db.tx import Tx
from ..errors import NotFound, PermissionDenied, ValidationFailed, shown_text
from ..events.cursor import consumed_condition
from ..events.records import EventRecord
from ..organizations import service as organizations
from ..routing import service as routing
from .events import Channel, EventFrame, frame_for
from .protocol import Since

EVENT_COLUMNS = (
    "position, id, org_id, conversation_id, mailbox_id, sequence, type, data, created_at"
)
REPLAYED_TYPES_SQL = (
    "(type = 'message.sent' OR type LIKE 'handoff.%' OR type LIKE 'conversation.%' "
    "OR type = 'satisfaction.rated')"
)

# An agent channel is filtered after the query, so its replay reads more rows per event.
AGENT_SCAN_FACTOR = 20


@dataclass(frozen=True, slots=True)
class ChannelAccess:
    """A channel the principal may read and the point its log has reached."""

    channel: Channel
    conversation_id: str | None
    # The conversation's last sequence, or the last cursor of the organization's log.
    current: int

    @property
    def by_sequence(self) -> bool:
        return self.channel.kind == "conversation"

    def settled_at(self, horizon: int | None) -> ChannelAccess:
        """Return this access with a mailbox or agent channel's cursor set to ``horizon``."""
        if horizon is None or self.by_sequence:
            return self
        return ChannelAccess(self.channel, self.conversation_id, horizon)


def _not_found(channel: Channel) -> NotFound:
    return NotFound(
        f'channel "{shown_text(channel.name)}" was not found; subscribe to a conversation, mailbox '
        "or agent of your organization that you may see",
        details={"field": "channel", "value": shown_text(channel.name)},
    )


def _last_position(tx: Tx, org_id: str) -> int:
    value = tx.value("SELECT MAX(position) AS p FROM events WHERE org_id = :org_id", org_id=org_id)
    return int(value or 0)


def authorize(tx: Tx, principal: Principal, channel: Channel) -> ChannelAccess:
    """Return the access to ``channel`` or raise.

    A channel of another organization, or a conversation outside a customer
    token's or a mailbox-limited key's scope, raises ``NotFound`` exactly
    like one that does not exist.
    """
    require(principal, "events:read")
    if channel.kind == "conversation":
        if principal.is_customer and not principal.customer_id:
            raise _not_found(channel)
        try:
            row = conversations.find_conversation_row(tx, principal, channel.id)
        except NotFound:
            raise _not_found(channel) from None
        return ChannelAccess(channel, channel.id, int(row["event_seq"]))

    if channel.kind == "mailbox":
        require(principal, "realtime:mailbox")
        try:
            organizations.find_mailbox_row(tx, principal, channel.id)
        except NotFound:
            raise _not_found(channel) from None
        return ChannelAccess(channel, None, _last_position(tx, principal.org_id))

    require(principal, "realtime:agent")
    if principal.role == "agent" and principal.agent_id and principal.agent_id != channel.id:
        raise PermissionDenied(
            f'channel "{channel.name}" is another agent\'s; an agent token may subscribe only '
            f'to its own agent channel, "agent:{principal.agent_id}"',
            details={"field": "channel", "value": channel.name},
        )
    try:
        routing.get_agent_row(tx, principal.org_id, channel.id)
    except NotFound:
        raise _not_found(channel) from None
    return ChannelAccess(channel, None, _last_position(tx, principal.org_id))


def _log_end(tx: Tx) -> int:
    """Return the highest position the whole event log has allocated (0 for an empty log).

    On PostgreSQL this is the position sequence's last value, which no
    settled horizon that a server sent as a cursor can exceed.
    """
    if tx.dialect == "sqlite":
        value = tx.value("SELECT MAX(position) AS p FROM events")
    else:
        value = tx.value(
            "SELECT pg_sequence_last_value("
            "CAST(pg_get_serial_sequence('events', 'position') AS regclass)) AS p"
        )
    return int(value or 0)


def check_since(tx: Tx, access: ChannelAccess, since: Since) -> None:
    """Raise ``ValidationFailed`` for a sequence or cursor beyond the end of the channel's log.

    Such a ``since`` would hide every event until the log reached it, so it
    is rejected on both transports instead of returning nothing.
    """
    if since.value is None:
        return
    end = access.current if access.by_sequence else max(access.current, _log_end(tx))
    if since.value <= end:
        return
    key = "sequence" if access.by_sequence else "cursor"
    raise ValidationFailed(
        f"since {since.value} is beyond the end of {access.channel.name}, whose last {key} is "
        f"{end}; send a since from 0 to {end}, or no since",
        field="since",
        value=since.value,
        expected=f"an integer from 0 to {end}, or an ISO 8601 timestamp",
    )


def _visible(frame: EventFrame | None, principal: Principal, channel: Channel) -> bool:
    if frame is None:
        return False
    if frame.private and principal.is_customer:
        return False
    if channel.kind == "agent" and channel.id not in frame.agent_ids:
        return False
    return sees_mailbox(principal, frame.record.mailbox_id)


class Replay(NamedTuple):
    """One replay page: the events to send and where the next page starts."""

    frames: list[EventFrame]
    has_more: bool
    next_since: int | None
    """The sequence or cursor to send as ``since`` for the next page, or
    ``None`` when the page examined no event. It is the last examined event's
    position, which may be an event this principal is not sent, so a page of
    only such events still moves the next one forward."""


def replay(
    tx: Tx,
    principal: Principal,
    access: ChannelAccess,
    since: Since,
    limit: int,
    upto: int | None = None,
) -> Replay:
    """Return up to ``limit`` events after ``since`` in delivery order, and whether more exist.

    Raises ``ValidationFailed`` when ``since`` is beyond the end of the channel's log.

    ``upto`` bounds a mailbox or agent channel's replay at the settled log
    position (PostgreSQL), past which the live stream takes over. A
    conversation's replay stops at ``access.current`` for the same reason.
    """
    check_since(tx, access, since)
    channel = access.channel
    params: dict[str, Any] = {"org_id": principal.org_id, "limit": limit + 1}
    if channel.kind == "conversation":
        where = "org_id = :org_id AND conversation_id = :channel_id"
        order = "sequence, position"
        if since.value is not None:
            where += " AND sequence > :since"
    elif channel.kind == "mailbox":
        where = "org_id = :org_id AND mailbox_id = :channel_id"
        order = "position"
        if since.value is not None:
            where += " AND position > :since"
    else:
        where = f"org_id = :org_id AND {REPLAYED_TYPES_SQL}"
        order = "position"
        params["limit"] = (limit + 1) * AGENT_SCAN_FACTOR
        if since.value is not None:
            where += " AND position > :since"
    if channel.kind != "agent":
        params["channel_id"] = channel.id
    if since.value is not None:
        params["since"] = since.value
    if since.after_ms is not None:
        where += " AND created_at > :after_ms"
        params["after_ms"] = since.after_ms
    if upto is not None and channel.kind != "conversation":
        where += " AND position <= :upto"
        params["upto"] = upto
    if channel.kind == "conversation":
        # On PostgreSQL this statement may see events committed after the
        # one that read the conversation's sequence; those come live instead.
        where += " AND sequence <= :current"
        params["current"] = access.current

    rows = tx.all(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE {where} ORDER BY {order} LIMIT :limit",
        **params,
    )
    frames: list[EventFrame] = []
    for row in rows:
        frame = frame_for(record_from_row(row))
        if _visible(frame, principal, channel):
            frames.append(frame)  # type: ignore[arg-type]
    has_more = len(frames) > limit or len(rows) >= params["limit"]
    if len(frames) > limit:
        next_since: int | None = _position(frames[limit - 1].record, access.by_sequence)
    elif rows:
        # Every visible event up to the last row read is in ``frames``.
        next_since = _position(record_from_row(rows[-1]), access.by_sequence)
    else:
        next_since = None
    return Replay(frames[:limit], has_more, next_since)


def _position(record: EventRecord, by_sequence: bool) -> int:
    return record.sequence if by_sequence else record.position  # type: ignore[return-value]


def record_from_row(row: dict[str, Any]) -> EventRecord:
    data = row["data"]
    return EventRecord(
        position=int(row["position"]),
        id=row["id"],
        org_id=row["org_id"],
        type=row["type"],
        data=json.loads(data) if isinstance(data, str) else data,
        created_at=int(row["created_at"]),
        conversation_id=row["conversation_id"],
        mailbox_id=row["mailbox_id"],
        sequence=row["sequence"],
    )


def prune_events(tx: Tx, *, cutoff_ms: int, keep: int, batch: int = 5000) -> int:
    """Delete up to ``batch`` events older than ``cutoff_ms`` that no channel needs.

    An event stays while it is among the newest ``keep`` events of its
    conversation, of its mailbox or of its organization (the agent channels
    read the organization's log), whatever its age, and until every event
    cursor (the webhook fan-out) has read it.
    """
    return tx.execute(
        "DELETE FROM events WHERE position IN ("
        " SELECT position FROM ("
        f"  SELECT position, created_at, {consumed_condition(tx.dialect)} AS consumed,"
        "   ROW_NUMBER() OVER (PARTITION BY org_id, conversation_id ORDER BY position DESC)"
        "    AS conversation_rank,"
        "   ROW_NUMBER() OVER (PARTITION BY org_id, mailbox_id ORDER BY position DESC)"
        "    AS mailbox_rank,"
        "   ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY position DESC) AS org_rank"
        "  FROM events"
        " ) ranked"
        " WHERE created_at < :cutoff AND conversation_rank > :keep AND mailbox_rank > :keep"
        " AND org_rank > :keep AND consumed"
        " LIMIT :batch"
        ")",
        cutoff=cutoff_ms,
        keep=keep,
        batch=batch,
    )
