"""Message writes as one PostgreSQL statement, for the pipelined writer.

The statement locks the conversations, applies the message rules to them
and inserts the messages, and returns each conversation row as it was
before. It takes its messages as arrays, so the messages that consecutive
works of a write group send to distinct conversations go out as one
statement (``Tx.send_grouped``). It writes nothing for a message when no
conversation in the caller's scope has its id, or when the rules reject it
(a closed conversation). It costs no round trip of its own, so the writer
does not wait for the database between the messages of a group. Only a
work that stores the message alone uses it (the message route), because
its events are logged after the group's other works have run.

SQLite has no data-modifying ``WITH`` queries, so there the message takes
the sequential path in ``actions.send_message``, which the tests run on
both engines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args

from ..auth.principal import Principal
from ..db.tx import Deferred, Tx
from ..errors import Conflict
from . import service
from .rules import effect_of_message
from .schemas import Status

_NEXT_POSITION = "nextval(pg_get_serial_sequence('events', 'position'))"
# Each message's own parameters, with the array type that carries them.
_ARRAYS = (
    ("conversation_id", "TEXT"),
    ("message_id", "TEXT"),
    ("content", "TEXT"),
    ("author_type", "TEXT"),
    ("author_id", "TEXT"),
    ("metadata", "TEXT"),
    ("private", "BOOLEAN"),
    ("now", "BIGINT"),
)


class _MergeMessages:
    """Build the statement for a list of messages of one scope shape and author type."""

    __slots__ = ("_scalar_statement", "_array_statement", "_scope_names")

    def __init__(self, effect_author: str, where: str, scope_names: tuple[str, ...]) -> None:
        self._scalar_statement = _statement(effect_author, where, arrays=False)
        self._array_statement = _statement(effect_author, where, arrays=True)
        self._scope_names = scope_names

    def __call__(self, rows: list[Mapping[str, Any]]) -> tuple[str, dict[str, Any]]:
        # The rows share one merge key, so the first one's scope is theirs.
        params = {name: rows[0][name] for name in self._scope_names}
        if len(rows) == 1:
            # A lone message, as when every message goes to one conversation,
            # takes scalar parameters, which cost psycopg and the planner
            # less than arrays of one element.
            for name, _type in _ARRAYS:
                params[name] = rows[0][name]
            return self._scalar_statement, params
        for name, _type in _ARRAYS:
            params[f"{name}s"] = [row[name] for row in rows]
        return self._array_statement, params


_merges: dict[tuple[str, bool, int], _MergeMessages] = {}


def send(
    tx: Tx,
    principal: Principal,
    conversation_id: str,
    *,
    author_type: str,
    effect_author: str,
    message_id: str,
    content: str,
    author_id: str | None,
    metadata: str,
    private: bool,
    now: int,
) -> Deferred:
    """Send the message; the result is the conversation row before the message, or ``None``.

    The row has the columns of ``service.CONVERSATION_COLUMNS`` except
    ``updated_at``, with the conversation's creation time as
    ``conversation_created_at`` and its customer's ``customer_name`` and
    ``customer_email``, so the events can carry the whole conversation.

    The message's time is ``now`` or, when that is earlier, the locked row's
    ``last_message_at``, because another process may have stored a message
    after ``now`` was read. The row carries that time as ``created_at``.
    A customer message whose ``author_id`` is not the conversation's
    customer is not stored. The row also carries the event positions that
    the statement reserved:
    ``message_position`` when it stored the message (``None`` when the rules
    rejected it) and ``update_position`` when the message reopened the
    conversation. Reserving them here keeps the events of a conversation in
    sequence order by position, although they are inserted after the
    statements of later works in the group.
    """
    where, scope = service.scope_condition(
        principal.org_id, principal.customer_id, principal.mailbox_ids
    )
    shape = (effect_author, principal.customer_id is not None, len(principal.mailbox_ids))
    merge = _merges.get(shape)
    if merge is None:
        merge = _MergeMessages(effect_author, where, tuple(scope))
        _merges[shape] = merge
    return tx.send_grouped(
        merge,
        # Messages share a statement only within one caller scope.
        merge_key=(shape, *scope.values()),
        # A conversation takes one message per statement, because each
        # message's row reads the conversation as the one before left it.
        row_key=conversation_id,
        **scope,
        conversation_id=conversation_id,
        message_id=message_id,
        content=content,
        author_type=author_type,
        author_id=author_id,
        metadata=metadata,
        private=private,
        now=now,
    )


def _statement(effect_author: str, where: str, *, arrays: bool) -> str:
    """Return the statement for messages in arrays, or for one message in scalar parameters."""
    columns = ", ".join(f"m_{name}" for name, _kind in _ARRAYS)
    if arrays:
        values = ", ".join(f"CAST(:{name}s AS {kind}[])" for name, kind in _ARRAYS)
        source = f"SELECT * FROM unnest({values}) WITH ORDINALITY AS input ({columns}, item)"
        ids = "CAST(:conversation_ids AS TEXT[])"
    else:
        values = ", ".join(f"CAST(:{name} AS {kind})" for name, kind in _ARRAYS)
        source = f"SELECT * FROM (VALUES ({values}, CAST(1 AS BIGINT))) AS input ({columns}, item)"
        ids = "ARRAY[CAST(:conversation_id AS TEXT)]"
    return (
        f"WITH input AS ({source}), "
        # The locked rows are read as last committed, while a subquery on
        # messages would see the statement's snapshot and miss messages that
        # other processes committed during the wait, so ``seq`` comes from the
        # row's message count. Rows are locked in id order, as the writer
        # orders a group's works, so two groups lock them in one order.
        "old AS (SELECT input.*, conversations.id, org_id, status, unread_count, "
        "message_count, event_seq, customer_id, mailbox_id, subject, priority, "
        "assigned_agent_id, metadata, resolved_at, created_at, last_message_at "
        "FROM conversations JOIN input ON conversations.id = input.m_conversation_id "
        # The ids again as one array, so the planner finds the rows through
        # the primary key rather than scanning the organization's rows.
        f"WHERE conversations.id = ANY({ids}) "
        f"AND {where} ORDER BY conversations.id FOR UPDATE OF conversations), "
        "rule (from_status, to_status, unread_factor, unread_offset, releases_assignee) AS "
        f"({rule_table(effect_author)}), "
        "new AS (SELECT old.item, old.id, rule.to_status AS status, "
        "old.unread_count * rule.unread_factor + rule.unread_offset AS unread_count, "
        "rule.to_status <> old.status AS reopened, rule.releases_assignee, "
        "old.message_count + 1 AS seq, "
        "GREATEST(old.m_now, COALESCE(old.last_message_at, 0)) AS created_at, "
        "old.event_seq + CASE WHEN rule.to_status <> old.status THEN 2 ELSE 1 END AS event_seq, "
        "old.m_message_id, old.m_content, old.m_author_type, old.m_author_id, old.m_metadata, "
        "old.m_private FROM old JOIN rule ON rule.from_status = old.status "
        # A customer message must come from the conversation's customer.
        "WHERE old.m_author_type <> 'customer' OR old.customer_id = old.m_author_id), "
        "updated AS (UPDATE conversations SET status = new.status, "
        "unread_count = new.unread_count, message_count = message_count + 1, "
        "last_message_at = new.created_at, updated_at = new.created_at, "
        "resolved_at = CASE WHEN new.reopened THEN NULL ELSE resolved_at END, "
        "assigned_agent_id = CASE WHEN new.releases_assignee THEN NULL "
        "ELSE conversations.assigned_agent_id END, "
        "event_seq = new.event_seq FROM new WHERE conversations.id = new.id), "
        "inserted AS (INSERT INTO messages (id, org_id, conversation_id, content, author_type, "
        "author_id, metadata, private, created_at, seq) SELECT new.m_message_id, :org_id, new.id, "
        "new.m_content, new.m_author_type, new.m_author_id, new.m_metadata, new.m_private, "
        "new.created_at, new.seq FROM new) "
        "SELECT old.item, old.id, old.org_id, old.status, old.unread_count, old.message_count, "
        "old.event_seq, old.customer_id, old.mailbox_id, old.subject, old.priority, "
        "old.assigned_agent_id, old.metadata, old.resolved_at, old.last_message_at, "
        "old.created_at AS conversation_created_at, customers.name AS customer_name, "
        "customers.email AS customer_email, new.created_at, "
        f"CASE WHEN new.id IS NOT NULL THEN {_NEXT_POSITION} END AS message_position, "
        f"CASE WHEN new.reopened THEN {_NEXT_POSITION} END AS update_position "
        "FROM old LEFT JOIN new ON new.item = old.item "
        # One lookup of the customer for both columns.
        "LEFT JOIN customers ON customers.org_id = old.org_id "
        "AND customers.id = old.customer_id"
    )


def rule_table(effect_author: str) -> str:
    """Return ``rules.effect_of_message`` for one author type as a ``VALUES`` list.

    Each row maps a status that takes the message to the status after it,
    gives the unread count after it as ``unread_count * factor + offset``,
    and tells whether the message releases the assignee. A status whose
    rules reject the message has no row.
    """
    rows = []
    for status in get_args(Status):
        try:
            effects = [effect_of_message(status, unread, effect_author) for unread in (0, 1, 7)]
        except Conflict:
            continue
        offset = effects[0].unread_count
        factor = effects[1].unread_count - offset
        if (
            effects[2].unread_count != 7 * factor + offset
            or len({(effect.status, effect.releases_assignee) for effect in effects}) != 1
        ):
            raise ValueError(
                f"the message rules for {effect_author!r} in status {status!r} are not a "
                "status map and a linear unread count; send such messages sequentially"
            )
        releases = "TRUE" if effects[0].releases_assignee else "FALSE"
        rows.append(f"('{status}', '{effects[0].status}', {factor}, {offset}, {releases})")
    return "VALUES " + ", ".join(rows)
