"""Tokens for agents and viewers, issued with an admin credential."""

from __future__ import annotations

from fastapi import APIRouter

from ...auth.permissions import narrow_mailboxes, require
from ...auth.schemas import IssuedToken, TokenCreate
from ...auth.tokens import issue_token
from ...clock import to_iso
from ...errors import ValidationFailed
from ..deps import PrincipalDep, SettingsDep
from ..schemas import errors

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/tokens",
    status_code=201,
    response_model=IssuedToken,
    responses=errors(400, 403, 413, 415),
    operation_id="auth-tokens-create",
    summary="Issue an agent or viewer token",
)
async def create_token(
    body: TokenCreate, principal: PrincipalDep, settings: SettingsDep
) -> IssuedToken:
    require(principal, "tokens:issue")
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
    mailbox_ids = narrow_mailboxes(principal, body.mailbox_ids)
    extra: dict[str, object] = {"mbx": mailbox_ids}
    if body.agent_id is not None:
        extra["aid"] = body.agent_id
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
