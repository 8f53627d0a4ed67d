"""Which role may do what, decided in this one place."""

from __future__ import annotations

from ..errors import PermissionDenied
from .principal import Principal

# action -> roles allowed. Customers are further limited to their own
# conversations by the queries themselves (see conversations.service).
POLICY: dict[str, frozenset[str]] = {
    "conversations:read": frozenset({"admin", "agent", "viewer", "customer"}),
    "conversations:write": frozenset({"admin", "agent", "customer"}),
    "conversations:manage": frozenset({"admin", "agent"}),
    "messages:read": frozenset({"admin", "agent", "viewer", "customer"}),
    "messages:write": frozenset({"admin", "agent", "customer"}),
    "mailboxes:read": frozenset({"admin", "agent", "viewer"}),
    "mailboxes:write": frozenset({"admin"}),
    "keys:manage": frozenset({"admin"}),
    "webhooks:manage": frozenset({"admin"}),
    "events:read": frozenset({"admin", "agent", "viewer", "customer"}),
    "knowledge:read": frozenset({"admin", "agent", "viewer"}),
    "knowledge:write": frozenset({"admin"}),
    "ai:generate": frozenset({"admin", "agent", "customer"}),
}


def require(principal: Principal, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``principal``'s role may perform ``action``."""
    allowed = POLICY.get(action)
    if allowed is None:
        raise KeyError(f"unknown action {action!r}; add it to POLICY")
    if principal.kind == "publishable":
        raise PermissionDenied(
            "a publishable key can only open widget sessions; call the API with a secret key "
            "from your server, or with the customer token from POST /api/v2/widget/session"
        )
    if principal.role not in allowed:
        raise PermissionDenied(
            f"the {principal.role} role may not perform {action}",
            details={"role": principal.role, "action": action},
        )
