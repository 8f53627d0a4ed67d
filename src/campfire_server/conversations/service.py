"""Queries over conversations and messages; all scoped to one organization."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..auth.principal import Principal
from ..clock import to_iso
from ..db.tx import Tx
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import records
from ..pagination import PageRequest, keyset_clause, order_clause, pagination
from .schemas import Conversation, CustomerSummary, Message

CONVERSATION_COLUMNS = (
    "id, org_id, mailbox_id, customer_id, subject, status, priority, assigned_agent_id, "
    "metadata, unread_count, message_count, event_seq, ai_paused, last_message_at, "
    "resolved_at, created_at, updated_at"
)


def conversation_from_row(row: dict[str, Any], customer: CustomerSummary) -> Conversation:
    return Conversation(
        id=row["id"],
        customer_id=row["customer_id"],
        customer=customer,
        mailbox_id=row["mailbox_id"],
        subject=row["subject"],
        status=row["status"],
        priority=row["priority"],
        assigned_agent_id=row["assigned_agent_id"],
        unread_count=row["unread_count"],
        message_count=row["message_count"],
        last_message_at=to_iso(row["last_message_at"]),
        resolved_at=to_iso(row["resolved_at"]),
        created_at=to_iso(row["created_at"]),
        updated_at=to_iso(row["updated_at"]),
        metadata=json.loads(row["metadata"] or "{}"),
    )


def conversation_json(row: dict[str, Any], customer: CustomerSummary) -> dict[str, Any]:
    """Return ``conversation_from_row(row, customer).model_dump(mode="json")``, built directly.

    Every message event carries this snapshot, and skipping the model's
    validation and serialisation saves the writer thread about 10 µs per
    message. The keys are the model's camelCase aliases.
    """
    return {
        "id": row["id"],
        "customerId": row["customer_id"],
        "customer": {"id": customer.id, "name": customer.name, "email": customer.email},
        "mailboxId": row["mailbox_id"],
        "subject": row["subject"],
        "status": row["status"],
        "priority": row["priority"],
        "assignedAgentId": row["assigned_agent_id"],
        "unreadCount": row["unread_count"],
        "messageCount": row["message_count"],
        "lastMessageAt": to_iso(row["last_message_at"]),
        "resolvedAt": to_iso(row["resolved_at"]),
        "createdAt": to_iso(row["created_at"]),
        "updatedAt": to_iso(row["updated_at"]),
        "metadata": json.loads(row["metadata"] or "{}"),
    }


def customers_by_id(tx: Tx, org_id: str, customer_ids: Sequence[str]) -> dict[str, CustomerSummary]:
    """Read the customers with ``customer_ids``. An id without a stored customer gets no name."""
    unique = sorted(set(customer_ids))
    found: dict[str, CustomerSummary] = {}
    if unique:
        params: dict[str, Any] = {"org_id": org_id}
        names = []
        for index, customer_id in enumerate(unique):
            params[f"customer_{index}"] = customer_id
            names.append(f":customer_{index}")
        rows = tx.all(
            "SELECT id, name, email FROM customers "
            f"WHERE org_id = :org_id AND id IN ({', '.join(names)})",
            **params,
        )
        found = {
            row["id"]: CustomerSummary(id=row["id"], name=row["name"], email=row["email"])
            for row in rows
        }
    return {
        customer_id: found.get(customer_id)
        or CustomerSummary(id=customer_id, name=None, email=None)
        for customer_id in unique
    }


def conversation_view(tx: Tx, row: dict[str, Any]) -> Conversation:
    """Build the conversation response of ``row``, with its customer's name and email."""
    customers = customers_by_id(tx, row["org_id"], [row["customer_id"]])
    return conversation_from_row(row, customers[row["customer_id"]])


def without_private_notes(
    tx: Tx, org_id: str, conversations: list[Conversation]
) -> list[Conversation]:
    """Return ``conversations`` with messageCount and lastMessageAt counted without private notes.

    The stored counters include private notes, which customers must not
    learn of, so both are counted again over the other messages.
    """
    if not conversations:
        return conversations
    params: dict[str, Any] = {"org_id": org_id, "private": False}
    names = []
    for index, conversation in enumerate(conversations):
        params[f"conversation_{index}"] = conversation.id
        names.append(f":conversation_{index}")
    listed = ", ".join(names)
    rows = tx.all(
        "SELECT conversation_id, COUNT(*) AS n, MAX(created_at) AS last_at FROM messages "
        f"WHERE org_id = :org_id AND private = :private AND conversation_id IN ({listed}) "
        "GROUP BY conversation_id",
        **params,
    )
    visible = {row["conversation_id"]: row for row in rows}
    shown = []
    for conversation in conversations:
        row = visible.get(conversation.id)
        update = {
            "message_count": int(row["n"]) if row else 0,
            "last_message_at": to_iso(row["last_at"]) if row else None,
        }
        shown.append(conversation.model_copy(update=update))
    return shown


def message_from_row(row: dict[str, Any]) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        content=row["content"],
        author_type=row["author_type"],
        author_id=row["author_id"],
        created_at=to_iso(row["created_at"]),
        metadata=json.loads(row["metadata"] or "{}"),
        private=bool(row["private"]),
    )


def get_conversation_row(
    tx: Tx,
    org_id: str,
    conversation_id: str,
    *,
    customer_id: str | None = None,
    mailbox_ids: Sequence[str] = (),
    lock: bool = False,
) -> dict[str, Any]:
    """Return the conversation row, or raise ``NotFound`` for any id outside the caller's scope.

    Another organization's id, another customer's conversation and a
    conversation outside the credential's ``mailbox_ids`` are answered
    exactly like an id that does not exist.
    """
    where, params = conversation_scope(org_id, conversation_id, customer_id, mailbox_ids)
    sql = f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {where}"
    if lock:
        sql += tx.for_update
    row = tx.one(sql, **params)
    if row is None:
        raise conversation_not_found(conversation_id)
    return row


def find_conversation_row(
    tx: Tx, principal: Principal, conversation_id: str, *, lock: bool = False
) -> dict[str, Any]:
    """Return the conversation row as ``principal`` may see it, or raise ``NotFound``.

    Every route looks conversations up through this, so the organization,
    a customer token's customer and a credential's mailboxes always apply.
    """
    return get_conversation_row(
        tx,
        principal.org_id,
        conversation_id,
        customer_id=principal.customer_id,
        mailbox_ids=principal.mailbox_ids,
        lock=lock,
    )


def conversation_scope(
    org_id: str,
    conversation_id: str,
    customer_id: str | None = None,
    mailbox_ids: Sequence[str] = (),
) -> tuple[str, dict[str, Any]]:
    """Return the ``WHERE`` condition on ``conversations`` that finds one in the caller's scope."""
    where, params = scope_condition(org_id, customer_id, mailbox_ids)
    params["id"] = conversation_id
    return "id = :id AND " + where, params


def scope_condition(
    org_id: str, customer_id: str | None = None, mailbox_ids: Sequence[str] = ()
) -> tuple[str, dict[str, Any]]:
    """Return the ``WHERE`` condition on ``conversations`` of the caller's scope, without an id."""
    where = "org_id = :org_id"
    params: dict[str, Any] = {"org_id": org_id}
    if customer_id is not None:
        where += " AND customer_id = :customer_id"
        params["customer_id"] = customer_id
    if mailbox_ids:
        where += " AND " + _mailbox_clause(mailbox_ids, params)
    return where, params


def check_assignee_change(
    principal: Principal | None, row: dict[str, Any], target: str | None, action: str
) -> None:
    """Raise ``Conflict`` when an agent token moves another agent's conversation away.

    ``row`` is the locked conversation, ``target`` the assignee the request
    would leave (``None`` when it unassigns) and ``action`` the phrase for
    the message, such as "unassign it". Admin tokens, API keys and a
    ``None`` principal (internal callers) pass, and so does the holder.
    """
    if principal is None or principal.role != "agent" or not principal.agent_id:
        return
    holder = row["assigned_agent_id"]
    if holder is None or holder == principal.agent_id:
        return
    raise Conflict(
        f'conversation {row["id"]} is assigned to agent "{holder}", so agent '
        f'"{principal.agent_id}" cannot {action}; reload it, or ask an admin to reassign it',
        details={"field": "assignedAgentId", "value": target, "current": holder},
    )


def conversation_not_found(conversation_id: str) -> NotFound:
    return NotFound.for_id("conversation", conversation_id, field="conversationId")


def _mailbox_clause(mailbox_ids: Sequence[str], params: dict[str, Any]) -> str:
    names = []
    for index, mailbox_id in enumerate(mailbox_ids):
        params[f"scope_mailbox_{index}"] = mailbox_id
        names.append(f":scope_mailbox_{index}")
    return f"mailbox_id IN ({', '.join(names)})"


@dataclass(frozen=True, slots=True)
class ConversationFilters:
    status: str | None = None
    priority: str | None = None
    mailbox_id: str | None = None
    customer_id: str | None = None
    assigned_agent_id: str | None = None
    created_after: int | None = None
    created_before: int | None = None
    # The mailboxes a scoped credential may see; empty means all of them.
    scope_mailbox_ids: tuple[str, ...] = ()


def _filter_sql(org_id: str, filters: ConversationFilters) -> tuple[str, dict[str, Any]]:
    where = "org_id = :org_id"
    params: dict[str, Any] = {"org_id": org_id}
    for column in ("status", "priority", "mailbox_id", "customer_id", "assigned_agent_id"):
        value = getattr(filters, column)
        if value is not None:
            where += f" AND {column} = :{column}"
            params[column] = value
    if filters.created_after is not None:
        where += " AND created_at > :created_after"
        params["created_after"] = filters.created_after
    if filters.created_before is not None:
        where += " AND created_at < :created_before"
        params["created_before"] = filters.created_before
    if filters.scope_mailbox_ids:
        where += " AND " + _mailbox_clause(filters.scope_mailbox_ids, params)
    return where, params


def list_conversations(
    tx: Tx, org_id: str, filters: ConversationFilters, page: PageRequest
) -> tuple[list[Conversation], dict[str, Any]]:
    """List newest first; ``pagination.nextCursor`` continues the walk."""
    where, params = _filter_sql(org_id, filters)
    total = tx.value(f"SELECT COUNT(*) AS n FROM conversations WHERE {where}", **params)
    where += keyset_clause(page, "desc", params)
    rows = tx.all(
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE {where}"
        + order_clause(page, "desc"),
        **params,
    )
    rows, meta = pagination(page, rows, int(total))
    customers = customers_by_id(tx, org_id, [row["customer_id"] for row in rows])
    return [conversation_from_row(row, customers[row["customer_id"]]) for row in rows], meta


def list_messages(
    tx: Tx,
    org_id: str,
    conversation_id: str,
    page: PageRequest,
    *,
    customer_id: str | None = None,
    mailbox_ids: Sequence[str] = (),
    include_private: bool = True,
) -> tuple[list[Message], dict[str, Any]]:
    """List oldest first, the order a chat is read in."""
    get_conversation_row(
        tx, org_id, conversation_id, customer_id=customer_id, mailbox_ids=mailbox_ids
    )
    where = "conversation_id = :conversation_id AND org_id = :org_id"
    params: dict[str, Any] = {"conversation_id": conversation_id, "org_id": org_id}
    if not include_private:
        where += " AND private = :private"
        params["private"] = False
    total = tx.value(f"SELECT COUNT(*) AS n FROM messages WHERE {where}", **params)
    page = _cursor_by_seq(tx, page, conversation_id)
    where += keyset_clause(page, "asc", params, tiebreak="seq")
    rows = tx.all(
        "SELECT id, conversation_id, content, author_type, author_id, metadata, private, "
        f"created_at, seq FROM messages WHERE {where}" + order_clause(page, "asc", "seq"),
        **params,
    )
    rows, meta = pagination(page, rows, int(total), tiebreak="seq")
    return [message_from_row(row) for row in rows], meta


def _cursor_by_seq(tx: Tx, page: PageRequest, conversation_id: str) -> PageRequest:
    """Return ``page`` with its cursor's tie-break as a message ``seq``.

    A cursor from before messages had ``seq`` carries the last message's id;
    that message's ``seq`` continues the walk at the same place.
    """
    if page.cursor is None or isinstance(page.cursor[1], int):
        return page
    created_at, message_id = page.cursor
    seq = tx.value(
        "SELECT seq FROM messages WHERE id = :id AND conversation_id = :conversation_id",
        id=message_id,
        conversation_id=conversation_id,
    )
    if seq is None:
        raise ValidationFailed(
            f"cursor names message {message_id!r}, which is not in this conversation; "
            "pass the nextCursor of this list's previous page, or start without a cursor",
            field="cursor",
            value=message_id,
            expected="the nextCursor of a previous page of this same list",
        )
    return replace(page, cursor=(created_at, int(seq)))


def get_message(
    tx: Tx,
    org_id: str,
    conversation_id: str,
    message_id: str,
    *,
    customer_id: str | None = None,
    mailbox_ids: Sequence[str] = (),
    include_private: bool = True,
) -> Message:
    """Return one message, or raise ``NotFound`` like ``get_conversation_row`` does.

    A private note is not found when ``include_private`` is false.
    """
    get_conversation_row(
        tx, org_id, conversation_id, customer_id=customer_id, mailbox_ids=mailbox_ids
    )
    row = tx.one(
        "SELECT id, conversation_id, content, author_type, author_id, metadata, private, "
        "created_at FROM messages WHERE id = :id AND conversation_id = :conversation_id "
        "AND org_id = :org_id",
        id=message_id,
        conversation_id=conversation_id,
        org_id=org_id,
    )
    if row is None or (row["private"] and not include_private):
        raise NotFound.for_id("message", message_id, field="messageId")
    return message_from_row(row)


def recent_messages(
    tx: Tx, conversation_id: str, limit: int = 20, *, after_ms: int | None = None
) -> list[dict[str, Any]]:
    """Return the last ``limit`` messages, oldest first, for answering follow-up questions.

    ``after_ms`` leaves out messages created at or before that time.
    """
    where = "conversation_id = :conversation_id"
    if after_ms is not None:
        where += " AND created_at > :after_ms"
    rows = tx.all(
        "SELECT id, content, author_type, author_id, metadata, private, created_at FROM messages "
        f"WHERE {where} ORDER BY created_at DESC, seq DESC LIMIT :limit",
        conversation_id=conversation_id,
        limit=limit,
        after_ms=after_ms,
    )
    return list(reversed(rows))


def last_resolved_ms(tx: Tx, org_id: str, conversation_id: str) -> int | None:
    """Return when the conversation was last resolved, in epoch milliseconds, or None.

    NOTE: read from the event log, so a resolution whose event was pruned
    is not found.
    """
    value = tx.value(
        "SELECT MAX(created_at) AS resolved FROM events WHERE org_id = :org_id "
        "AND conversation_id = :conversation_id AND type = :type",
        org_id=org_id,
        conversation_id=conversation_id,
        type=records.CONVERSATION_RESOLVED,
    )
    return None if value is None else int(value)


def message_place(tx: Tx, conversation_id: str, message_id: str) -> dict[str, Any] | None:
    """Return the ``seq`` and ``created_at`` of a message in the conversation, or None."""
    return tx.one(
        "SELECT seq, created_at FROM messages "
        "WHERE id = :id AND conversation_id = :conversation_id",
        id=message_id,
        conversation_id=conversation_id,
    )


def public_authors_after(tx: Tx, conversation_id: str, seq: int) -> frozenset[str]:
    """Return the author types of the public messages stored after message number ``seq``."""
    rows = tx.all(
        "SELECT DISTINCT author_type FROM messages WHERE conversation_id = :conversation_id "
        "AND seq > :seq AND private = :private",
        conversation_id=conversation_id,
        seq=seq,
        private=False,
    )
    return frozenset(row["author_type"] for row in rows)
