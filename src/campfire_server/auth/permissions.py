"""Which role may do what, decided in this one place.

Every route checks its caller against an action before it reads or writes,
through the ``RouteAccess`` that it declares (``api/route_access.py``) or
with ``require(principal, action)``.
A role that lacks the action gets 403 ``AUTHORIZATION_ERROR``. Resources of
another organization, conversations of another customer and resources
outside a credential's mailboxes are filtered out by the lookups themselves
and answer 404, exactly like ids that do not exist (see
``conversations.service.find_conversation_row`` and ``auth.scope``).
"""

from __future__ import annotations

from ..errors import PermissionDenied
from .principal import Principal

_EVERYONE = frozenset({"admin", "agent", "viewer", "customer"})
_STAFF = frozenset({"admin", "agent", "viewer"})
_WRITERS = frozenset({"admin", "agent"})
_ADMIN = frozenset({"admin"})

# action -> roles allowed. Customers are further limited to their own
# conversations, and mailbox-scoped credentials to their mailboxes, by the
# queries themselves.
POLICY: dict[str, frozenset[str]] = {
    "conversations:read": _EVERYONE,
    "conversations:write": frozenset({"admin", "agent", "customer"}),
    "conversations:manage": _WRITERS,
    "messages:read": _EVERYONE,
    "messages:write": frozenset({"admin", "agent", "customer"}),
    "handoff:write": frozenset({"admin", "agent", "customer"}),
    "satisfaction:write": frozenset({"admin", "agent", "customer"}),
    "ai:generate": _WRITERS,
    "realtime:connect": _EVERYONE,
    # Typing frames are relayed to the conversation's other side, so only writers send them.
    "realtime:typing": frozenset({"admin", "agent", "customer"}),
    "events:read": _EVERYONE,
    "mailboxes:read": _STAFF,
    "mailboxes:write": _ADMIN,
    "agents:read": _STAFF,
    "agents:write": _ADMIN,
    "agents:status": _WRITERS,
    "knowledge:read": _STAFF,
    "knowledge:write": _ADMIN,
    "analytics:read": _STAFF,
    "webhooks:manage": _ADMIN,
    "keys:manage": _ADMIN,
    "tokens:issue": _ADMIN,
    "handoffs:read": frozenset({"admin", "agent", "viewer", "customer"}),
    "handoffs:list": _STAFF,
    "handoffs:write": frozenset({"admin", "agent"}),
    "realtime:mailbox": frozenset({"admin", "agent"}),
    "realtime:agent": frozenset({"admin", "agent"}),
}


def allowed(principal: Principal, action: str) -> bool:
    """Return whether ``principal`` may perform ``action``, without raising."""
    roles = POLICY.get(action)
    if roles is None:
        raise KeyError(f"unknown action {action!r}; add it to POLICY")
    return principal.kind != "publishable" and principal.role in roles


def require(principal: Principal, action: str) -> None:
    """Raise ``PermissionDenied`` unless ``principal``'s role may perform ``action``."""
    if allowed(principal, action):
        return
    if principal.kind == "publishable":
        raise PermissionDenied(
            "a publishable key can only open widget sessions; call the API with a secret key "
            "from your server, or with the customer token from POST /api/v2/widget/session"
        )
    raise PermissionDenied(
        f"the {principal.role} role may not perform {action}",
        details={"role": principal.role, "action": action},
    )


def narrow_mailboxes(principal: Principal, requested: list[str]) -> list[str]:
    """Return the mailboxes a credential issued by ``principal`` may be limited to.

    A mailbox-scoped caller cannot hand out wider access than its own:
    an empty request inherits its mailboxes, and any other mailbox is a 403.
    """
    if not principal.mailbox_ids:
        return list(requested)
    if not requested:
        return list(principal.mailbox_ids)
    outside = [mailbox for mailbox in requested if mailbox not in principal.mailbox_ids]
    if outside:
        raise PermissionDenied(
            f"this credential is limited to mailboxes {', '.join(principal.mailbox_ids)}, so it "
            f"cannot use {', '.join(outside)}; name only its mailboxes, or use a credential "
            "without mailboxIds",
            details={"field": "mailboxIds", "value": outside},
        )
    return list(requested)
