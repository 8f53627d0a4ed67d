"""Request and response models of ``POST /api/v2/ai/generate-response``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from ..apimodel import ApiModel, ResponseModel
from ..validation import CustomerTier, PriorCount, TrimmedId, Visible, check_content


class GenerateContext(ApiModel):
    customer_tier: CustomerTier | None = None
    previous_interactions: PriorCount | None = None
    knowledge_base_enabled: bool = True


# Sent to ask for an AI answer to a customer message in a conversation.
class GenerateRequest(ApiModel):
    conversation_id: Annotated[
        str, StringConstraints(min_length=1, max_length=64), Visible, TrimmedId
    ]
    message_content: str = Field(description="The customer's message, 1 to 10,000 characters")
    context: GenerateContext = Field(default_factory=GenerateContext)
    draft: bool = Field(
        default=False,
        description="A suggested reply for an agent to edit: answered even while the "
        "conversation is handed off, and never sent to the customer",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "conversationId": "conv_0MfLhN2y8nQ3b1aXk5Tz7Wq0",
                    "messageContent": "How long does a refund take?",
                    "context": {"customerTier": "pro", "knowledgeBaseEnabled": True},
                }
            ]
        }
    }

    @field_validator("message_content")
    @classmethod
    def _check_content(cls, value: str) -> str:
        return check_content(value, field="messageContent")


class SourcePublic(ResponseModel):
    title: str
    url: str = Field(description="The article's http(s) URL, or /kb/{articleId}")
    relevance: float = Field(
        ge=0,
        le=1,
        description="The same value as GET /knowledge/search gives the article for this "
        "question, not scaled to the top hit",
    )


# Returned for every generated answer, including handoffs.
class GenerateResponse(ResponseModel):
    content: str
    confidence: float = Field(
        ge=0,
        le=1,
        description="The calibrated probability that the cited article answers the question. "
        "It is not on the relevance scale: relevance counts the question's words in an "
        "article, so a right article worded differently from the question can have a low "
        "relevance and a high confidence. A reply to small talk (a greeting, thanks, an "
        "acknowledgement or a farewell) cites nothing and has confidence 1",
    )
    sources: list[SourcePublic] = Field(
        description="The articles the confidence rests on: those the reply cites, or on a "
        "handoff those weighed with relevance at least 0.5. A handoff without any reports "
        "a confidence of at most 0.49"
    )
    should_handoff: bool
    handoff_reason: str | None = Field(
        description="low_confidence, requested_human, negative_sentiment, repeated_failure, "
        "out_of_scope or provider_failure; null when the AI answered"
    )
    response_time: float = Field(description="Seconds the engine took")
    model: str = Field(
        description="The provider and model that wrote the answer; handoff-policy for a "
        "handoff's acknowledgement and small-talk for a reply to small talk"
    )
