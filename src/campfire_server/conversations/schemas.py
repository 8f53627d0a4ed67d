"""Conversation and message request and response models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from ..apimodel import ApiModel, ResponseModel
from ..validation import (
    CleanName,
    TrimmedId,
    Visible,
    check_content,
    check_metadata,
    reject_null,
)

Status = Literal["open", "pending", "resolved", "closed"]
Priority = Literal["low", "medium", "high", "urgent"]
AuthorType = Literal["customer", "agent", "ai", "system"]

CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=255), Visible, TrimmedId]
ShortId = Annotated[str, StringConstraints(min_length=1, max_length=64), Visible, TrimmedId]
Subject = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), Visible, CleanName
]

METADATA_DESCRIPTION = (
    "Free-form JSON object, at most 16 KiB and 5 levels deep. Keys that name URLs "
    "(referrer, url, website, *Url), at any depth, must hold absolute http(s) URLs "
    "or paths starting with a single /."
)


class ConversationCreate(ApiModel):
    customer_id: CustomerId | None = Field(
        default=None,
        description="Your own id for the customer; upserted. Required, except with a customer "
        "token, whose own customer it defaults to",
    )
    mailbox_id: ShortId | None = Field(
        default=None, description="Mailbox to file under; the organization's first when omitted"
    )
    subject: Subject | None = None
    priority: Priority = "medium"
    metadata: dict[str, Any] = Field(default_factory=dict, description=METADATA_DESCRIPTION)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "customerId": "customer_123",
                    "mailboxId": "mailbox_456",
                    "subject": "Billing Question",
                    "priority": "medium",
                    "metadata": {"source": "widget", "referrer": "https://example.com/pricing"},
                }
            ]
        }
    }

    @field_validator("metadata")
    @classmethod
    def _check_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_metadata(value)


class ConversationUpdate(ApiModel):
    status: Status | None = None
    priority: Priority | None = None
    assigned_agent_id: ShortId | None = None
    subject: Subject | None = None
    metadata: dict[str, Any] | None = Field(default=None, description=METADATA_DESCRIPTION)

    model_config = {
        "json_schema_extra": {
            "examples": [{"status": "resolved", "priority": "low", "assignedAgentId": "agent_123"}]
        }
    }

    # Only assignedAgentId and subject can be cleared; the others always hold a value.
    _not_null = field_validator("status", "priority", "metadata")(staticmethod(reject_null))

    @field_validator("metadata")
    @classmethod
    def _check_metadata(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else check_metadata(value)


class CustomerSummary(ResponseModel):
    """The customer of a conversation, as agents see it."""

    id: str
    name: str | None = Field(
        description="Name from the widget's customerName or a customer session; "
        "null when never given"
    )
    email: str | None = Field(
        description="Email from the widget's customerEmail or a customer session; "
        "null when never given"
    )


class Conversation(ResponseModel):
    id: str
    customer_id: str
    customer: CustomerSummary = Field(description="The customer's id, name and email")
    mailbox_id: str
    subject: str | None
    status: Status
    priority: Priority
    assigned_agent_id: str | None
    unread_count: int = Field(description="Customer messages no agent has replied to yet")
    message_count: int
    last_message_at: str | None
    resolved_at: str | None
    created_at: str
    updated_at: str
    metadata: dict[str, Any]


class MessageCreate(ApiModel):
    content: str = Field(description="1 to 10,000 Unicode code points")
    author_type: AuthorType = "customer"
    author_id: CustomerId | None = Field(
        default=None,
        description="Who wrote the message. A customer message names the conversation's "
        "customer and may leave it out, so the server fills it in. An agent message names an "
        "agent of the organization: an API key must send it, or gets 400 VALIDATION_ERROR with "
        "details.field authorId, while an agent's own token may leave it out and writes as "
        "that agent. AI and system messages need none.",
    )
    private: bool = Field(
        default=False,
        description="An internal note between agents, never shown to the customer. Only "
        'agent, ai and system messages can be private: a message with authorType "customer", '
        "the default, and private true is rejected with 400 VALIDATION_ERROR, and a customer "
        "token gets 403.",
    )
    metadata: dict[str, Any] = Field(default_factory=dict, description=METADATA_DESCRIPTION)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "content": "Hello, I need help with my billing",
                    "authorType": "customer",
                    "authorId": "customer_123",
                    "metadata": {"timestamp": "2024-01-15T10:30:00Z", "source": "widget"},
                }
            ]
        }
    }

    @field_validator("content")
    @classmethod
    def _check_content(cls, value: str) -> str:
        return check_content(value)

    @field_validator("metadata")
    @classmethod
    def _check_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_metadata(value)


class Message(ResponseModel):
    id: str
    conversation_id: str
    content: str
    author_type: AuthorType
    author_id: str | None
    created_at: str
    metadata: dict[str, Any]
    private: bool = False
