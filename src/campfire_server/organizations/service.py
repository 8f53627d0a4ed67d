"""Queries over organizations and mailboxes."""

from __future__ import annotations

import json
from typing import Any

from ..auth.principal import Principal
from ..auth.scope import sees_mailbox
from ..clock import to_iso
from ..db.tx import Tx
from ..errors import NotFound, quoted, shown_text
from ..pagination import PageRequest, keyset_clause, order_clause, pagination
from .schemas import Mailbox, MailboxSettings


def mailbox_from_row(row: dict[str, Any]) -> Mailbox:
    return Mailbox(
        id=row["id"],
        name=row["name"],
        settings=MailboxSettings.model_validate(json.loads(row["settings"] or "{}")),
        identity_secret_hint=identity_secret_hint(row.get("identity_secret")),
        created_at=to_iso(row["created_at"]),
        updated_at=to_iso(row["updated_at"]),
    )


def identity_secret_hint(secret: str | None) -> str | None:
    return None if not secret else "..." + secret[-4:]


def get_mailbox_row(tx: Tx, org_id: str, mailbox_id: str) -> dict[str, Any]:
    row = tx.one(
        "SELECT * FROM mailboxes WHERE org_id = :org_id AND id = :id", org_id=org_id, id=mailbox_id
    )
    if row is None:
        raise NotFound.for_id("mailbox", mailbox_id, field="mailboxId")
    return row


def find_mailbox_row(tx: Tx, principal: Principal, mailbox_id: str) -> dict[str, Any]:
    """Return the mailbox row as ``principal`` may see it; one outside its scope is not found."""
    if not sees_mailbox(principal, mailbox_id):
        raise NotFound.for_id("mailbox", mailbox_id, field="mailboxId")
    return get_mailbox_row(tx, principal.org_id, mailbox_id)


def require_mailboxes(
    tx: Tx, org_id: str, mailbox_ids: list[str], field: str = "mailboxIds"
) -> None:
    """Raise ``NotFound`` for the first of ``mailbox_ids`` that ``org_id`` does not have.

    The error names the item as ``field[index]``, such as ``mailboxIds[1]``.
    """
    for index, mailbox_id in enumerate(mailbox_ids):
        found = tx.value(
            "SELECT 1 AS found FROM mailboxes WHERE org_id = :org_id AND id = :id",
            org_id=org_id,
            id=mailbox_id,
        )
        if not found:
            raise NotFound(
                f"mailbox {quoted(mailbox_id)} in {field}[{index}] was not found; name "
                "mailboxes of this organization (GET /api/v2/mailboxes lists them)",
                details={"field": f"{field}[{index}]", "value": shown_text(mailbox_id)},
            )


def get_mailbox(tx: Tx, org_id: str, mailbox_id: str) -> Mailbox:
    return mailbox_from_row(get_mailbox_row(tx, org_id, mailbox_id))


def mailbox_settings(tx: Tx, org_id: str, mailbox_id: str) -> MailboxSettings:
    return get_mailbox(tx, org_id, mailbox_id).settings


def list_mailboxes(tx: Tx, org_id: str) -> list[Mailbox]:
    rows = tx.all(
        "SELECT * FROM mailboxes WHERE org_id = :org_id ORDER BY created_at, id", org_id=org_id
    )
    return [mailbox_from_row(row) for row in rows]


def list_visible_mailboxes(
    tx: Tx, principal: Principal, request: PageRequest
) -> tuple[list[Mailbox], dict[str, Any]]:
    """Return one page of the mailboxes in ``principal``'s scope, oldest first."""
    params: dict[str, Any] = {"org_id": principal.org_id}
    where = "org_id = :org_id"
    if principal.mailbox_ids:
        names = []
        for index, mailbox_id in enumerate(principal.mailbox_ids):
            params[f"mailbox_{index}"] = mailbox_id
            names.append(f":mailbox_{index}")
        where += f" AND id IN ({', '.join(names)})"
    total = int(tx.value(f"SELECT COUNT(*) AS n FROM mailboxes WHERE {where}", **params))
    where += keyset_clause(request, "asc", params)
    rows = tx.all(f"SELECT * FROM mailboxes WHERE {where}" + order_clause(request, "asc"), **params)
    rows, meta = pagination(request, rows, total)
    return [mailbox_from_row(row) for row in rows], meta


def default_mailbox_id(tx: Tx, org_id: str) -> str | None:
    """Return the oldest mailbox of ``org_id``, used when a request names none."""
    return tx.value(
        "SELECT id FROM mailboxes WHERE org_id = :org_id ORDER BY created_at, id LIMIT 1",
        org_id=org_id,
    )


def organization_exists(tx: Tx, org_id: str) -> bool:
    return tx.value("SELECT 1 FROM organizations WHERE id = :id", id=org_id) is not None


def list_organizations(tx: Tx) -> list[dict[str, Any]]:
    return tx.all("SELECT id, name, created_at FROM organizations ORDER BY created_at, id")
