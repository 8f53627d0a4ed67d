"""API keys: create (the key is shown once), list and revoke."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from ...auth import keys
from ...auth.permissions import narrow_mailboxes
from ...auth.principal import Principal
from ...auth.schemas import ApiKey, IssuedApiKey, KeyCreate
from ...auth.scope import manages
from ...db.tx import Tx
from ...errors import NotFound, ValidationFailed
from ...organizations import service as organizations
from ...pagination import page_request
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..locations import set_location
from ..query import PageCursor, PageLimit, PageNumber
from ..route_access import KeyManager
from ..schemas import Page, errors

router = APIRouter(prefix="/keys", tags=["keys"], route_class=LeanRoute)


def _managed(principal: Principal, row: dict[str, Any]) -> bool:
    return manages(principal, json.loads(row["mailbox_ids"] or "[]"))


def _find_key(tx: Tx, principal: Principal, key_id: str) -> dict[str, Any]:
    """Return a key that ``principal`` may manage; one beyond its mailboxes is not found."""
    row = keys.get_key(tx, principal.org_id, key_id)
    if not _managed(principal, row):
        raise NotFound.for_id("API key", key_id, field="keyId")
    return row


def _create(tx: Tx, org_id: str, body: KeyCreate, mailbox_ids: list[str]) -> IssuedApiKey:
    organizations.require_mailboxes(tx, org_id, mailbox_ids)
    role = body.role or ("customer" if body.kind == "publishable" else "admin")
    if body.kind == "secret" and role == "customer":
        raise ValidationFailed(
            "a secret key cannot have the customer role; customers use widget sessions",
            field="role",
            value=role,
            expected="admin, agent or viewer",
        )
    if body.kind == "secret" and body.allowed_origins:
        raise ValidationFailed(
            "allowedOrigins applies to publishable keys only; secret keys never go to browsers",
            field="allowedOrigins",
            value=body.allowed_origins,
            expected="an empty list for a secret key",
        )
    issued = keys.create_key(
        tx,
        org_id=org_id,
        name=body.name,
        kind=body.kind,
        role=role,
        live=body.live,
        mailbox_ids=mailbox_ids,
        allowed_origins=body.allowed_origins,
    )
    row = tx.one(f"SELECT {keys.KEY_COLUMNS} FROM api_keys WHERE id = :id", id=issued.id)
    assert row is not None
    return IssuedApiKey(**ApiKey.from_row(row).model_dump(), key=issued.key)


@router.post(
    "",
    status_code=201,
    response_model=IssuedApiKey,
    responses=errors(400, 403, 404, 413, 415),
    operation_id="keys-create",
    summary="Create an API key; the whole key is in this response only",
)
async def create_key(
    body: KeyCreate, principal: KeyManager, db: DbDep, request: Request, response: Response
) -> IssuedApiKey:
    mailbox_ids = narrow_mailboxes(principal, body.mailbox_ids)
    origins = request.app.state.origins

    def work(tx: Tx) -> IssuedApiKey:
        issued = _create(tx, principal.org_id, body, mailbox_ids)
        tx.after_commit(origins.invalidate)
        return issued

    issued = await db.write(work)
    set_location(response, "keys", issued.id)
    response.headers["Cache-Control"] = "no-store"
    return issued


@router.get(
    "",
    response_model=Page[ApiKey],
    responses=errors(400, 403),
    operation_id="keys-list",
    summary="List API keys, oldest first, never their secret part",
)
async def list_keys(
    principal: KeyManager,
    db: DbDep,
    page: PageNumber = 1,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> dict:
    request = page_request(page, limit, cursor, list_key=f"{principal.org_id}:keys")
    rows, meta = await db.read(lambda tx: keys.list_managed_keys(tx, principal, request))
    return {"data": [ApiKey.from_row(row) for row in rows], "pagination": meta}


@router.get(
    "/{key_id}",
    response_model=ApiKey,
    responses=errors(403, 404),
    operation_id="keys-get",
    summary="Get an API key, never its secret part",
)
async def get_key(key_id: str, principal: KeyManager, db: DbDep) -> ApiKey:
    row = await db.lookup(lambda tx: _find_key(tx, principal, key_id))
    return ApiKey.from_row(row)


@router.delete(
    "/{key_id}",
    status_code=204,
    responses=errors(403, 404),
    operation_id="keys-revoke",
    summary="Revoke an API key at once",
)
async def revoke_key(key_id: str, principal: KeyManager, db: DbDep, request: Request) -> Response:
    state = request.app.state

    def work(tx: Tx) -> None:
        _find_key(tx, principal, key_id)
        keys.revoke_key(tx, org_id=principal.org_id, key_id=key_id)
        # The realtime broker carries the revocation to every process, which
        # drops its cached copy and closes the key's sockets. A process the
        # broker does not reach drops the copy within the cache's lifetime (30 s).
        tx.after_commit(state.key_cache.clear)
        tx.after_commit(state.origins.invalidate)
        realtime = getattr(state, "realtime", None)
        if realtime is not None:
            tx.after_commit(lambda: realtime.publish_key_revoked(principal.org_id, key_id))

    await db.write(work)
    return Response(status_code=204)
