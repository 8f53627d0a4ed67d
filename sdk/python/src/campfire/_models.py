"""Typed response models: snake_case attributes over the API's camelCase JSON.

Fields the server adds after this SDK was released are kept (``extra``),
so an older SDK keeps working against a newer server. Fields are optional
where the server may leave them out (mock mode, older servers).
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

T = TypeVar("T")

ConversationStatus = Literal["open", "pending", "resolved", "closed"]
Priority = Literal["low", "medium", "high", "urgent"]
AuthorType = Literal["customer", "agent", "ai", "system"]


class CampfireModel(BaseModel):
    """Base of every model; ``to_dict()`` returns the camelCase JSON form."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="allow", protected_namespaces=()
    )

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_unset=True, mode="json")


class Pagination(CampfireModel):
    page: int | None = None
    limit: int | None = None
    total: int | None = None
    total_pages: int | None = None
    has_more: bool = False
    next_cursor: str | None = None


class Page(CampfireModel, Generic[T]):
    """One page of a list; iterate a resource's ``list()`` to get every item instead."""

    data: list[T]
    pagination: Pagination = Pagination()


class CustomerSummary(CampfireModel):
    """A conversation's customer, with the name and email a widget session set, if any."""

    id: str
    name: str | None = None
    email: str | None = None


class Conversation(CampfireModel):
    id: str
    customer_id: str | None = None
    customer: CustomerSummary | None = None
    mailbox_id: str | None = None
    subject: str | None = None
    status: ConversationStatus | str | None = None
    priority: Priority | str | None = None
    assigned_agent_id: str | None = None
    unread_count: int | None = None
    message_count: int | None = None
    last_message_at: str | None = None
    resolved_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    metadata: dict[str, Any] = {}


class Message(CampfireModel):
    id: str
    conversation_id: str | None = None
    content: str
    author_type: AuthorType | str | None = None
    author_id: str | None = None
    private: bool = False
    created_at: str | None = None
    metadata: dict[str, Any] = {}


class MailboxSettings(CampfireModel):
    auto_reply: bool | None = None
    handoff_threshold: float | None = None
    identity_verification: bool | None = None
    ai_instructions: str | None = None


class Mailbox(CampfireModel):
    id: str
    name: str | None = None
    settings: MailboxSettings = MailboxSettings()
    created_at: str | None = None
    updated_at: str | None = None


class Source(CampfireModel):
    """A knowledge-base article an AI answer is based on; ``relevance`` is in 0..1."""

    title: str | None = None
    url: str | None = None
    relevance: float | None = None
    article_id: str | None = None


class AIResponse(CampfireModel):
    content: str
    confidence: float | None = None
    sources: list[Source] = []
    should_handoff: bool = False
    handoff_reason: str | None = None
    response_time: float | None = None
    """Seconds the server spent generating the answer."""
    model: str | None = None


class Handoff(CampfireModel):
    id: str | None = None
    conversation_id: str | None = None
    status: str | None = None
    agent_id: str | None = None
    agent_name: str | None = None
    """Display name of the assigned agent, or None while no agent is assigned."""
    estimated_wait_time: float | None = None
    """Seconds until an agent is expected to pick the conversation up; 0 when assigned."""
    position: int | None = None
    priority: Priority | str | None = None
    required_skills: list[str] = []
    unroutable_skills: list[str] = []
    reason: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class QueuedHandoff(Handoff):
    """A handoff as the queue lists it, with the conversation fields an inbox shows."""

    mailbox_id: str | None = None
    customer_id: str | None = None
    subject: str | None = None
    waiting_seconds: int | None = None
    """Seconds since the handoff was requested."""


class Agent(CampfireModel):
    id: str
    name: str | None = None
    email: str | None = None
    skills: list[str] = []
    status: Literal["online", "away", "offline"] | str | None = None
    capacity: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Article(CampfireModel):
    id: str
    title: str | None = None
    content: str | None = None
    url: str | None = None
    tags: list[str] = []
    mailbox_ids: list[str] = []
    external_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class SearchHit(CampfireModel):
    """A knowledge-base search result; ``relevance`` is in 0..1."""

    id: str
    title: str | None = None
    url: str | None = None
    relevance: float | None = None
    snippet: str | None = None


class ImportResult(CampfireModel):
    """How many articles a bulk import created, changed or found already current."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    article_ids: list[str] = []


class Metric(CampfireModel):
    """One metric; its fields depend on the metric (average, p95, trend, definition...)."""

    trend: str | None = None
    average: float | None = None
    p95: float | None = None


class Metrics(CampfireModel):
    period: str | None = None
    metrics: dict[str, Metric] = {}


class Satisfaction(CampfireModel):
    conversation_id: str | None = None
    rating: int
    comment: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Webhook(CampfireModel):
    id: str
    url: str | None = None
    events: list[str] = []
    mailbox_ids: list[str] = []
    """The mailboxes whose events it receives; empty means every mailbox."""
    secret: str | None = None
    """The signing secret; the server returns it in full only on create and rotate."""
    enabled: bool | None = None
    disabled_reason: str | None = None
    failing_since: str | None = None
    previous_secret_expires_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class DeliveryAttempt(CampfireModel):
    attempt: int | None = None
    attempted_at: str | None = None
    status_code: int | None = None
    duration_ms: int | None = None
    response_excerpt: str | None = None
    error: str | None = None
    next_retry_at: str | None = None


class WebhookDelivery(CampfireModel):
    id: str
    webhook_id: str | None = None
    event_id: str | None = None
    """The event id, sent as ``webhook-id`` on every attempt."""
    event_type: str | None = None
    status: str | None = None
    attempt_count: int | None = None
    next_attempt_at: str | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: str | None = None
    created_at: str | None = None
    attempts: list[DeliveryAttempt] = []


class WebhookEvent(CampfireModel):
    """A verified webhook payload."""

    id: str
    type: str
    data: dict[str, Any] = {}
    timestamp: str | None = None
    sequence: int | None = None


class ApiKey(CampfireModel):
    id: str
    name: str | None = None
    kind: str | None = None
    role: str | None = None
    prefix: str | None = None
    mailbox_ids: list[str] = []
    allowed_origins: list[str] = []
    key: str | None = None
    """The whole key; the server returns it only when the key is created."""
    created_at: str | None = None
    last_used_at: str | None = None
    revoked_at: str | None = None


class RealtimeEvent(CampfireModel):
    """A frame received on the realtime connection."""

    type: str
    channel: str | None = None
    data: Any = None
    sequence: int | None = None
    """Position of the event within its conversation."""
    cursor: int | None = None
    """Position of the event in the organization's whole event log."""
    event_id: str | None = None
    timestamp: str | int | None = None
