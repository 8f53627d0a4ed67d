from __future__ import annotations

from typing import Any

from .._core import body, path, query
from .._models import ApiKey, RealtimeEvent
from .._pagination import Paginator
from ._base import Resource


class Keys(Resource):
    """API keys of the organization: secret ``sk_...`` and publishable ``pk_...`` keys."""

    def create(
        self,
        *,
        name: str | None = None,
        kind: str | None = None,
        role: str | None = None,
        live: bool | None = None,
        mailbox_ids: list[str] | None = None,
        allowed_origins: list[str] | None = None,
    ) -> ApiKey:
        """Issue a key; the whole key is in ``key`` of this response only."""
        return self._call(
            "POST",
            "/keys",
            ApiKey.model_validate,
            json=body(
                name=name,
                kind=kind,
                role=role,
                live=live,
                mailbox_ids=mailbox_ids,
                allowed_origins=allowed_origins,
            ),
        )

    def get(self, key_id: str) -> ApiKey:
        """Get one key's description; its secret part is never returned again."""
        return self._call("GET", path("/keys/{}", key_id), ApiKey.model_validate)

    def list(self, *, limit: int | None = None, cursor: str | None = None) -> Paginator[ApiKey]:
        """Iterate the organization's keys, oldest first.

        ``limit`` is the page size (1..100) and ``cursor`` the ``nextCursor`` of
        an earlier page to continue from.
        """
        return self._list("/keys", ApiKey.model_validate, query(limit=limit, cursor=cursor))

    def revoke(self, key_id: str) -> None:
        return self._call("DELETE", path("/keys/{}", key_id), lambda _: None)


class Auth(Resource):
    """Short-lived tokens for agents and viewers."""

    def create_token(
        self,
        *,
        role: str,
        subject: str | None = None,
        agent_id: str | None = None,
        mailbox_ids: list[str] | None = None,
        ttl_seconds: int | None = None,
    ) -> dict[str, Any]:
        """Issue a JWT for an agent or a viewer, with an admin key.

        For example ``create_token(role="agent", subject="agt_1", ttl_seconds=3600)``.
        ``role`` is ``agent`` or ``viewer``, and ``ttl_seconds`` is the lifetime
        (at least 60, 3600 when left out). Returns the server's response (the
        token and its expiry).
        """
        return self._call(
            "POST",
            "/auth/tokens",
            dict,
            json=body(
                role=role,
                subject=subject,
                agent_id=agent_id,
                mailbox_ids=mailbox_ids,
                ttl_seconds=ttl_seconds,
            ),
        )

    def login(self, *, email: str, password: str, org_id: str | None = None) -> dict[str, Any]:
        """Exchange an agent's email and password for an agent token, as the inbox does."""
        return self._call(
            "POST", "/auth/login", dict, json=body(email=email, password=password, org_id=org_id)
        )


class Widget(Resource):
    """Widget sessions: a publishable key exchanged for a customer token."""

    def create_session(
        self,
        *,
        mailbox_id: str,
        customer_id: str | None = None,
        customer_hash: str | None = None,
        name: str | None = None,
        email: str | None = None,
    ) -> dict[str, Any]:
        """Open a widget session; call it with a publishable ``pk_...`` key."""
        return self._call(
            "POST",
            "/widget/session",
            dict,
            json=body(
                mailbox_id=mailbox_id,
                customer_id=customer_id,
                customer_hash=customer_hash,
                name=name,
                email=email,
            ),
        )


class Events(Resource):
    """Realtime events for clients that poll instead of holding a WebSocket."""

    def list(
        self,
        *,
        channel: str,
        since: int | str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paginator[RealtimeEvent]:
        """Iterate the events of ``channel`` after ``since``.

        ``since`` is a conversation's event ``sequence``, a mailbox or agent
        channel's event ``cursor``, or an ISO 8601 time. ``cursor`` is the
        ``nextCursor`` of an earlier page, the same parameter under the name
        other lists use, so pass one of the two. ``limit`` is the page size
        (1..1000).
        """
        if since is not None and cursor is not None:
            raise ValueError(
                "since and cursor were both given, but they name the same position, "
                "so pass only one of them"
            )
        start = cursor if cursor is not None else since
        # The server takes the position as ``cursor`` too, and the paginator
        # replaces that parameter page by page.
        return self._list(
            "/events",
            RealtimeEvent.model_validate,
            query(channel=channel, cursor=start, limit=limit),
        )
