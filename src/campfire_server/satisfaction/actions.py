"""Setting a conversation's satisfaction rating."""

from __future__ import annotations

import logging

from .. import clock
from ..auth.principal import Principal
from ..conversations import service as conversations
from ..db.tx import Tx
from ..errors import PermissionDenied
from ..events import records
from ..events.emit import emit
from . import service
from .schemas import Rating, RatingCreate

log = logging.getLogger(__name__)

# Credentials that speak for the integrator's server rather than for a person
# in the inbox, so they may record a rating that the customer gave elsewhere.
SERVER_CREDENTIALS = ("secret", "development")

RETURNED_COLUMNS = "conversation_id, rating, comment, created_at, updated_at"


def rate_conversation(
    tx: Tx, principal: Principal, conversation_id: str, request: RatingCreate
) -> tuple[Rating, bool]:
    """Create or replace the rating; return it and whether it was created.

    The first rating time stays in ``created_at`` and the latest change in
    ``updated_at``. Analytics place a rating by its conversation's creation
    time, so neither time moves it to another period. A request that repeats
    the stored rating and comment changes nothing and emits nothing.
    """
    if not principal.is_customer and principal.kind not in SERVER_CREDENTIALS:
        raise PermissionDenied(
            "a satisfaction rating comes from the customer (customer token) or from your "
            "server (secret API key); an inbox user's token may not set one"
        )
    row = conversations.find_conversation_row(tx, principal, conversation_id, lock=True)
    existing = service.find_rating_row(tx, conversation_id)
    if (
        existing is not None
        and existing["rating"] == request.rating
        and existing["comment"] == request.comment
    ):
        return service.rating_from_row(existing), False

    now = clock.now_ms()
    rated_by = f"{principal.kind}:{principal.subject}"[:300]
    if existing is None:
        stored = tx.one(
            "INSERT INTO satisfaction_ratings (conversation_id, org_id, rating, comment, "
            "rated_by, created_at, updated_at) VALUES (:conversation_id, :org_id, :rating, "
            f":comment, :rated_by, :now, :now) RETURNING {RETURNED_COLUMNS}",
            conversation_id=conversation_id,
            org_id=principal.org_id,
            rating=request.rating,
            comment=request.comment,
            rated_by=rated_by,
            now=now,
        )
    else:
        stored = tx.one(
            "UPDATE satisfaction_ratings SET rating = :rating, comment = :comment, "
            "rated_by = :rated_by, updated_at = :now WHERE conversation_id = :conversation_id "
            f"RETURNING {RETURNED_COLUMNS}",
            conversation_id=conversation_id,
            rating=request.rating,
            comment=request.comment,
            rated_by=rated_by,
            now=now,
        )

    rating = service.rating_from_row(stored)  # type: ignore[arg-type]
    emit(
        tx,
        org_id=principal.org_id,
        type=records.SATISFACTION_RATED,
        data={
            "rating": rating.model_dump(mode="json"),
            "previousRating": None if existing is None else existing["rating"],
            "conversation": conversations.conversation_view(tx, row).model_dump(mode="json"),
        },
        conversation_id=conversation_id,
        mailbox_id=row["mailbox_id"],
        created_at=now,
    )
    tx.log(
        log.info,
        "conversation rated",
        extra={"conversation_id": conversation_id, "rating": request.rating},
    )
    return rating, existing is None
