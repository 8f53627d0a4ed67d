from __future__ import annotations

from typing import Any

from .._core import body, path, query
from .._models import Conversation, Message, Satisfaction
from .._pagination import Paginator
from ._base import Resource


class Conversations(Resource):
    """Support conversations between a customer and the AI or agents."""

    def create(
        self,
        *,
        customer_id: str,
        subject: str | None = None,
        mailbox_id: str | None = None,
        priority: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Conversation:
        """Open a conversation.

        Args:
            customer_id: your own id for the customer (up to 255 characters).
            subject: a short title.
            mailbox_id: the mailbox to file it under; the organization's first when omitted.
            priority: ``low``, ``medium`` (the default), ``high`` or ``urgent``.
            metadata: free-form JSON object stored with the conversation.
        """
        return self._call(
            "POST",
            "/conversations",
            Conversation.model_validate,
            json=body(
                customer_id=customer_id,
                subject=subject,
                mailbox_id=mailbox_id,
                priority=priority,
                metadata=metadata,
            ),
        )

    def get(self, conversation_id: str) -> Conversation:
        return self._call(
            "GET", path("/conversations/{}", conversation_id), Conversation.model_validate
        )

    def list(
        self,
        *,
        status: str | None = None,
        priority: str | None = None,
        mailbox_id: str | None = None,
        customer_id: str | None = None,
        assigned_agent_id: str | None = None,
        created_after: str | None = None,
        created_before: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paginator[Conversation]:
        """Iterate conversations, newest first.

        ``limit`` is the page size (1..100) and ``cursor`` the ``nextCursor`` of
        an earlier page to continue from.
        """
        return self._list(
            "/conversations",
            Conversation.model_validate,
            query(
                status=status,
                priority=priority,
                mailbox_id=mailbox_id,
                customer_id=customer_id,
                assigned_agent_id=assigned_agent_id,
                created_after=created_after,
                created_before=created_before,
                limit=limit,
                cursor=cursor,
            ),
        )

    def update(
        self,
        conversation_id: str,
        *,
        status: str | None = None,
        priority: str | None = None,
        assigned_agent_id: str | None = None,
        subject: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Conversation:
        """Change status, priority, assignee, subject or metadata; unset arguments stay."""
        return self._call(
            "PATCH",
            path("/conversations/{}", conversation_id),
            Conversation.model_validate,
            json=body(
                status=status,
                priority=priority,
                assigned_agent_id=assigned_agent_id,
                subject=subject,
                metadata=metadata,
            ),
        )

    def rate(
        self, conversation_id: str, *, rating: int, comment: str | None = None
    ) -> Satisfaction:
        """Record the customer's satisfaction rating (1..5); a second rating replaces the first."""
        return self._call(
            "POST",
            path("/conversations/{}/satisfaction", conversation_id),
            Satisfaction.model_validate,
            json=body(rating=rating, comment=comment),
        )

    def get_satisfaction(self, conversation_id: str) -> Satisfaction:
        return self._call(
            "GET",
            path("/conversations/{}/satisfaction", conversation_id),
            Satisfaction.model_validate,
        )


class Messages(Resource):
    """Messages of a conversation."""

    def create(
        self,
        conversation_id: str,
        *,
        content: str,
        author_type: str | None = None,
        author_id: str | None = None,
        private: bool | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Message:
        """Send a message.

        Args:
            conversation_id: the conversation to post to.
            content: 1 to 10,000 characters.
            author_type: ``customer`` (the default), ``agent``, ``ai`` or ``system``.
            author_id: who wrote it. A customer message names the conversation's
                customer, filled in when left out. An agent message sent with an
                API key must name an agent of the organization, or raises a
                validation error (400); an agent's own token may leave it out.
            private: an internal note between agents, never shown to the customer.
                Only agent, ai and system messages can be private, so a customer
                message with ``private=True`` raises a validation error (400).
            metadata: free-form JSON object stored with the message.
        """
        return self._call(
            "POST",
            path("/conversations/{}/messages", conversation_id),
            Message.model_validate,
            json=body(
                content=content,
                author_type=author_type,
                author_id=author_id,
                private=private,
                metadata=metadata,
            ),
        )

    def get(self, conversation_id: str, message_id: str) -> Message:
        """Get one message, for example the one a send's ``Location`` header names."""
        return self._call(
            "GET",
            path("/conversations/{}/messages/{}", conversation_id, message_id),
            Message.model_validate,
        )

    def list(
        self, conversation_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Paginator[Message]:
        """Iterate the messages of a conversation, oldest first."""
        return self._list(
            path("/conversations/{}/messages", conversation_id),
            Message.model_validate,
            query(limit=limit, cursor=cursor),
        )
