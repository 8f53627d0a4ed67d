"""Webhook request and response models."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ..apimodel import ApiModel, ResponseModel
from ..auth.schemas import MailboxId
from ..validation import reject_null

DeliveryStatus = Literal["pending", "delivering", "succeeded", "failed"]


class WebhookCreate(ApiModel):
    url: str = Field(description="Where to POST events: an http or https URL")
    events: list[str] = Field(
        description='Event types to receive, from the catalog, or ["*"] for all'
    )
    secret: str | None = Field(
        default=None,
        description="Signing secret; generated as whsec_<base64> when omitted and returned once",
    )
    mailbox_ids: list[MailboxId] = Field(
        default_factory=list,
        max_length=100,
        description="Receive only the events of these mailboxes; empty receives every "
        "mailbox's events. A mailbox-limited key's webhook gets its key's mailboxes.",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "url": "https://hooks.example.com/campfire",
                    "events": ["message.sent", "conversation.resolved"],
                }
            ]
        }
    }


class WebhookUpdate(ApiModel):
    url: str | None = None
    events: list[str] | None = None
    enabled: bool | None = Field(
        default=None, description="false pauses deliveries; true re-enables a disabled webhook"
    )

    model_config = {"json_schema_extra": {"examples": [{"enabled": False}]}}

    _not_null = field_validator("url", "events", "enabled")(staticmethod(reject_null))


class SecretRotation(ApiModel):
    secret: str | None = Field(
        default=None, description="The new secret; generated as whsec_<base64> when omitted"
    )

    model_config = {
        "json_schema_extra": {
            "examples": [{"secret": "whsec_MfLhN2y8nQ3b1aXk5Tz7Wq0RcMfLhN2y8nQ3b1aX"}]
        }
    }


class Webhook(ResponseModel):
    id: str
    url: str
    events: list[str]
    mailbox_ids: list[str] = Field(
        description="The mailboxes whose events it receives; empty means every mailbox"
    )
    secret: str = Field(
        description="The full secret in the create and rotate-secret responses only; "
        "masked (whsec_...abcd) everywhere else"
    )
    enabled: bool
    disabled_reason: str | None = Field(description="Why the webhook was disabled, if it was")
    failing_since: str | None = Field(description="Start of the current run of failed attempts")
    previous_secret_expires_at: str | None = Field(
        description="Until then deliveries are also signed with the secret before the rotation"
    )
    created_at: str
    updated_at: str


class Attempt(ResponseModel):
    attempt: int
    attempted_at: str
    status_code: int | None
    duration_ms: int
    response_excerpt: str | None = Field(description="The first 500 characters of the response")
    error: str | None
    next_retry_at: str | None = Field(description="When the next attempt is due, if any")


class Delivery(ResponseModel):
    id: str
    webhook_id: str
    event_id: str = Field(description="The event id, sent as webhook-id on every attempt")
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: str | None
    created_at: str
    attempts: list[Attempt]
