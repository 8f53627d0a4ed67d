"""Mailboxes: the inboxes conversations are filed under."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ...auth.scope import require_unlimited
from ...db.tx import Tx
from ...organizations import actions, service
from ...organizations.schemas import Mailbox, MailboxCreate, MailboxUpdate
from ...pagination import page_request
from ..deps import DbDep
from ..lean_route import LeanRoute
from ..locations import set_location
from ..query import PageCursor, PageLimit, PageNumber
from ..route_access import MailboxReader, MailboxWriter
from ..schemas import Page, errors

router = APIRouter(prefix="/mailboxes", tags=["mailboxes"], route_class=LeanRoute)


@router.post(
    "",
    status_code=201,
    response_model=Mailbox,
    responses=errors(400, 403, 409, 413, 415),
    operation_id="mailboxes-create",
    summary="Create a mailbox",
)
async def create_mailbox(
    body: MailboxCreate, principal: MailboxWriter, db: DbDep, response: Response
) -> Mailbox:
    require_unlimited(principal, "create mailboxes")
    mailbox = await db.write(lambda tx: actions.create_mailbox(tx, principal.org_id, body))
    set_location(response, "mailboxes", mailbox.id)
    return mailbox


@router.get(
    "",
    response_model=Page[Mailbox],
    responses=errors(400, 403),
    operation_id="mailboxes-list",
    summary="List mailboxes, oldest first",
)
async def list_mailboxes(
    principal: MailboxReader,
    db: DbDep,
    page: PageNumber = 1,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> dict:
    request = page_request(page, limit, cursor, list_key=f"{principal.org_id}:mailboxes")
    items, meta = await db.read(lambda tx: service.list_visible_mailboxes(tx, principal, request))
    return {"data": items, "pagination": meta}


@router.get(
    "/{mailbox_id}",
    response_model=Mailbox,
    responses=errors(403, 404),
    operation_id="mailboxes-get",
    summary="Get a mailbox",
)
async def get_mailbox(mailbox_id: str, principal: MailboxReader, db: DbDep) -> Mailbox:
    row = await db.lookup(lambda tx: service.find_mailbox_row(tx, principal, mailbox_id))
    return service.mailbox_from_row(row)


@router.patch(
    "/{mailbox_id}",
    response_model=Mailbox,
    responses=errors(400, 403, 404, 413, 415),
    operation_id="mailboxes-update",
    summary="Rename a mailbox or change its settings",
)
async def update_mailbox(
    mailbox_id: str, body: MailboxUpdate, principal: MailboxWriter, db: DbDep
) -> Mailbox:

    def work(tx: Tx) -> Mailbox:
        service.find_mailbox_row(tx, principal, mailbox_id)
        return actions.update_mailbox(tx, principal.org_id, mailbox_id, body)

    return await db.write(work)


@router.delete(
    "/{mailbox_id}",
    status_code=204,
    responses=errors(403, 404, 409),
    operation_id="mailboxes-delete",
    summary="Delete a mailbox that has no conversations",
)
async def delete_mailbox(mailbox_id: str, principal: MailboxWriter, db: DbDep) -> Response:

    def work(tx: Tx) -> None:
        service.find_mailbox_row(tx, principal, mailbox_id)
        actions.delete_mailbox(tx, principal.org_id, mailbox_id)

    await db.write(work)
    return Response(status_code=204)
