"""Messages of a conversation: send and list."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from ...conversations import actions, service
from ...conversations.schemas import Message, MessageCreate
from ...db import lock_order
from ...pagination import page_request
from ..deps import DbDep, enforce_limit
from ..lean_route import LeanRoute
from ..locations import set_location
from ..query import PageCursor, PageLimit, PageNumber
from ..route_access import MessageReader, MessageWriter
from ..schemas import Page, errors

router = APIRouter(
    prefix="/conversations/{conversation_id}/messages", tags=["messages"], route_class=LeanRoute
)


@router.post(
    "",
    status_code=201,
    response_model=Message,
    responses=errors(400, 403, 404, 409, 413, 415),
    operation_id="messages-create",
    summary="Send a message",
)
async def create_message(
    conversation_id: str,
    body: MessageCreate,
    principal: MessageWriter,
    db: DbDep,
    request: Request,
    response: Response,
) -> Message:
    rate_limits = request.app.state.rate_limits
    enforce_limit(request, await rate_limits.hit_message(principal.org_id, conversation_id))
    message = await db.write(
        lambda tx: actions.send_message(tx, principal, conversation_id, body, whole_work=True),
        order_key=lock_order.conversation(conversation_id),
    )
    set_location(response, "conversations", conversation_id, "messages", message.id)
    return message


@router.get(
    "",
    response_model=Page[Message],
    responses=errors(400, 403, 404),
    operation_id="messages-list",
    summary="List messages, oldest first",
)
async def list_messages(
    conversation_id: str,
    principal: MessageReader,
    db: DbDep,
    page: PageNumber = 1,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> dict:
    # A cursor of an earlier version carries the last message's id, not its
    # seq; list_messages finds the seq, so such a cursor still continues.
    request = page_request(
        page,
        limit,
        cursor,
        list_key=f"{principal.org_id}:messages:{conversation_id}",
        key_types=(int, str),
    )
    items, meta = await db.read(
        lambda tx: service.list_messages(
            tx,
            principal.org_id,
            conversation_id,
            request,
            customer_id=principal.customer_id,
            mailbox_ids=principal.mailbox_ids,
            include_private=not principal.is_customer,
        )
    )
    return {"data": items, "pagination": meta}


@router.get(
    "/{message_id}",
    response_model=Message,
    responses=errors(403, 404),
    operation_id="messages-get",
    summary="Get a message",
)
async def get_message(
    conversation_id: str, message_id: str, principal: MessageReader, db: DbDep
) -> Message:
    return await db.lookup(
        lambda tx: service.get_message(
            tx,
            principal.org_id,
            conversation_id,
            message_id,
            customer_id=principal.customer_id,
            mailbox_ids=principal.mailbox_ids,
            include_private=not principal.is_customer,
        )
    )
