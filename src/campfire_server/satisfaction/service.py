"""Queries over satisfaction ratings."""

from __future__ import annotations

from typing import Any

from ..auth.principal import Principal
from ..clock import to_iso
from ..conversations import service as conversations
from ..db.tx import Tx
from ..errors import NotFound
from .schemas import Rating


def rating_from_row(row: dict[str, Any]) -> Rating:
    return Rating(
        conversation_id=row["conversation_id"],
        rating=row["rating"],
        comment=row["comment"],
        created_at=to_iso(row["created_at"]),
        updated_at=to_iso(row["updated_at"]),
    )


def find_rating_row(tx: Tx, conversation_id: str) -> dict[str, Any] | None:
    return tx.one(
        "SELECT conversation_id, rating, comment, rated_by, created_at, updated_at "
        "FROM satisfaction_ratings WHERE conversation_id = :conversation_id",
        conversation_id=conversation_id,
    )


def get_rating(tx: Tx, principal: Principal, conversation_id: str) -> Rating:
    """Return the rating, or raise ``NotFound`` when the conversation is unrated or out of scope."""
    conversations.find_conversation_row(tx, principal, conversation_id)
    row = find_rating_row(tx, conversation_id)
    if row is None:
        raise NotFound(
            f"conversation {conversation_id!r} has no satisfaction rating yet",
            details={"field": "conversationId", "value": conversation_id},
        )
    return rating_from_row(row)
