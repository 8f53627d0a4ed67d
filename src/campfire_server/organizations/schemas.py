"""Mailbox request and response models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StringConstraints, field_validator

from ..apimodel import ApiModel, ResponseModel
from ..validation import DisplayName, OrNone, TrimmedId, reject_null

MailboxId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"), TrimmedId]
IdentitySecret = Annotated[
    str, StringConstraints(min_length=16, max_length=255, pattern=r"^[\x21-\x7e]+$")
]


class OrganizationCreate(ApiModel):
    """A new organization: its name, checked as the names of mailboxes and agents are."""

    # Checked as a mailbox id is: it appears in URLs, logs and Redis channel names.
    id: MailboxId | None = None
    name: DisplayName


class MailboxSettings(ApiModel):
    """Per-mailbox behaviour; every field is optional and has a default."""

    auto_reply: bool = Field(default=False, description="Answer customer messages with AI")
    handoff_threshold: float = Field(
        default=0.6, ge=0.0, le=1.0, description="Hand off when AI confidence is below this"
    )
    identity_verification: bool = Field(
        default=False, description="Require customerHash for widget sessions"
    )
    ai_instructions: Annotated[str | None, OrNone] = Field(
        default=None, max_length=4000, description="Extra guidance for the AI's tone"
    )


class MailboxCreate(ApiModel):
    id: MailboxId | None = Field(
        default=None, description="Your own id for the mailbox; generated when omitted"
    )
    name: DisplayName
    settings: MailboxSettings = Field(default_factory=MailboxSettings)
    identity_secret: IdentitySecret | None = Field(
        default=None,
        description="Key of the customerHash HMAC (16 to 255 printable ASCII characters); "
        "never returned, only its last four characters",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "mailbox_billing",
                    "name": "Billing",
                    "settings": {"autoReply": True, "handoffThreshold": 0.6},
                }
            ]
        }
    }


class MailboxUpdate(ApiModel):
    name: DisplayName | None = None
    settings: dict[str, Any] | None = None
    identity_secret: IdentitySecret | None = Field(
        default=None, description="Set or replace the identity secret; null removes it"
    )

    model_config = {
        "json_schema_extra": {"examples": [{"name": "Billing", "settings": {"autoReply": False}}]}
    }

    # A mailbox always has a name and settings, so only identitySecret can be cleared.
    _not_null = field_validator("name", "settings")(staticmethod(reject_null))

    @field_validator("settings")
    @classmethod
    def _check_settings(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None:
            MailboxSettings.model_validate(value)
        return value


class Mailbox(ResponseModel):
    id: str
    name: str
    settings: MailboxSettings
    identity_secret_hint: str | None = Field(
        default=None, description="Last four characters of the identity secret, if one is set"
    )
    created_at: str
    updated_at: str
