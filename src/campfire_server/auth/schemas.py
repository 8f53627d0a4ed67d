"""Request and response models of keys, tokens and widget sessions."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from ..apimodel import ApiModel, ResponseModel
from ..clock import to_iso
from ..validation import DisplayName, EmailAddress, TrimmedId, Visible

Name = DisplayName
MailboxId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"), TrimmedId]
CustomerId = Annotated[str, StringConstraints(min_length=1, max_length=255), Visible, TrimmedId]
ShortId = Annotated[str, StringConstraints(min_length=1, max_length=64), Visible, TrimmedId]
Origin = Annotated[str, StringConstraints(min_length=1, max_length=300)]


class KeyCreate(ApiModel):
    name: Name = "api key"
    kind: Literal["secret", "publishable"] = Field(
        default="secret", description="secret (server side) or publishable (widget, pk_...)"
    )
    role: Literal["admin", "agent", "viewer", "customer"] | None = Field(
        default=None, description="admin by default for secret keys; customer for publishable"
    )
    live: bool = Field(default=True, description="false makes an sk_test_/pk_test_ key")
    mailbox_ids: list[MailboxId] = Field(
        default_factory=list, max_length=100, description="Limit the key to these mailboxes"
    )
    allowed_origins: list[Origin] = Field(
        default_factory=list,
        max_length=50,
        description="Browser origins that may use a publishable key, e.g. https://shop.example",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "name": "shop widget",
                    "kind": "publishable",
                    "allowedOrigins": ["https://shop.example"],
                }
            ]
        }
    }


class ApiKey(ResponseModel):
    id: str
    name: str
    kind: str
    role: str
    prefix: str = Field(description="The key's first characters, to recognise it")
    mailbox_ids: list[str]
    allowed_origins: list[str]
    created_at: str
    last_used_at: str | None = None
    revoked_at: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ApiKey:
        """Build the API's view of a stored ``api_keys`` row: lists decoded, times in ISO 8601."""
        return cls(
            id=row["id"],
            name=row["name"],
            kind=row["kind"],
            role=row["role"],
            prefix=row["prefix"],
            mailbox_ids=json.loads(row["mailbox_ids"] or "[]"),
            allowed_origins=json.loads(row["allowed_origins"] or "[]"),
            created_at=to_iso(row["created_at"]) or "",
            last_used_at=to_iso(row["last_used_at"]),
            revoked_at=to_iso(row["revoked_at"]),
        )


class IssuedApiKey(ApiKey):
    key: str = Field(description="The whole key; shown only in this response")


class TokenCreate(ApiModel):
    role: Literal["agent", "viewer"]
    subject: Annotated[str, StringConstraints(min_length=1, max_length=255), Visible] | None = (
        Field(default=None, description="sub claim, e.g. your user id; defaults to the agent id")
    )
    agent_id: ShortId | None = Field(
        default=None, description="aid claim: the agent this token acts as"
    )
    mailbox_ids: list[MailboxId] = Field(
        default_factory=list,
        max_length=100,
        description="mbx claim: limit to these mailboxes. Not allowed on an agent token with "
        "agentId, because that agent is routed conversations of every mailbox",
    )
    ttl_seconds: int = Field(default=3600, ge=60, description="Lifetime in seconds")

    model_config = {
        "json_schema_extra": {
            "examples": [{"role": "agent", "agentId": "agent_alpha", "ttlSeconds": 3600}]
        }
    }


class IssuedToken(ResponseModel):
    token: str
    token_type: str = "Bearer"
    role: str
    subject: str
    expires_at: str


class WidgetSessionCreate(ApiModel):
    mailbox_id: MailboxId
    customer_id: CustomerId | None = Field(
        default=None, description="Your id of the signed-in visitor; omit for anonymous visitors"
    )
    customer_hash: Annotated[str, StringConstraints(max_length=128)] | None = Field(
        default=None, description="hex(HMAC-SHA256(identity secret, customerId))"
    )
    name: Annotated[str, StringConstraints(max_length=200)] | None = None
    email: EmailAddress | None = None

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "mailboxId": "mailbox_test_1",
                    "customerId": "customer_123",
                    "name": "Test Customer A",
                }
            ]
        }
    }


class WidgetSession(ResponseModel):
    token: str = Field(description="Customer token for the REST and WebSocket APIs")
    customer_id: str
    mailbox_id: str
    expires_at: str


class LoginRequest(ApiModel):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=320)]
    password: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    org_id: ShortId | None = Field(
        default=None,
        description="Needed only when the email belongs to agents of several organizations",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [{"email": "alex@example.com", "password": "correct horse battery staple"}]
        }
    }


class SignedInAgent(ResponseModel):
    id: str
    name: str
    email: str | None
    status: str


class LoginSession(ResponseModel):
    token: str = Field(description="An agent token (role agent, claim aid); send it as Bearer")
    token_type: str = "Bearer"
    expires_at: str
    organization_id: str
    agent: SignedInAgent
