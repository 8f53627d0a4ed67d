"""Conversations: create, get, list and update."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from ...clock import from_iso
from ...conversations import actions, service
from ...conversations.schemas import (
    Conversation,
    ConversationCreate,
    ConversationUpdate,
    Priority,
    Status,
)
from ...db import lock_order
from ...errors import ValidationFailed, quoted
from ...pagination import page_request
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..locations import set_location
from ..query import PageCursor, PageLimit, PageNumber
from ..route_access import ConversationManager, ConversationReader, ConversationWriter
from ..schemas import Page, errors

router = APIRouter(prefix="/conversations", tags=["conversations"], route_class=LeanRoute)


def _timestamp(name: str, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return from_iso(value)
    except ValueError:
        raise ValidationFailed(
            f"{name} {quoted(value)} is not an ISO 8601 timestamp; send one such as "
            "2024-01-15T10:30:00Z",
            field=name,
            value=value,
            expected="an ISO 8601 timestamp such as 2024-01-15T10:30:00Z",
        ) from None


@router.post(
    "",
    status_code=201,
    response_model=Conversation,
    responses=errors(400, 403, 404, 409, 413, 415),
    operation_id="conversations-create",
    summary="Create a conversation",
)
async def create_conversation(
    body: ConversationCreate, principal: ConversationWriter, db: DbDep, response: Response
) -> Conversation:
    if body.customer_id is None:
        if not principal.is_customer:
            raise ValidationFailed(
                "customerId is missing; send customerId, your own id for the customer "
                "(only a customer token may leave it out)",
                field="customerId",
                value=None,
                expected="your own id for the customer",
            )
        body = body.model_copy(update={"customer_id": principal.customer_id})
    conversation = await db.write(
        lambda tx: actions.create_conversation(tx, principal, body),
        order_key=lock_order.customer(principal.org_id, body.customer_id or ""),
    )
    set_location(response, "conversations", conversation.id)
    return conversation


@router.get(
    "",
    response_model=Page[Conversation],
    responses=errors(400, 403),
    operation_id="conversations-list",
    summary="List conversations, newest first",
)
async def list_conversations(
    principal: ConversationReader,
    db: DbDep,
    page: PageNumber = 1,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    status: Status | None = None,
    priority: Priority | None = None,
    mailbox_id: Annotated[str | None, Query(alias="mailboxId", max_length=64)] = None,
    customer_id: Annotated[str | None, Query(alias="customerId", max_length=255)] = None,
    assigned_agent_id: Annotated[str | None, Query(alias="assignedAgentId", max_length=64)] = None,
    created_after: Annotated[str | None, Query(alias="createdAfter")] = None,
    created_before: Annotated[str | None, Query(alias="createdBefore")] = None,
) -> dict:
    if principal.is_customer:
        customer_id = principal.customer_id if customer_id in (None, principal.customer_id) else ""
    filters = service.ConversationFilters(
        status=status,
        priority=priority,
        mailbox_id=mailbox_id,
        customer_id=customer_id,
        assigned_agent_id=assigned_agent_id,
        created_after=_timestamp("createdAfter", created_after),
        created_before=_timestamp("createdBefore", created_before),
        scope_mailbox_ids=principal.mailbox_ids,
    )
    request = page_request(
        page, limit, cursor, list_key=f"{principal.org_id}:conversations:{filters!r}"
    )

    def read(tx):  # type: ignore[no-untyped-def]
        items, meta = service.list_conversations(tx, principal.org_id, filters, request)
        if principal.is_customer:
            items = service.without_private_notes(tx, principal.org_id, items)
        return items, meta

    items, meta = await db.read(read)
    return {"data": items, "pagination": meta}


@router.get(
    "/{conversation_id}",
    response_model=Conversation,
    responses=errors(403, 404),
    operation_id="conversations-get",
    summary="Get a conversation",
)
async def get_conversation(
    conversation_id: str, principal: ConversationReader, db: DbDep
) -> Conversation:

    def read(tx):  # type: ignore[no-untyped-def]
        row = service.find_conversation_row(tx, principal, conversation_id)
        conversation = service.conversation_view(tx, row)
        if principal.is_customer:
            [conversation] = service.without_private_notes(tx, principal.org_id, [conversation])
        return conversation

    if principal.is_customer:
        # Counting the messages scans, so it needs a reader's single snapshot.
        return await db.read(read)
    return await db.lookup(read)


@router.patch(
    "/{conversation_id}",
    response_model=Conversation,
    responses=errors(400, 403, 404, 409, 413, 415),
    operation_id="conversations-update",
    summary="Update status, priority, assignee, subject or metadata",
    description=(
        "Writes only the fields sent; of two PATCHes of one field the later one stays. The "
        "exception is an agent token that changes `assignedAgentId` while another agent is "
        "assigned, whether to its own agent (taking the conversation), to `null` (unassigning "
        "it) or to a third agent: that request is rejected with `409 CONFLICT`, whose "
        "`details.current` is the assigned agent, so of two agents taking one conversation "
        "only the first gets it. Admin tokens and API keys reassign and unassign without "
        "this check."
    ),
)
async def update_conversation(
    conversation_id: str, body: ConversationUpdate, principal: ConversationManager, db: DbDep
) -> Conversation:
    return await db.write(
        lambda tx: actions.update_conversation(tx, principal, conversation_id, body),
        order_key=actions.update_lock_key(principal.org_id, conversation_id, body),
    )
