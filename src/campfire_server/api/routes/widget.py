"""Widget sessions: exchange a publishable key for a short-lived customer token."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ...auth import widget
from ...auth.schemas import WidgetSession, WidgetSessionCreate
from ...auth.tokens import issue_token
from ...clock import to_iso
from ...db import lock_order
from ..deps import DbDep, SettingsDep, client_address, enforce_limit
from ..lean_route import LeanRoute
from ..route_access import WidgetKeyHolder
from ..schemas import errors

router = APIRouter(prefix="/widget", tags=["widget"], route_class=LeanRoute)


@router.post(
    "/session",
    status_code=201,
    response_model=WidgetSession,
    responses=errors(400, 403, 404, 413, 415),
    operation_id="widget-session-create",
    summary="Open a widget session with a publishable key",
    description="Send `Authorization: Bearer pk_...`. With identity verification on for the "
    "mailbox, `customerHash` must be the hex HMAC-SHA256 of `customerId` keyed with the "
    "mailbox's identity secret; otherwise the answer is 401. Without `customerId` the visitor "
    "is anonymous and gets a random customer id.",
)
async def create_widget_session(
    body: WidgetSessionCreate,
    principal: WidgetKeyHolder,
    db: DbDep,
    settings: SettingsDep,
    request: Request,
) -> WidgetSession:
    widget.check_origin(principal, request.headers.get("origin"))
    rate_limits = request.app.state.rate_limits
    decision = await rate_limits.hit_widget_session(principal.org_id, client_address(request))
    enforce_limit(request, decision)

    identity = await db.write(
        lambda tx: widget.open_session(tx, principal, body),
        order_key=lock_order.customer(principal.org_id, body.customer_id),
    )
    token, expires = issue_token(
        secret=settings.jwt_secret,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        org_id=principal.org_id,
        role="customer",
        subject=identity.customer_id,
        ttl_seconds=settings.widget_session_ttl_seconds,
        extra={
            "cid": identity.customer_id,
            "mbx": [identity.mailbox_id],
            "vrf": identity.verified,
        },
    )
    return WidgetSession(
        token=token,
        customer_id=identity.customer_id,
        mailbox_id=identity.mailbox_id,
        expires_at=to_iso(expires * 1000) or "",
    )
