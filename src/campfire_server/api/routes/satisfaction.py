"""Satisfaction ratings of a conversation: set or replace, and read."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ...db import lock_order
from ...satisfaction import actions, service
from ...satisfaction.schemas import Rating, RatingCreate
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..locations import set_location
from ..route_access import ConversationReader, SatisfactionRater
from ..schemas import errors

router = APIRouter(
    prefix="/conversations/{conversation_id}/satisfaction",
    tags=["satisfaction"],
    route_class=LeanRoute,
)


@router.post(
    "",
    status_code=201,
    response_model=Rating,
    responses={
        200: {"model": Rating, "description": "An existing rating was replaced"},
        **errors(400, 403, 404, 413, 415),
    },
    operation_id="satisfaction-rate",
    summary="Rate a conversation 1 to 5; a later rating replaces the earlier one",
)
async def rate_conversation(
    conversation_id: str,
    body: RatingCreate,
    principal: SatisfactionRater,
    db: DbDep,
    response: Response,
) -> Rating:
    rating, created = await db.write(
        lambda tx: actions.rate_conversation(tx, principal, conversation_id, body),
        order_key=lock_order.conversation(conversation_id),
    )
    if created:
        set_location(response, "conversations", conversation_id, "satisfaction")
    else:
        response.status_code = 200
    return rating


@router.get(
    "",
    response_model=Rating,
    responses=errors(403, 404),
    operation_id="satisfaction-get",
    summary="Get the satisfaction rating of a conversation",
)
async def get_rating(conversation_id: str, principal: ConversationReader, db: DbDep) -> Rating:
    return await db.read(lambda tx: service.get_rating(tx, principal, conversation_id))
