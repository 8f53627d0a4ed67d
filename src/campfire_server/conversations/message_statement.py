"""A message write as one PostgreSQL statement, for the pipelined writer.

The statement locks the conversation, applies the message rules to it and
inserts the message, and returns the conversation row as it was before. It
writes nothing when no conversation in the caller's scope has the id, or
when the rules reject the message (a closed conversation). Sent with
``Tx.send_row``, it costs no round trip of its own, so the writer does not
wait for the database between the messages of a group. Only a work that
stores the message alone uses it (the message route), because its events
are logged after the group's other works have run.

SQLite has no data-modifying ``WITH`` queries, so there the message takes
the sequential path in ``actions.send_message``, which the tests run on
both engines.
"""

from __future__ import annotations

from typing import get_args

from ..auth.principal import Principal
from ..db.tx import Deferred, Tx
from ..errors import Conflict
from . import service
from .rules import effect_of_message
from .schemas import Status

_statements: dict[tuple[str, bool, int], str] = {}
_NEXT_POSITION = "nextval(pg_get_serial_sequence('events', 'position'))"


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
    """Send the statement; the result is the conversation row before the message, or ``None``.

    The row has the columns of ``service.CONVERSATION_COLUMNS`` except
    ``updated_at``, with the conversation's creation time as
    ``conversation_created_at`` and its customer's ``customer_name`` and
    ``customer_email``, so the events can carry the whole conversation.

    The message's time is ``now`` or, when that is earlier, the locked row's
    ``last_message_at``, because another process may have stored a message
    after ``now`` was read. The row carries that time as ``created_at``.
    A customer message whose ``author_id`` is not the conversation's
    customer is not stored. It also carries the event positions that the statement reserved:
    ``message_position`` when it stored the message (``None`` when the rules
    rejected it) and ``update_position`` when the message reopened the
    conversation. Reserving them here keeps the events of a conversation in
    sequence order by position, although they are inserted after the
    statements of later works in the group.
    """
    where, params = service.conversation_scope(
        principal.org_id, conversation_id, principal.customer_id, principal.mailbox_ids
    )
    key = (effect_author, principal.customer_id is not None, len(principal.mailbox_ids))
    sql = _statements.get(key)
    if sql is None:
        sql = _statement(effect_author, where)
        _statements[key] = sql
    return tx.send_row(
        sql,
        **params,
        message_id=message_id,
        content=content,
        author_type=author_type,
        author_id=author_id,
        metadata=metadata,
        private=private,
        now=now,
    )


def _statement(effect_author: str, where: str) -> str:
    return (
        # The locked row is read as last committed, while a subquery on
        # messages would see the statement's snapshot and miss messages that
        # other processes committed during the wait, so ``seq`` comes from the
        # row's message count.
        "WITH old AS (SELECT id, org_id, status, unread_count, message_count, event_seq, "
        "customer_id, mailbox_id, subject, priority, assigned_agent_id, metadata, resolved_at, "
        f"created_at, last_message_at FROM conversations WHERE {where} FOR UPDATE), "
        "rule (from_status, to_status, unread_factor, unread_offset) AS "
        f"({rule_table(effect_author)}), "
        "new AS (SELECT old.id, rule.to_status AS status, "
        "old.unread_count * rule.unread_factor + rule.unread_offset AS unread_count, "
        "rule.to_status <> old.status AS reopened, old.message_count + 1 AS seq, "
        "GREATEST(CAST(:now AS BIGINT), COALESCE(old.last_message_at, 0)) AS created_at, "
        "old.event_seq + CASE WHEN rule.to_status <> old.status THEN 2 ELSE 1 END AS event_seq "
        "FROM old JOIN rule ON rule.from_status = old.status "
        # A customer message must come from the conversation's customer.
        "WHERE :author_type <> 'customer' OR old.customer_id = :author_id), "
        "updated AS (UPDATE conversations SET status = new.status, "
        "unread_count = new.unread_count, message_count = message_count + 1, "
        "last_message_at = new.created_at, updated_at = new.created_at, "
        "resolved_at = CASE WHEN new.reopened THEN NULL ELSE resolved_at END, "
        "event_seq = new.event_seq FROM new WHERE conversations.id = new.id), "
        "inserted AS (INSERT INTO messages (id, org_id, conversation_id, content, author_type, "
        "author_id, metadata, private, created_at, seq) SELECT :message_id, :org_id, new.id, "
        ":content, :author_type, :author_id, :metadata, :private, new.created_at, new.seq "
        "FROM new) "
        "SELECT old.id, old.org_id, old.status, old.unread_count, old.message_count, "
        "old.event_seq, old.customer_id, old.mailbox_id, old.subject, old.priority, "
        "old.assigned_agent_id, old.metadata, old.resolved_at, old.last_message_at, "
        "old.created_at AS conversation_created_at, customers.name AS customer_name, "
        "customers.email AS customer_email, (SELECT created_at FROM new) AS created_at, "
        f"CASE WHEN EXISTS (SELECT 1 FROM new) THEN {_NEXT_POSITION} END AS message_position, "
        f"CASE WHEN (SELECT reopened FROM new) THEN {_NEXT_POSITION} END AS update_position "
        # One lookup of the customer for both columns.
        "FROM old LEFT JOIN customers ON customers.org_id = old.org_id "
        "AND customers.id = old.customer_id"
    )


def rule_table(effect_author: str) -> str:
    """Return ``rules.effect_of_message`` for one author type as a ``VALUES`` list.

    Each row maps a status that takes the message to the status after it,
    and gives the unread count after it as ``unread_count * factor +
    offset``. A status whose rules reject the message has no row.
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
            or len({effect.status for effect in effects}) != 1
        ):
            raise ValueError(
                f"the message rules for {effect_author!r} in status {status!r} are not a "
                "status map and a linear unread count; send such messages sequentially"
            )
        rows.append(f"('{status}', '{effects[0].status}', {factor}, {offset})")
    return "VALUES " + ", ".join(rows)
