"""The credentials that each API operation admits, declared on its route.

A handler takes its caller as one of the ``Annotated`` principals below,
whose dependency is a ``RouteAccess``. The same object enforces the check,
before the handler runs, and gives the OpenAPI document the operation's
security schemes (``openapi_security.py``), so the two cannot disagree.

Every credential is sent as ``Authorization: Bearer ...``, and the document
names one scheme per kind of credential:

- ``secretKey``: an ``sk_live_`` or ``sk_test_`` key, of role admin, agent or viewer;
- ``agentToken``: a JWT of role agent or viewer, from ``POST /auth/login``
  or ``POST /auth/tokens``, or of role admin, agent or viewer from the
  integrator's identity provider;
- ``widgetToken``: a customer JWT from ``POST /widget/session``;
- ``publishableKey``: a ``pk_`` key, which only opens widget sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from ..auth.permissions import POLICY, allowed, require
from ..auth.principal import Principal
from ..errors import PermissionDenied
from .deps import current_principal

# The security schemes in the order the document lists them, each with the
# roles that a credential of that kind may carry. Campfire issues agentToken
# JWTs of role agent or viewer only; an identity provider may issue admin ones.
SCHEME_ROLES: dict[str, frozenset[str]] = {
    "secretKey": frozenset({"admin", "agent", "viewer"}),
    "agentToken": frozenset({"admin", "agent", "viewer"}),
    "widgetToken": frozenset({"customer"}),
    "publishableKey": frozenset(),
}

# The name of each credential kind in a 403 message.
_SCHEME_NAMES = {
    "secretKey": "a secret API key",
    "agentToken": "an inbox user's token",
    "widgetToken": "a customer token",
    "publishableKey": "a publishable key",
}


def credential_scheme(principal: Principal) -> str:
    """Return the security scheme that ``principal``'s credential belongs to."""
    if principal.kind == "publishable":
        return "publishableKey"
    if principal.kind in ("secret", "development"):
        return "secretKey"
    return "widgetToken" if principal.role == "customer" else "agentToken"


@dataclass(frozen=True, slots=True)
class RouteAccess:
    """The callers that one operation admits: a role allowed one of ``actions``.

    ``schemes``, when set, further limits the credential kinds, such as a
    rating that an inbox user's token may not set. A route with no actions
    admits exactly the credential kinds in ``schemes``. ``denied`` replaces
    the 403 message for a credential kind outside ``schemes``.
    """

    actions: tuple[str, ...] = ()
    schemes: frozenset[str] | None = None
    denied: str | None = None

    def __post_init__(self) -> None:
        unknown = [action for action in self.actions if action not in POLICY]
        if unknown:
            raise KeyError(f"unknown actions {unknown}; add them to POLICY")
        if not self.actions and self.schemes is None:
            raise ValueError("a RouteAccess needs actions or schemes to admit anyone")

    def security_schemes(self) -> list[str]:
        """Return the security schemes that this access admits, in the document's order."""
        roles: frozenset[str] = frozenset().union(*(POLICY[action] for action in self.actions))
        found = []
        for scheme, scheme_roles in SCHEME_ROLES.items():
            if self.schemes is not None and scheme not in self.schemes:
                continue
            if self.actions and not roles & scheme_roles:
                continue
            found.append(scheme)
        return found

    def check(self, principal: Principal) -> None:
        """Raise ``PermissionDenied`` unless this access admits ``principal``."""
        if self.actions and not any(allowed(principal, action) for action in self.actions):
            if len(self.actions) == 1 or principal.kind == "publishable":
                require(principal, self.actions[0])
            raise PermissionDenied(
                f"the {principal.role} role may not perform any of {', '.join(self.actions)}",
                details={"role": principal.role, "action": list(self.actions)},
            )
        scheme = credential_scheme(principal)
        if self.schemes is not None and scheme not in self.schemes:
            accepted = " or ".join(
                _SCHEME_NAMES[name] for name in SCHEME_ROLES if name in self.schemes
            )
            raise PermissionDenied(
                self.denied
                or f"this operation accepts {accepted}, not {_SCHEME_NAMES[scheme]}; "
                "call it with one of those"
            )

    async def __call__(self, request: Request) -> Principal:
        principal = await current_principal(request)
        self.check(principal)
        return principal


def takes_principal(dependant: Any) -> bool:
    """Tell whether a route's ``dependant`` authenticates its caller.

    It does through a ``RouteAccess`` or the bare principal, directly or in
    a sub-dependency.
    """
    if dependant is None:
        return False
    return any(
        isinstance(sub.call, RouteAccess) or sub.call is current_principal or takes_principal(sub)
        for sub in dependant.dependencies
    )


def route_accesses(dependant: Any) -> tuple[RouteAccess, ...]:
    """Return every ``RouteAccess`` that a route's ``dependant`` depends on, directly or not."""
    if dependant is None:
        return ()
    found: list[RouteAccess] = []
    for sub in dependant.dependencies:
        if isinstance(sub.call, RouteAccess) and sub.call not in found:
            found.append(sub.call)
        found.extend(access for access in route_accesses(sub) if access not in found)
    return tuple(found)


async def check_route_access(request: Request, accesses: tuple[RouteAccess, ...]) -> None:
    """Authenticate the caller of ``request`` and raise unless each of ``accesses`` admits it.

    Raises ``AuthenticationFailed`` (401) or ``PermissionDenied`` (403), so
    a check of the request that would reject it with a 400 can run this first.
    A route without ``accesses`` takes no credential, so this checks nothing.
    """
    if not accesses:
        return
    principal = await current_principal(request)
    for route_access in accesses:
        route_access.check(principal)


def admits(*actions: str, schemes: frozenset[str] | None = None, denied: str | None = None) -> Any:
    """Return the handler parameter type of a caller that ``RouteAccess`` admits."""
    return Annotated[Principal, Depends(RouteAccess(actions, schemes, denied))]


ConversationReader = admits("conversations:read")
ConversationWriter = admits("conversations:write")
ConversationManager = admits("conversations:manage")
MessageReader = admits("messages:read")
MessageWriter = admits("messages:write")
MailboxReader = admits("mailboxes:read")
MailboxWriter = admits("mailboxes:write")
KnowledgeReader = admits("knowledge:read")
KnowledgeWriter = admits("knowledge:write")
AnswerGenerator = admits("ai:generate")
AgentReader = admits("agents:read")
AgentWriter = admits("agents:write")
# An agent token may change its own agent's status; the handler checks the rest.
AgentStatusOrWriter = admits("agents:status", "agents:write")
HandoffReader = admits("handoffs:read")
HandoffLister = admits("handoffs:list")
HandoffWriter = admits("handoffs:write")
EventReader = admits("events:read")
WebhookManager = admits("webhooks:manage")
KeyManager = admits("keys:manage")
TokenIssuer = admits("tokens:issue")
AnalyticsReader = admits("analytics:read")
SatisfactionRater = admits(
    "satisfaction:write",
    schemes=frozenset({"secretKey", "widgetToken"}),
    denied="a satisfaction rating comes from the customer (customer token) or from your "
    "server (secret API key); an inbox user's token may not set one",
)
WidgetKeyHolder = admits(
    schemes=frozenset({"publishableKey"}),
    denied="widget sessions are opened with a publishable key (pk_...); create one with "
    "POST /api/v2/keys and kind publishable",
)
