"""Changes to organizations and mailboxes."""

from __future__ import annotations

import json
import logging
from typing import Any

from .. import clock, ids
from ..db.tx import Tx
from ..errors import Conflict, NotFound, ValidationFailed
from ..validation import VISIBLE_EXPECTED, has_visible_character
from . import service
from .schemas import Mailbox, MailboxCreate, MailboxSettings, MailboxUpdate

log = logging.getLogger(__name__)


def create_organization(tx: Tx, *, name: str, org_id: str | None = None) -> str:
    """Insert an organization and return its id."""
    if not has_visible_character(name):
        raise ValidationFailed(
            "the organization name has no visible character",
            field="name",
            value=name,
            expected=VISIBLE_EXPECTED,
        )
    org_id = org_id or ids.new("organization")
    tx.execute(
        "INSERT INTO organizations (id, name, settings, created_at) "
        "VALUES (:id, :name, '{}', :now)",
        id=org_id,
        name=name,
        now=clock.now_ms(),
    )
    tx.log(log.info, "organization created", extra={"organization_id": org_id})
    return org_id


def ensure_organization(tx: Tx, *, org_id: str, name: str) -> None:
    if not service.organization_exists(tx, org_id):
        create_organization(tx, org_id=org_id, name=name)


def create_mailbox(tx: Tx, org_id: str, request: MailboxCreate) -> Mailbox:
    mailbox_id = request.id or ids.new("mailbox")
    exists = tx.value(
        "SELECT 1 FROM mailboxes WHERE org_id = :org_id AND id = :id", org_id=org_id, id=mailbox_id
    )
    if exists:
        raise Conflict(
            f"mailbox {mailbox_id!r} already exists; choose another id or omit it",
            details={"field": "id", "value": mailbox_id},
        )
    _check_identity_secret(request.settings, request.identity_secret)
    now = clock.now_ms()
    tx.execute(
        "INSERT INTO mailboxes (org_id, id, name, settings, identity_secret, created_at, "
        "updated_at) VALUES (:org_id, :id, :name, :settings, :identity_secret, :now, :now)",
        org_id=org_id,
        id=mailbox_id,
        name=request.name,
        settings=request.settings.model_dump_json(by_alias=True),
        identity_secret=request.identity_secret,
        now=now,
    )
    return service.get_mailbox(tx, org_id, mailbox_id)


def ensure_mailbox(tx: Tx, org_id: str, mailbox_id: str, name: str, **settings: Any) -> None:
    exists = tx.value(
        "SELECT 1 FROM mailboxes WHERE org_id = :org_id AND id = :id", org_id=org_id, id=mailbox_id
    )
    if not exists:
        create_mailbox(
            tx,
            org_id,
            MailboxCreate(id=mailbox_id, name=name, settings=MailboxSettings(**settings)),
        )


# Raised by every mailbox change in this process, so caches of mailbox
# settings (see assistant.actions) can tell that theirs may be stale.
settings_generation = 0


def update_mailbox(tx: Tx, org_id: str, mailbox_id: str, request: MailboxUpdate) -> Mailbox:
    global settings_generation
    if not request.model_fields_set:
        raise ValidationFailed(
            "the request changes nothing; send at least one of name, settings, identitySecret",
            field="body",
            value={},
            expected="an object with at least one field",
        )

    settings_generation += 1
    row = service.get_mailbox_row(tx, org_id, mailbox_id)
    current = service.mailbox_from_row(row)
    name = request.name if request.name is not None else current.name
    settings = current.settings
    if request.settings is not None:
        merged = settings.model_dump(by_alias=True) | request.settings
        settings = MailboxSettings.model_validate(merged)
    secret = row.get("identity_secret")
    if "identity_secret" in request.model_fields_set:
        secret = request.identity_secret
    _check_identity_secret(settings, secret)
    tx.execute(
        "UPDATE mailboxes SET name = :name, settings = :settings, "
        "identity_secret = :identity_secret, updated_at = :now "
        "WHERE org_id = :org_id AND id = :id",
        name=name,
        settings=settings.model_dump_json(by_alias=True),
        identity_secret=secret,
        now=clock.now_ms(),
        org_id=org_id,
        id=mailbox_id,
    )
    return service.get_mailbox(tx, org_id, mailbox_id)


def _check_identity_secret(settings: MailboxSettings, secret: str | None) -> None:
    if settings.identity_verification and not secret:
        raise ValidationFailed(
            "identityVerification needs an identity secret; send identitySecret "
            "(16 or more random characters) in the same request",
            field="identitySecret",
            value=None,
            expected="a secret of 16 to 255 printable ASCII characters",
        )


def delete_mailbox(tx: Tx, org_id: str, mailbox_id: str) -> None:
    service.get_mailbox_row(tx, org_id, mailbox_id)
    in_use = tx.value(
        "SELECT 1 FROM conversations WHERE org_id = :org_id AND mailbox_id = :id LIMIT 1",
        org_id=org_id,
        id=mailbox_id,
    )
    if in_use:
        raise Conflict(
            f"mailbox {mailbox_id!r} still has conversations; it cannot be deleted",
            details={"field": "mailboxId", "value": mailbox_id},
        )
    tx.execute(
        "DELETE FROM mailboxes WHERE org_id = :org_id AND id = :id", org_id=org_id, id=mailbox_id
    )


def store_setting(tx: Tx, org_id: str, key: str, value: Any) -> None:
    """Set one organization-level setting, such as a rate limit override."""
    row = tx.one("SELECT settings FROM organizations WHERE id = :id", id=org_id)
    if row is None:
        raise NotFound.for_id("organization", org_id)
    settings = json.loads(row["settings"] or "{}")
    if not isinstance(settings, dict):
        raise ValidationFailed("organization settings are corrupt", field="settings")
    settings[key] = value
    tx.execute(
        "UPDATE organizations SET settings = :settings WHERE id = :id",
        settings=json.dumps(settings),
        id=org_id,
    )
