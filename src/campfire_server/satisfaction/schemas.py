"""Satisfaction rating request and response models."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator

from ..apimodel import ApiModel, ResponseModel
from ..errors import ValidationFailed
from ..validation import find_bad_text, has_visible_character

MAX_COMMENT_CHARACTERS = 2_000


class RatingCreate(ApiModel):
    rating: Annotated[int, Field(strict=True, ge=1, le=5, description="1 (worst) to 5 (best)")]
    comment: Annotated[
        str | None,
        Field(max_length=MAX_COMMENT_CHARACTERS, description="Optional free text"),
    ] = None

    model_config = {"json_schema_extra": {"examples": [{"rating": 5, "comment": "Quick help"}]}}

    @field_validator("comment")
    @classmethod
    def _check_comment(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = find_bad_text(value, "comment")
        if found:
            raise ValidationFailed(
                f"comment contains characters that cannot be stored; remove them and send "
                f"{found[1]}",
                field="comment",
                value=None,
                expected=found[1],
            )
        return value if has_visible_character(value) else None


class Rating(ResponseModel):
    conversation_id: str
    rating: int
    comment: str | None
    created_at: str = Field(description="When the conversation was first rated")
    updated_at: str = Field(description="When the rating last changed")
