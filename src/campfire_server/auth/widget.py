"""Widget sessions: a publishable key and a visitor's identity become a customer token.

With identity verification on for the mailbox, the host page must send
``customerHash = hex(HMAC-SHA256(identity secret, customerId))``, computed by
the integrator's server, so a visitor cannot claim another customer's id.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass

from .. import clock, ids
from ..conversations.actions import upsert_customer
from ..db.tx import Tx
from ..errors import AuthenticationFailed, PermissionDenied, ValidationFailed
from ..organizations import service as organizations
from .origins import origin_matches
from .principal import Principal
from .schemas import WidgetSessionCreate

log = logging.getLogger(__name__)

_HEX_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


def customer_hash(identity_secret: str, customer_id: str) -> str:
    """Return the hex HMAC-SHA256 of ``customer_id`` keyed with ``identity_secret``."""
    return hmac.new(identity_secret.encode(), customer_id.encode(), hashlib.sha256).hexdigest()


def hash_matches(identity_secret: str, customer_id: str, supplied: str) -> bool:
    """Compare ``supplied`` with the expected hash in constant time."""
    if not _HEX_SHA256.match(supplied):
        return False
    expected = customer_hash(identity_secret, customer_id)
    return hmac.compare_digest(expected.encode(), supplied.lower().encode())


@dataclass(frozen=True, slots=True)
class SessionIdentity:
    customer_id: str
    mailbox_id: str
    verified: bool


def check_origin(principal: Principal, origin: str | None) -> None:
    """Raise unless a browser's ``origin`` is among the key's allowed origins.

    Requests without an ``Origin`` header (native apps, servers) pass: the
    check stops other web sites from using the key, and identity
    verification is what protects customers' conversations.
    """
    if origin is None:
        return
    if not origin_matches(origin, principal.allowed_origins):
        raise PermissionDenied(
            f"origin {origin[:200]!r} is not allowed for this publishable key; create a "
            "publishable key that lists it, with allowedOrigins in POST /api/v2/keys or with "
            f"`campfire keys create --publishable --origin {origin[:200]}`",
            details={"field": "Origin", "value": origin[:200]},
        )


def open_session(tx: Tx, principal: Principal, request: WidgetSessionCreate) -> SessionIdentity:
    """Check the visitor's claimed identity and record the customer.

    Raises ``AuthenticationFailed`` when identity verification is on and the
    hash is missing or wrong, and ``NotFound`` for a mailbox of another org.
    """
    if principal.kind != "publishable":
        raise PermissionDenied(
            "widget sessions are opened with a publishable key (pk_...); create one with "
            "POST /api/v2/keys and kind publishable"
        )
    mailbox_id = request.mailbox_id
    if principal.mailbox_ids and mailbox_id not in principal.mailbox_ids:
        raise PermissionDenied(
            f"this publishable key is limited to mailboxes {', '.join(principal.mailbox_ids)}; "
            f"send one of them as mailboxId, or use a publishable key for {mailbox_id}",
            details={"field": "mailboxId", "value": mailbox_id},
        )
    row = organizations.get_mailbox_row(tx, principal.org_id, mailbox_id)
    settings = organizations.mailbox_from_row(row).settings
    secret: str | None = row.get("identity_secret")
    required = settings.identity_verification

    customer_id = request.customer_id
    verified = False
    if customer_id is None:
        if required:
            raise AuthenticationFailed(
                "this mailbox requires identity verification; pass customerId and customerHash",
                details={"field": "customerId"},
            )
        if request.customer_hash is not None:
            raise ValidationFailed(
                "customerHash was sent without customerId",
                field="customerId",
                value=None,
                expected="the customer id that customerHash was computed from",
            )
        customer_id = ids.new("customer")
    elif required or request.customer_hash is not None:
        if not secret:
            tx.log(
                log.warning,
                "identity verification is on but no secret is set",
                when="failed",
                extra={"mailbox_id": mailbox_id},
            )
            raise AuthenticationFailed(
                "identity verification is on for this mailbox but it has no identity secret; "
                "set identitySecret with PATCH /api/v2/mailboxes/{id}",
                details={"field": "customerHash"},
            )
        if request.customer_hash is None:
            raise AuthenticationFailed(
                "this mailbox requires identity verification; pass customerHash, the hex "
                "HMAC-SHA256 of customerId keyed with the mailbox's identity secret",
                details={"field": "customerHash"},
            )
        if not hash_matches(secret, customer_id, request.customer_hash):
            raise AuthenticationFailed(
                "customerHash does not match customerId",
                details={"field": "customerHash"},
            )
        verified = True

    if verified or request.customer_id is None:
        upsert_customer(tx, principal.org_id, customer_id, name=request.name, email=request.email)
    else:
        # An unverified visitor may create a customer but never rename an existing one.
        tx.execute(
            "INSERT INTO customers (org_id, id, name, email, metadata, created_at, updated_at) "
            "VALUES (:org_id, :id, :name, :email, '{}', :now, :now) "
            "ON CONFLICT (org_id, id) DO NOTHING",
            org_id=principal.org_id,
            id=customer_id,
            name=request.name,
            email=request.email,
            now=clock.now_ms(),
        )
    return SessionIdentity(customer_id, mailbox_id, verified)
