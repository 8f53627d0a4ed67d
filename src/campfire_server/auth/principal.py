"""The authenticated caller of one request or socket."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Role = Literal["admin", "agent", "viewer", "customer"]
CredentialKind = Literal["secret", "publishable", "token", "development"]

ROLES: tuple[Role, ...] = ("admin", "agent", "viewer", "customer")


@dataclass(frozen=True, slots=True)
class Principal:
    org_id: str
    role: Role
    kind: CredentialKind
    subject: str
    customer_id: str | None = None
    agent_id: str | None = None
    # The ``created_at`` (epoch ms) of the agent row a token was issued for, claim ``agc``.
    # None for keys and for tokens without the claim.
    agent_created_at: int | None = None
    # A token's ``iat`` claim in epoch seconds; None for keys and for tokens without it.
    issued_at: int | None = None
    mailbox_ids: tuple[str, ...] = field(default_factory=tuple)
    rate_limit_key: str = ""
    # Browser origins a publishable key may be used from.
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    # A token's ``exp`` claim in epoch seconds; None for keys, which do not expire.
    expires_at: int | None = None

    @property
    def is_customer(self) -> bool:
        return self.role == "customer"

    @property
    def key_id(self) -> str | None:
        """Return the id of the API key behind this principal, or None for tokens."""
        if self.kind in ("secret", "publishable"):
            return self.subject
        return None
