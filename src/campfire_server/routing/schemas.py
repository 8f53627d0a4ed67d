"""Agent and handoff request and response models."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator

from ..apimodel import ApiModel, ResponseModel
from ..auth.passwords import MAX_LENGTH as PASSWORD_MAX_LENGTH
from ..auth.passwords import MIN_LENGTH as PASSWORD_MIN_LENGTH
from ..conversations.schemas import CustomerSummary
from ..validation import (
    CustomerTier,
    DisplayName,
    EmailAddress,
    PriorCount,
    TrimmedId,
    Visible,
    check_metadata,
)
from .rules import MAX_SKILLS, normalise_skills

AgentStatus = Literal["online", "away", "offline"]
Priority = Literal["low", "medium", "high", "urgent"]
HandoffStatus = Literal["queued", "assigned", "completed", "cancelled"]

AgentId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$"), TrimmedId]
Name = DisplayName
Email = EmailAddress
Capacity = Annotated[int, Field(ge=0, le=1000)]
Password = Annotated[
    str, StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=PASSWORD_MAX_LENGTH)
]
PASSWORD_DESCRIPTION = (
    f"The agent's inbox sign-in password, {PASSWORD_MIN_LENGTH} to {PASSWORD_MAX_LENGTH} "
    "characters; stored only as an Argon2id hash and never returned"
)

SKILLS_DESCRIPTION = (
    f"Up to {MAX_SKILLS} skill names; compared case-insensitively, so they are stored lower-cased"
)


class AgentCreate(ApiModel):
    id: AgentId | None = Field(
        default=None,
        description="Your own id for the agent, such as agent_alpha; agt_... if omitted",
    )
    name: Name
    email: Email | None = None
    skills: list[str] = Field(default_factory=list, description=SKILLS_DESCRIPTION)
    status: AgentStatus = "offline"
    capacity: Capacity = Field(default=5, description="Open conversations the agent can hold")
    password: Password | None = Field(default=None, description=PASSWORD_DESCRIPTION)

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "id": "agent_alpha",
                    "name": "Alex Agent",
                    "email": "alex@example.com",
                    "skills": ["billing"],
                    "status": "online",
                    "capacity": 4,
                }
            ]
        }
    }

    @field_validator("skills")
    @classmethod
    def _check_skills(cls, value: list[str]) -> list[str]:
        return normalise_skills(value, field="skills")


class AgentUpdate(ApiModel):
    status: AgentStatus | None = None
    capacity: Capacity | None = None
    skills: list[str] | None = Field(default=None, description=SKILLS_DESCRIPTION)
    name: Name | None = None
    email: Email | None = None
    password: Password | None = Field(default=None, description=PASSWORD_DESCRIPTION)

    model_config = {
        "json_schema_extra": {
            "examples": [{"status": "online", "capacity": 4, "skills": ["billing"]}]
        }
    }

    @field_validator("skills")
    @classmethod
    def _check_skills(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else normalise_skills(value, field="skills")


class Agent(ResponseModel):
    id: str
    name: str
    email: str | None
    skills: list[str]
    status: AgentStatus
    capacity: int
    has_password: bool = Field(
        default=False, description="Whether the agent can sign in to the inbox"
    )
    open_assignments: int = Field(description="Open or pending conversations assigned to the agent")
    idle_since: str | None = Field(description="The later of coming online and the last assignment")
    last_assigned_at: str | None
    created_at: str
    updated_at: str


class CustomerInfo(ApiModel):
    """The customer as the caller describes them; other keys are kept as sent."""

    name: Name | None = None
    email: EmailAddress | None = None
    tier: CustomerTier | None = None

    model_config = {"extra": "allow"}


class HandoffContext(ApiModel):
    """The context an agent reads: named fields checked as on other routes, other keys kept."""

    customer_info: CustomerInfo | None = None
    issue_type: Annotated[str, StringConstraints(max_length=64)] | None = None
    previous_attempts: PriorCount | None = Field(
        default=None, description="How often the customer tried before; 0 to 1,000,000"
    )

    model_config = {"extra": "allow"}

    def as_stored(self) -> dict[str, Any]:
        """Return the context as a JSON object with the keys the caller sent."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class HandoffCreate(ApiModel):
    reason: Annotated[str, StringConstraints(max_length=1000), Visible] | None = None
    priority: Priority = "medium"
    required_skills: list[str] = Field(default_factory=list, description=SKILLS_DESCRIPTION)
    context: HandoffContext = Field(
        default_factory=HandoffContext,
        description="What the agent should know; a JSON object of at most 16 KiB and 5 levels",
    )

    model_config = {
        "json_schema_extra": {
            "examples": [
                {
                    "reason": "Customer requested human assistance",
                    "priority": "medium",
                    "requiredSkills": ["billing", "enterprise"],
                    "context": {
                        "customerInfo": {"name": "John Doe", "tier": "enterprise"},
                        "issueType": "billing",
                        "previousAttempts": 2,
                    },
                }
            ]
        }
    }

    @field_validator("required_skills")
    @classmethod
    def _check_skills(cls, value: list[str]) -> list[str]:
        return normalise_skills(value)

    @field_validator("context", mode="before")
    @classmethod
    def _check_context(cls, value: Any) -> Any:
        # The size, depth and link rules apply to the JSON as sent, before the
        # named fields are checked. A non-object is left for the type check.
        return check_metadata(value, field="context") if isinstance(value, dict) else value


class Handoff(ResponseModel):
    id: str
    conversation_id: str
    status: HandoffStatus
    agent_id: str | None
    agent_name: str | None = Field(
        default=None,
        description="Display name of the assigned agent, so the widget can name them; "
        "null while no agent is assigned",
    )
    estimated_wait_time: int | None = Field(
        description="Seconds until an agent is expected: 0 once assigned, null when unknown"
    )
    position: int | None = Field(
        description="1-based place among the queued handoffs competing for the same agents; "
        "0 once assigned, null once finished"
    )
    priority: Priority
    required_skills: list[str]
    unroutable_skills: list[str] = Field(description="Required skills no agent has")
    reason: str | None
    context: dict[str, Any]
    created_at: str
    assigned_at: str | None
    completed_at: str | None


class QueuedHandoff(Handoff):
    """A handoff with the conversation fields an inbox lists it by."""

    mailbox_id: str
    customer_id: str
    customer: CustomerSummary = Field(description="The customer's id, name and email")
    subject: str | None
    waiting_seconds: int = Field(description="Seconds since the handoff was requested")
