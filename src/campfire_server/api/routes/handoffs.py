"""Handoff of a conversation from the AI to a person."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import Field

from ... import clock
from ...db import lock_order
from ...pagination import page_request
from ...routing import actions, service
from ...routing.schemas import Handoff, HandoffCreate, HandoffStatus, QueuedHandoff
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..locations import set_location
from ..query import PageCursor, PageNumber, QueryInt
from ..route_access import HandoffLister, HandoffReader, HandoffWriter
from ..schemas import Page, errors

router = APIRouter(
    prefix="/conversations/{conversation_id}/handoff", tags=["handoffs"], route_class=LeanRoute
)
queue_router = APIRouter(prefix="/handoffs", tags=["handoffs"], route_class=LeanRoute)


class HandoffList(Page[QueuedHandoff]):
    has_more: bool = Field(
        description="Deprecated copy of pagination.hasMore, kept for existing clients"
    )


# The queue keeps its larger page, 1 to 200 with 100 by default, from before
# it had a cursor, so an inbox still lists a whole busy queue in one request.
MAX_QUEUE_LIMIT = 200


@queue_router.get(
    "",
    response_model=HandoffList,
    responses=errors(400, 403),
    operation_id="handoffs-list",
    summary="List handoffs in queue order (by priority, then oldest first) or creation order",
)
async def list_handoffs(
    principal: HandoffLister,
    db: DbDep,
    status: Annotated[list[HandoffStatus] | None, Query()] = None,
    mailbox_id: Annotated[str | None, Query(alias="mailboxId", max_length=64)] = None,
    page: PageNumber = 1,
    limit: Annotated[QueryInt, Query(ge=1, le=MAX_QUEUE_LIMIT)] = 100,
    cursor: PageCursor = None,
    order: Annotated[
        Literal["queue", "created"],
        Query(
            description="queue: by priority, then oldest first; a handoff returned to the "
            "queue, or a new one ahead of the cursor, can be listed twice or missed by a "
            "cursor walk. created: oldest first by creation time, which never changes, so a "
            "cursor walk lists each matching handoff once"
        ),
    ] = "queue",
) -> HandoffList:
    statuses = sorted(set(status or ["queued"]))
    by_creation = order == service.CREATED_ORDER
    request = page_request(
        page,
        limit,
        cursor,
        list_key=f"{principal.org_id}:handoffs:{','.join(statuses)}:{mailbox_id or ''}"
        + (":created" if by_creation else ""),
        max_limit=MAX_QUEUE_LIMIT,
        cursor_shape=(
            service.HANDOFF_CREATED_CURSOR_SHAPE if by_creation else service.HANDOFF_CURSOR_SHAPE
        ),
    )
    items, meta = await db.read(
        lambda tx: service.list_handoffs(
            tx,
            principal.org_id,
            statuses=statuses,
            mailbox_id=mailbox_id,
            scope_mailbox_ids=principal.mailbox_ids,
            request=request,
            now_ms=clock.now_ms(),
            order=order,
        )
    )
    return HandoffList.model_validate(
        {"data": items, "pagination": meta, "hasMore": meta["hasMore"]}
    )


@router.post(
    "",
    status_code=201,
    response_model=Handoff,
    responses={
        200: {"model": Handoff, "description": "The conversation's open handoff, unchanged"},
        **errors(400, 403, 404, 409, 413, 415),
    },
    operation_id="handoffs-create",
    summary="Hand the conversation to a person: assign an agent or queue it",
)
async def request_handoff(
    conversation_id: str,
    body: HandoffCreate,
    principal: HandoffWriter,
    db: DbDep,
    response: Response,
) -> Handoff:
    handoff, created = await db.write(
        lambda tx: actions.open_handoff(
            tx,
            org_id=principal.org_id,
            conversation_id=conversation_id,
            reason=body.reason,
            priority=body.priority,
            required_skills=body.required_skills,
            context=body.context.as_stored(),
            source="api",
            mailbox_ids=principal.mailbox_ids,
        ),
        order_key=lock_order.routing(principal.org_id),
    )
    if created:
        set_location(response, "conversations", conversation_id, "handoff")
    else:
        response.status_code = 200
    return handoff


@router.get(
    "",
    response_model=Handoff,
    responses=errors(403, 404),
    operation_id="handoffs-get",
    summary="Get the conversation's latest handoff",
)
async def get_handoff(conversation_id: str, principal: HandoffReader, db: DbDep) -> Handoff:
    handoff = await db.read(
        lambda tx: actions.get_handoff(
            tx,
            principal.org_id,
            conversation_id,
            customer_id=principal.customer_id,
            mailbox_ids=principal.mailbox_ids,
        )
    )
    if principal.is_customer:
        # The reason and context are written for agents, not for the customer.
        handoff = handoff.model_copy(update={"reason": None, "context": {}})
    return handoff


@router.post(
    "/complete",
    response_model=Handoff,
    responses=errors(403, 404, 409),
    operation_id="handoffs-complete",
    description=(
        "Unassigns the conversation. An agent token gets `409 CONFLICT` while another agent "
        "is assigned, with that agent in `details.current`. Admin tokens and API keys "
        "complete without this check."
    ),
    summary="Finish the assigned handoff; the agent is freed and the AI answers again",
)
async def complete_handoff(conversation_id: str, principal: HandoffWriter, db: DbDep) -> Handoff:
    return await db.write(
        lambda tx: actions.complete_handoff(
            tx,
            org_id=principal.org_id,
            conversation_id=conversation_id,
            mailbox_ids=principal.mailbox_ids,
            principal=principal,
        ),
        order_key=lock_order.routing(principal.org_id),
    )


@router.post(
    "/cancel",
    response_model=Handoff,
    responses=errors(403, 404, 409),
    operation_id="handoffs-cancel",
    description=(
        "Unassigns the conversation. An agent token gets `409 CONFLICT` while another agent "
        "is assigned, with that agent in `details.current`. Admin tokens and API keys "
        "cancel without this check."
    ),
    summary="Hand the conversation back to the AI",
)
async def cancel_handoff(conversation_id: str, principal: HandoffWriter, db: DbDep) -> Handoff:
    return await db.write(
        lambda tx: actions.cancel_handoff(
            tx,
            org_id=principal.org_id,
            conversation_id=conversation_id,
            mailbox_ids=principal.mailbox_ids,
            principal=principal,
        ),
        order_key=lock_order.routing(principal.org_id),
    )
