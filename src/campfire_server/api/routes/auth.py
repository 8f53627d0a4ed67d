"""Tokens for agents and viewers: issued with an admin credential, or by
an agent's own sign-in to the inbox."""

from __future__ import annotations

import logging

import anyio
from fastapi import APIRouter, Request

from ...auth import login
from ...auth.permissions import narrow_mailboxes
from ...auth.principal import Principal
from ...auth.schemas import (
    IssuedToken,
    LoginRequest,
    LoginSession,
    SignedInAgent,
    TokenCreate,
)
from ...auth.tokens import issue_token
from ...clock import to_iso
from ...db.tx import Tx
from ...errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from ...json_values import as_sent
from ...organizations import service as organizations
from ...routing import service as routing_service
from ..deps import DbDep, SettingsDep, client_address, enforce_limit
from ..lean_route import LeanRoute
from ..route_access import TokenIssuer
from ..schemas import errors

log = logging.getLogger(__name__)

router = APIRouter(prefix="/auth", tags=["auth"], route_class=LeanRoute)


@router.post(
    "/login",
    response_model=LoginSession,
    responses=errors(400, 413, 415),
    operation_id="auth-login",
    summary="Sign an agent in with email and password",
    description="Returns a short-lived agent token (role `agent`, claim `aid`). Every failure "
    "answers 401 with the same message. Attempts are limited per client IP address.",
)
async def login_agent(
    body: LoginRequest, request: Request, db: DbDep, settings: SettingsDep
) -> LoginSession:
    address = client_address(request)
    decision = await request.app.state.rate_limits.hit_login(address)
    enforce_limit(request, decision)

    candidates = await db.read(lambda tx: login.find_candidates(tx, body.email, body.org_id))
    try:
        signed_in = await anyio.to_thread.run_sync(login.check_password, candidates, body.password)
    except AuthenticationFailed:
        log.info("sign-in failed", extra={"client_ip": address})
        raise
    if signed_in.needs_rehash:
        await db.write(lambda tx: login.store_rehash(tx, signed_in, body.password))

    token, expires = issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        org_id=signed_in.org_id,
        role="agent",
        subject=signed_in.agent_id,
        ttl_seconds=settings.inbox_session_ttl_seconds,
        extra={"aid": signed_in.agent_id, "agc": signed_in.created_at, "mbx": []},
    )
    log.info(
        "agent signed in",
        extra={"organization_id": signed_in.org_id, "agent_id": signed_in.agent_id},
    )
    return LoginSession(
        token=token,
        expires_at=to_iso(expires * 1000) or "",
        organization_id=signed_in.org_id,
        agent=SignedInAgent(
            id=signed_in.agent_id,
            name=signed_in.name,
            email=signed_in.email,
            status=signed_in.status,
        ),
    )


@router.post(
    "/tokens",
    status_code=201,
    response_model=IssuedToken,
    responses=errors(400, 403, 404, 413, 415),
    operation_id="auth-tokens-create",
    summary="Issue an agent or viewer token",
)
async def create_token(
    body: TokenCreate, principal: TokenIssuer, db: DbDep, settings: SettingsDep
) -> IssuedToken:
    if body.ttl_seconds > settings.token_max_ttl_seconds:
        raise ValidationFailed(
            f"ttlSeconds is {body.ttl_seconds}; the limit is {settings.token_max_ttl_seconds}",
            field="ttlSeconds",
            value=body.ttl_seconds,
            expected=f"60 to {settings.token_max_ttl_seconds} seconds",
        )
    subject = body.subject or body.agent_id
    if subject is None:
        raise ValidationFailed(
            "a token needs a subject; send subject or agentId",
            field="subject",
            value=None,
            expected="your id of the person who uses the token",
        )
    if body.role == "agent" and body.agent_id is not None:
        _check_agent_scope(principal, body.agent_id, body.mailbox_ids)
    mailbox_ids = narrow_mailboxes(principal, body.mailbox_ids)
    agent_created_at = await db.lookup(
        lambda tx: _check_references(tx, principal.org_id, body.agent_id, mailbox_ids)
    )
    extra: dict[str, object] = {"mbx": mailbox_ids}
    if body.agent_id is not None:
        extra["aid"] = body.agent_id
        extra["agc"] = agent_created_at
    token, expires = issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        org_id=principal.org_id,
        role=body.role,
        subject=subject,
        ttl_seconds=body.ttl_seconds,
        extra=extra,
    )
    return IssuedToken(
        token=token, role=body.role, subject=subject, expires_at=to_iso(expires * 1000) or ""
    )


def _check_agent_scope(principal: Principal, agent_id: str, mailbox_ids: list[str]) -> None:
    """Reject an agent token that would see fewer mailboxes than its agent is routed in.

    An open socket of an agent token sets its agent online, and routing then
    assigns that agent handoffs of every mailbox. A token limited to some
    mailboxes could neither read nor complete the others, so such a token is
    never issued, and a mailbox-limited caller issues no agent tokens with agentId.
    """
    if mailbox_ids:
        raise ValidationFailed(
            f"mailboxIds {', '.join(mailbox_ids)} cannot limit an agent token for agent "
            f"{as_sent(agent_id)}, because routing assigns that agent handoffs of every "
            "mailbox; leave out mailboxIds, or issue a viewer token to read some mailboxes",
            field="mailboxIds",
            value=list(mailbox_ids),
            expected="[] for an agent token with agentId",
        )
    if principal.mailbox_ids:
        raise PermissionDenied(
            f"this credential is limited to mailboxes {', '.join(principal.mailbox_ids)}, and "
            f"an agent token for agent {as_sent(agent_id)} would be routed handoffs of every "
            "mailbox; issue it with a credential without mailboxIds",
            details={"field": "agentId", "value": agent_id},
        )


def _check_references(
    tx: Tx, org_id: str, agent_id: str | None, mailbox_ids: list[str]
) -> int | None:
    """Return the agent's ``created_at``; raise ``NotFound`` for a missing agent or mailbox."""
    created_at = None
    if agent_id is not None:
        created_at = int(routing_service.get_agent_row(tx, org_id, agent_id)["created_at"])
    organizations.require_mailboxes(tx, org_id, mailbox_ids)
    return created_at
