"""State changes of conversations and messages.

This module and the other ``actions`` modules are the only places that
emit events, and they emit them inside the transaction of the change (see
``events.emit``), so listeners hear only of committed changes.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from .. import clock, ids
from ..auth.principal import Principal
from ..db import lock_order
from ..db.tx import Tx
from ..errors import NotFound, PermissionDenied, ValidationFailed, quoted, shown_text
from ..events import records
from ..events.emit import emit
from ..organizations import service as organizations
from ..routing import actions as routing
from . import message_statement, service
from .rules import MessageEffect, effect_of_message
from .schemas import (
    Conversation,
    ConversationCreate,
    ConversationUpdate,
    CustomerSummary,
    Message,
    MessageCreate,
)

log = logging.getLogger(__name__)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


def upsert_customer(
    tx: Tx, org_id: str, customer_id: str, *, name: str | None = None, email: str | None = None
) -> None:
    """Create the customer on first use; later calls only fill in a missing name or email."""
    now = clock.now_ms()
    tx.execute(
        "INSERT INTO customers (org_id, id, name, email, metadata, created_at, updated_at) "
        "VALUES (:org_id, :id, :name, :email, '{}', :now, :now) "
        "ON CONFLICT (org_id, id) DO NOTHING",
        org_id=org_id,
        id=customer_id,
        name=name,
        email=email,
        now=now,
    )
    if name is not None or email is not None:
        tx.execute(
            "UPDATE customers SET name = COALESCE(:name, name), email = COALESCE(:email, email), "
            "updated_at = :now WHERE org_id = :org_id AND id = :id",
            name=name,
            email=email,
            now=now,
            org_id=org_id,
            id=customer_id,
        )


def create_conversation(tx: Tx, principal: Principal, request: ConversationCreate) -> Conversation:
    org_id = principal.org_id
    customer_id = request.customer_id or principal.customer_id
    if customer_id is None:
        raise ValidationFailed(
            "customerId is missing; send customerId, your own id for the customer",
            field="customerId",
            value=None,
            expected="your own id for the customer",
        )
    if principal.is_customer and customer_id != principal.customer_id:
        raise PermissionDenied(
            f"customerId {quoted(customer_id)} is another customer, and a customer token may "
            "only open conversations for its own customer; leave customerId out or send "
            f"this token's own, {quoted(principal.customer_id or '')}",
            details={
                "field": "customerId",
                "value": customer_id,
                "expected": principal.customer_id,
            },
        )

    mailbox_id = request.mailbox_id or organizations.default_mailbox_id(tx, org_id)
    if mailbox_id is None:
        raise ValidationFailed(
            "the organization has no mailbox yet; create one with POST /api/v2/mailboxes",
            field="mailboxId",
            value=None,
            expected="the id of an existing mailbox",
        )
    if principal.mailbox_ids and mailbox_id not in principal.mailbox_ids:
        raise PermissionDenied(
            f"this credential is limited to mailboxes {', '.join(principal.mailbox_ids)}; "
            f"send one of them as mailboxId, or use a credential for {mailbox_id}",
            details={"field": "mailboxId", "value": mailbox_id},
        )
    organizations.get_mailbox_row(tx, org_id, mailbox_id)
    upsert_customer(tx, org_id, customer_id)

    conversation_id = ids.new("conversation")
    now = clock.now_ms()
    tx.execute(
        "INSERT INTO conversations (id, org_id, mailbox_id, customer_id, subject, status, "
        "priority, metadata, unread_count, message_count, event_seq, ai_paused, created_at, "
        "updated_at) VALUES (:id, :org_id, :mailbox_id, :customer_id, :subject, 'open', "
        ":priority, :metadata, 0, 0, 1, :ai_paused, :now, :now)",
        id=conversation_id,
        org_id=org_id,
        mailbox_id=mailbox_id,
        customer_id=customer_id,
        subject=request.subject,
        priority=request.priority,
        metadata=_json(request.metadata),
        ai_paused=False,
        now=now,
    )
    row = service.get_conversation_row(tx, org_id, conversation_id)
    conversation = service.conversation_view(tx, row)
    emit(
        tx,
        org_id=org_id,
        type=records.CONVERSATION_CREATED,
        data={"conversation": conversation.model_dump(mode="json")},
        conversation_id=conversation_id,
        mailbox_id=mailbox_id,
        sequence=1,
        created_at=now,
    )
    tx.log(
        log.info,
        "conversation created",
        extra={"conversation_id": conversation_id, "mailbox_id": mailbox_id},
    )
    return conversation


def update_lock_key(org_id: str, conversation_id: str, request: ConversationUpdate) -> str:
    """Return the write order key of a PATCH: the first row ``update_conversation`` locks."""
    if routing.touches_routing(request.model_fields_set):
        return lock_order.routing(org_id)
    return lock_order.conversation(conversation_id)


def update_conversation(
    tx: Tx, principal: Principal, conversation_id: str, request: ConversationUpdate
) -> Conversation:
    """Apply a PATCH; a request that changes nothing emits nothing."""
    org_id = principal.org_id
    routing.before_conversation_update(tx, org_id, request.model_fields_set)
    row = service.get_conversation_row(
        tx, org_id, conversation_id, mailbox_ids=principal.mailbox_ids, lock=True
    )
    requested = request.model_dump(exclude_unset=True, by_alias=False)
    if not requested:
        raise ValidationFailed(
            "the request changes nothing; send at least one of status, priority, "
            "assignedAgentId, subject, metadata",
            field="body",
            value={},
            expected="an object with at least one field",
        )

    changes: dict[str, Any] = {}
    for field, value in requested.items():
        current = row[field]
        if field == "metadata":
            current = json.loads(current or "{}")
        if current != value:
            changes[field] = value
    if not changes:
        return service.conversation_view(tx, row)
    _check_take(principal, row, changes)
    if changes.get("assigned_agent_id") is not None:
        exists = tx.value(
            "SELECT 1 FROM agents WHERE org_id = :org_id AND id = :id",
            org_id=org_id,
            id=changes["assigned_agent_id"],
        )
        if not exists:
            raise NotFound.for_id("agent", changes["assigned_agent_id"], field="assignedAgentId")

    now = clock.now_ms()
    assignments = {
        field: (_json(value) if field == "metadata" else value) for field, value in changes.items()
    }
    if changes.get("status") == "resolved":
        assignments["resolved_at"] = now
    elif "status" in changes and changes["status"] in ("open", "pending"):
        assignments["resolved_at"] = None
    sequence = row["event_seq"] + 1 + (1 if changes.get("status") == "resolved" else 0)
    assignments["updated_at"] = now
    assignments["event_seq"] = sequence
    sets = ", ".join(f"{column} = :{column}" for column in assignments)
    tx.execute(
        f"UPDATE conversations SET {sets} WHERE id = :conversation_id",
        conversation_id=conversation_id,
        **assignments,
    )

    updated_row = service.get_conversation_row(tx, org_id, conversation_id)
    conversation = service.conversation_view(tx, updated_row)
    snapshot = conversation.model_dump(mode="json")
    emit(
        tx,
        org_id=org_id,
        type=records.CONVERSATION_UPDATED,
        data={
            "conversation": snapshot,
            "changes": {_camel(field): value for field, value in changes.items()},
        },
        conversation_id=conversation_id,
        mailbox_id=row["mailbox_id"],
        sequence=row["event_seq"] + 1,
        created_at=now,
    )
    if changes.get("status") == "resolved":
        emit(
            tx,
            org_id=org_id,
            type=records.CONVERSATION_RESOLVED,
            data={"conversation": snapshot},
            conversation_id=conversation_id,
            mailbox_id=row["mailbox_id"],
            sequence=sequence,
            created_at=now,
        )
    if routing.after_conversation_update(tx, org_id, row, changes):
        conversation = service.conversation_view(
            tx, service.get_conversation_row(tx, org_id, conversation_id)
        )
    return conversation


def _check_take(principal: Principal, row: dict[str, Any], changes: dict[str, Any]) -> None:
    """Raise ``Conflict`` when an agent changes the assignee of another agent's conversation.

    Of two agents that take one queued conversation at once, the later one
    would otherwise silently replace the first. Unassigning is checked too,
    because an agent could otherwise take in two requests: unassign, then
    assign itself. Reassigning to a third agent is checked as well, because
    it moves the conversation away from its holder. The row is locked, so
    the later PATCH reads the first one's assignee. Admin tokens and API
    keys reassign without this check.
    """
    if "assigned_agent_id" not in changes:
        return
    target = changes["assigned_agent_id"]
    if target is None:
        action = "unassign it"
    elif target == principal.agent_id:
        action = "take it"
    else:
        action = f'reassign it to agent "{target}"'
    service.check_assignee_change(principal, row, target, action)


def _camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.title() for part in rest)


def send_message(
    tx: Tx,
    principal: Principal,
    conversation_id: str,
    request: MessageCreate,
    *,
    whole_work: bool = False,
) -> Message:
    """Store one message and apply its effect on the conversation.

    Four statements: read and lock the conversation, insert the message,
    update the conversation, log the event (two when a customer reopens it).
    A customer message that reopens a resolved conversation also releases
    its assignee (``rules.effect_of_message``). That changes no agent's
    load, because a resolved conversation counts against no capacity, so
    the message takes no routing lock.
    With ``whole_work``, for a work that does nothing else, PostgreSQL's
    pipelined writer stores a message whose author is known without the
    conversation row with one statement and logs its events with another,
    and neither waits for a round trip (``message_statement``).
    """
    if principal.agent_id is not None and "author_type" not in request.model_fields_set:
        # authorType defaults to customer, but an agent token writes as its agent.
        request = request.model_copy(update={"author_type": "agent"})
    author_type, author_id = _author(principal, request)
    if author_type == "agent" and principal.agent_id is None:
        _require_agent_author(tx, principal.org_id, author_id)
    if whole_work and tx.pipelined and not (author_type == "customer" and author_id is None):
        return _send_message_in_one_statement(tx, principal, conversation_id, request, author_id)

    org_id = principal.org_id
    row = service.get_conversation_row(
        tx,
        org_id,
        conversation_id,
        customer_id=principal.customer_id,
        mailbox_ids=principal.mailbox_ids,
        lock=True,
    )
    if author_type == "customer" and author_id is None:
        author_id = row["customer_id"]
    elif author_type == "customer":
        _require_conversation_customer(author_id, row["customer_id"])

    effect = effect_of_message(row["status"], row["unread_count"], effect_author(request))
    reopened = effect.status != row["status"]

    message_id = ids.new("message")
    now = message_time(row)
    metadata = _json(request.metadata)
    tx.send(
        "INSERT INTO messages (id, org_id, conversation_id, content, author_type, author_id, "
        "metadata, private, created_at, seq) VALUES (:id, :org_id, :conversation_id, :content, "
        ":author_type, :author_id, :metadata, :private, :now, :seq)",
        id=message_id,
        org_id=org_id,
        conversation_id=conversation_id,
        # Messages are numbered 1, 2, 3 in the order they are stored, under the
        # conversation's lock, so the count of the locked row gives the next one.
        seq=row["message_count"] + 1,
        content=request.content,
        author_type=author_type,
        author_id=author_id,
        metadata=metadata,
        private=request.private,
        now=now,
    )
    sequence = row["event_seq"] + 1
    last_sequence = sequence + (1 if reopened else 0)
    tx.send(
        "UPDATE conversations SET status = :status, unread_count = :unread_count, "
        "message_count = message_count + 1, last_message_at = :now, updated_at = :now, "
        "resolved_at = CASE WHEN :reopened THEN NULL ELSE resolved_at END, "
        "assigned_agent_id = CASE WHEN :releases THEN NULL ELSE assigned_agent_id END, "
        "event_seq = :event_seq WHERE id = :id",
        status=effect.status,
        unread_count=effect.unread_count,
        now=now,
        reopened=reopened,
        releases=effect.releases_assignee,
        event_seq=last_sequence,
        id=conversation_id,
    )

    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        content=request.content,
        author_type=author_type,
        author_id=author_id,
        created_at=clock.to_iso(now),
        metadata=request.metadata,
        private=request.private,
    )
    customer = service.customers_by_id(tx, org_id, [row["customer_id"]])[row["customer_id"]]
    _announce(tx, org_id, message, row, customer, effect, now)
    return message


def _send_message_in_one_statement(
    tx: Tx,
    principal: Principal,
    conversation_id: str,
    request: MessageCreate,
    author_id: str | None,
) -> Message:
    """Store a message with one statement, and log its events once the statement's row arrives.

    The events wait for a ``before_commit`` callback, which the writer runs
    for the whole group after one sync, because they carry the
    conversation's sequence, status and unread count. The statement writes
    nothing when the conversation is out of scope or closed, and the
    callback then raises the same error as the sequential path.
    """
    message_id = ids.new("message")
    now = clock.now_ms()
    before = message_statement.send(
        tx,
        principal,
        conversation_id,
        author_type=request.author_type,
        effect_author=effect_author(request),
        message_id=message_id,
        content=request.content,
        author_id=author_id,
        metadata=_json(request.metadata),
        private=request.private,
        now=now,
    )
    message = Message(
        id=message_id,
        conversation_id=conversation_id,
        content=request.content,
        author_type=request.author_type,
        author_id=author_id,
        created_at=clock.to_iso(now),
        metadata=request.metadata,
        private=request.private,
    )

    def announce() -> None:
        row = before.get()
        if row is None:
            raise service.conversation_not_found(conversation_id)
        if request.author_type == "customer":
            # The statement stores no customer message whose authorId is another customer.
            _require_conversation_customer(author_id or "", row["customer_id"])
        stored_at = row["created_at"]
        if stored_at is not None and stored_at != now:
            message.created_at = clock.to_iso(stored_at)
        # Raises the rules' error for a message that the statement did not store.
        effect = effect_of_message(row["status"], row["unread_count"], effect_author(request))
        if row["message_position"] is None:
            raise RuntimeError(
                f"the message statement did not apply status {row['status']!r}, which the "
                "rules accept; its rule table is out of date"
            )
        customer = CustomerSummary(
            id=row["customer_id"], name=row["customer_name"], email=row["customer_email"]
        )
        _announce(
            tx,
            principal.org_id,
            message,
            {**row, "created_at": row["conversation_created_at"]},
            customer,
            effect,
            stored_at if stored_at is not None else now,
            positions=(row["message_position"], row["update_position"]),
        )

    tx.before_commit(announce)
    return message


def message_time(row: dict[str, Any]) -> int:
    """Return the time of a new message: now, but never before the conversation's last message.

    ``row`` is the conversation, read under its lock. Another process, or
    one whose clock runs ahead, may have stored the last message at a later
    time than this process's clock reads, and a message with a higher
    ``seq`` must not get an earlier ``created_at``.
    """
    return max(clock.now_ms(), row["last_message_at"] or 0)


def _author(principal: Principal, request: MessageCreate) -> tuple[str, str | None]:
    """Return the author type and id, or ``None`` for a customer id that the row supplies.

    A customer token writes as its customer and an agent token, one with an
    ``aid`` claim, as its agent, also when authorType is left out. Either
    raises ``PermissionDenied`` for another author type or another authorId.
    API keys name any author; ``send_message`` checks that an agent message
    names an agent of the organization. A customer message cannot be private
    (``ValidationFailed``), because its author must see it.
    """
    author_type, author_id = request.author_type, request.author_id
    if request.private and author_type == "customer" and not principal.is_customer:
        raise _private_customer_message()
    if principal.is_customer:
        if request.private:
            raise PermissionDenied(
                "a customer token cannot send private notes; send the message with "
                '"private": false or without private',
                details={"field": "private", "value": True},
            )
        _require_own_author(author_type, author_id, "customer", principal.customer_id)
        return author_type, principal.customer_id
    if principal.agent_id is not None:
        _require_own_author(author_type, author_id, "agent", principal.agent_id)
        return author_type, principal.agent_id
    return author_type, author_id


def _private_customer_message() -> ValidationFailed:
    return ValidationFailed(
        "private is true for a customer message, but private notes are written by agents and "
        "a customer sees every message they wrote; send the customer's message without "
        'private, or the note with authorType "agent" and an agent\'s id as authorId',
        field="private",
        value=True,
        expected='false when authorType is "customer", its default',
    )


def _require_own_author(
    author_type: str, author_id: str | None, own_type: str, own_id: str | None
) -> None:
    """Raise ``PermissionDenied`` unless the message is written as the token's own author."""
    token = f"{'an' if own_type == 'agent' else 'a'} {own_type} token"
    if author_type != own_type:
        raise PermissionDenied(
            f"{token} may only send {own_type} messages, not authorType "
            f'"{author_type}"; send authorType "{own_type}" or leave it out',
            details={"field": "authorType", "value": author_type},
        )
    if author_id is not None and own_id is not None and author_id != own_id:
        raise PermissionDenied(
            f"{token} may only send messages as its own {own_type} {own_id!r}, not as "
            f"{author_id!r}; send authorId {own_id!r} or leave it out",
            details={"field": "authorId", "value": author_id},
        )


def _require_agent_author(tx: Tx, org_id: str, author_id: str | None) -> None:
    """Raise ``ValidationFailed`` unless ``author_id`` is an agent of the organization.

    An API key has no agent of its own, so its agent messages must name one:
    a missing ``author_id`` is rejected too. An agent of another organization
    gets the same error as an unknown id, so the error reveals nothing about
    other tenants.
    """
    if author_id is None:
        raise ValidationFailed(
            "authorId is missing. An agent message sent with an API key needs the id of an "
            "agent of this organization (GET /api/v2/agents) as authorId, or send it with the "
            "agent's own token",
            field="authorId",
            value=None,
            expected="the id of an agent of this organization",
        )
    exists = tx.value(
        "SELECT 1 AS found FROM agents WHERE org_id = :org_id AND id = :id",
        org_id=org_id,
        id=author_id,
    )
    if not exists:
        raise ValidationFailed(
            f"authorId {quoted(author_id)} is not an agent of this organization; "
            "send the id of one of its agents (GET /api/v2/agents)",
            field="authorId",
            value=shown_text(author_id),
            expected="the id of an agent of this organization",
        )


def _require_conversation_customer(author_id: str, customer_id: str) -> None:
    """Raise ``ValidationFailed`` unless ``author_id`` is the conversation's customer."""
    if author_id != customer_id:
        raise ValidationFailed(
            f"authorId {quoted(author_id)} is not the customer of this conversation, "
            f"{quoted(customer_id)}; send authorId {quoted(customer_id)} or leave authorId out",
            field="authorId",
            value=shown_text(author_id),
            expected=customer_id,
        )


def effect_author(request: MessageCreate) -> str:
    """Return the author type whose rules apply, which for a private note is ``system``."""
    return "system" if request.private else request.author_type


def _announce(
    tx: Tx,
    org_id: str,
    message: Message,
    row: dict[str, Any],
    customer: CustomerSummary,
    effect: MessageEffect,
    now: int,
    positions: tuple[int | None, int | None] = (None, None),
) -> None:
    """Log the events of a stored message, given the conversation row as it was before it.

    The events carry the conversation as the REST API returns it after the
    message. ``positions`` are the positions reserved for its events, if any
    (see ``emit``).
    """
    conversation_id = message.conversation_id
    reopened = effect.status != row["status"]
    sequence = row["event_seq"] + 1
    after = {
        **row,
        "status": effect.status,
        "unread_count": effect.unread_count,
        "message_count": row["message_count"] + 1,
        "last_message_at": now,
        "updated_at": now,
    }
    changes: dict[str, Any] = {"status": effect.status}
    if reopened:
        after["resolved_at"] = None
    if effect.releases_assignee and row["assigned_agent_id"] is not None:
        after["assigned_agent_id"] = None
        changes["assignedAgentId"] = None
    conversation_snapshot = service.conversation_json(after, customer)
    emit(
        tx,
        org_id=org_id,
        type=records.MESSAGE_SENT,
        data={"message": message.model_dump(mode="json"), "conversation": conversation_snapshot},
        conversation_id=conversation_id,
        mailbox_id=row["mailbox_id"],
        sequence=sequence,
        created_at=now,
        position=positions[0],
    )
    if reopened:
        emit(
            tx,
            org_id=org_id,
            type=records.CONVERSATION_UPDATED,
            data={"conversation": conversation_snapshot, "changes": changes},
            conversation_id=conversation_id,
            mailbox_id=row["mailbox_id"],
            sequence=sequence + 1,
            created_at=now,
            position=positions[1],
        )
