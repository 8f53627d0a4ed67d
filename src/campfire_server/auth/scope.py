"""Mailbox scope: what a credential limited to some mailboxes may reach.

A key or token with ``mailboxIds`` (claim ``mbx``) is limited to those
mailboxes. An empty list means every mailbox of the organization. The rules:

- A conversation, a mailbox, an event or a realtime frame outside the scope
  is not found (404), exactly like an id that does not exist.
- An article is readable when it serves every mailbox (no ``mailboxIds``)
  or one of the scope's mailboxes. It is writable only when all of its
  mailboxes are in the scope, so only unlimited credentials change an
  organization-wide article.
- Webhooks and API keys are managed only where their own ``mailboxIds``
  lie within the scope. A limited credential's new key, token, webhook or
  article inherits its mailboxes when the request names none.
- Organization-wide changes (new mailboxes, agents) need an unlimited
  credential (403).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import PermissionDenied
from .principal import Principal


def is_limited(principal: Principal) -> bool:
    return bool(principal.mailbox_ids)


def sees_mailbox(principal: Principal, mailbox_id: str | None) -> bool:
    """Tell whether ``mailbox_id`` is in the scope.

    For a limited credential, a resource without a mailbox (None) is not.
    """
    if not principal.mailbox_ids:
        return True
    return mailbox_id is not None and mailbox_id in principal.mailbox_ids


def reads_shared(principal: Principal, mailbox_ids: Sequence[str]) -> bool:
    """Tell whether a resource that serves ``mailbox_ids`` (empty for all) is readable."""
    if not principal.mailbox_ids or not mailbox_ids:
        return True
    return any(mailbox_id in principal.mailbox_ids for mailbox_id in mailbox_ids)


def manages(principal: Principal, mailbox_ids: Sequence[str]) -> bool:
    """Tell whether a resource limited to ``mailbox_ids`` (empty for all) lies within the scope."""
    if not principal.mailbox_ids:
        return True
    return bool(mailbox_ids) and all(m in principal.mailbox_ids for m in mailbox_ids)


def require_unlimited(principal: Principal, action: str) -> None:
    """Raise ``PermissionDenied`` for a limited credential, naming the ``action`` it requested."""
    if principal.mailbox_ids:
        raise PermissionDenied(
            f"this credential is limited to mailboxes {', '.join(principal.mailbox_ids)} and may "
            f"not {action}, which affects every mailbox; use a credential without mailboxIds",
            details={"mailboxIds": list(principal.mailbox_ids)},
        )


def require_managed(principal: Principal, mailbox_ids: Sequence[str], kind: str) -> None:
    """Raise ``PermissionDenied`` unless ``principal`` manages a resource of ``mailbox_ids``.

    Use it only for a resource the caller can read, so the 403 reveals nothing new.
    """
    if not manages(principal, mailbox_ids):
        raise PermissionDenied(
            f"this {kind} serves mailboxes beyond this credential's "
            f"{list(principal.mailbox_ids)}; change it with a credential that covers them all",
            details={"mailboxIds": list(mailbox_ids)},
        )
