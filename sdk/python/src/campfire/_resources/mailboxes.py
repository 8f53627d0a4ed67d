from __future__ import annotations

from typing import Any

from .._core import body, path, query
from .._models import Mailbox
from .._pagination import Paginator
from ._base import Resource, camel_keys, ignore


class Mailboxes(Resource):
    """Mailboxes: the inboxes conversations are filed under."""

    def create(
        self, *, name: str, id: str | None = None, settings: dict[str, Any] | None = None
    ) -> Mailbox:
        """Create a mailbox; ``settings`` takes ``auto_reply``, ``handoff_threshold``,
        ``identity_verification`` and ``ai_instructions`` (snake_case or camelCase)."""
        return self._call(
            "POST",
            "/mailboxes",
            Mailbox.model_validate,
            json=body(name=name, id=id, settings=camel_keys(settings)),
        )

    def get(self, mailbox_id: str) -> Mailbox:
        return self._call("GET", path("/mailboxes/{}", mailbox_id), Mailbox.model_validate)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Paginator[Mailbox]:
        """Iterate the mailboxes the credential may read, oldest first.

        ``limit`` is the page size (1..100) and ``cursor`` the ``nextCursor`` of
        an earlier page to continue from.
        """
        return self._list("/mailboxes", Mailbox.model_validate, query(limit=limit, cursor=cursor))

    def update(
        self,
        mailbox_id: str,
        *,
        name: str | None = None,
        settings: dict[str, Any] | None = None,
    ) -> Mailbox:
        return self._call(
            "PATCH",
            path("/mailboxes/{}", mailbox_id),
            Mailbox.model_validate,
            json=body(name=name, settings=camel_keys(settings)),
        )

    def delete(self, mailbox_id: str) -> None:
        """Delete a mailbox that has no conversations."""
        return self._call("DELETE", path("/mailboxes/{}", mailbox_id), ignore)
