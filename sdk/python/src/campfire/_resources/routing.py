from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._core import body, path, query
from .._models import Agent, Handoff, QueuedHandoff
from .._pagination import Paginator
from ._base import Resource, camel_keys


class Agents(Resource):
    """Support agents who take conversations the AI hands off."""

    def create(
        self,
        *,
        name: str,
        email: str | None = None,
        skills: list[str] | None = None,
        status: str | None = None,
        capacity: int | None = None,
    ) -> Agent:
        """Add an agent; ``status`` is ``online``, ``away`` or ``offline`` and ``capacity``
        is how many conversations they take at once."""
        return self._call(
            "POST",
            "/agents",
            Agent.model_validate,
            json=body(name=name, email=email, skills=skills, status=status, capacity=capacity),
        )

    def get(self, agent_id: str) -> Agent:
        return self._call("GET", path("/agents/{}", agent_id), Agent.model_validate)

    def list(
        self,
        *,
        status: str | None = None,
        skill: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paginator[Agent]:
        """Iterate agents, oldest first, filtered by ``status`` and ``skill``."""
        return self._list(
            "/agents",
            Agent.model_validate,
            query(status=status, skill=skill, limit=limit, cursor=cursor),
        )

    def update(
        self,
        agent_id: str,
        *,
        name: str | None = None,
        email: str | None = None,
        skills: list[str] | None = None,
        status: str | None = None,
        capacity: int | None = None,
    ) -> Agent:
        return self._call(
            "PATCH",
            path("/agents/{}", agent_id),
            Agent.model_validate,
            json=body(name=name, email=email, skills=skills, status=status, capacity=capacity),
        )

    def delete(self, agent_id: str) -> None:
        return self._call("DELETE", path("/agents/{}", agent_id), lambda _: None)


class Handoffs(Resource):
    """Handing a conversation from the AI to a person, and back."""

    def create(
        self,
        conversation_id: str,
        *,
        reason: str | None = None,
        priority: str | None = None,
        required_skills: list[str] | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> Handoff:
        """Request a human agent; the result says ``assigned`` (with ``agent_id``) or ``queued``
        (with ``position`` and ``estimated_wait_time``)."""
        return self._call(
            "POST",
            path("/conversations/{}/handoff", conversation_id),
            Handoff.model_validate,
            json=body(
                reason=reason,
                priority=priority,
                required_skills=required_skills,
                context=camel_keys(context),
            ),
        )

    def get(self, conversation_id: str) -> Handoff:
        return self._call(
            "GET", path("/conversations/{}/handoff", conversation_id), Handoff.model_validate
        )

    def complete(self, conversation_id: str) -> Handoff:
        """Mark the handoff done: the agent has finished with the conversation."""
        return self._call(
            "POST",
            path("/conversations/{}/handoff/complete", conversation_id),
            Handoff.model_validate,
            json={},
        )

    def list(
        self,
        *,
        status: str | None = None,
        mailbox_id: str | None = None,
        order: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paginator[QueuedHandoff]:
        """Iterate handoffs, by default the queue, ordered by priority and then age.

        ``order="created"`` lists them oldest first by creation time instead,
        so a walk meets each handoff once even while the queue changes.
        """
        return self._list(
            "/handoffs",
            QueuedHandoff.model_validate,
            query(status=status, mailbox_id=mailbox_id, order=order, limit=limit, cursor=cursor),
        )

    def cancel(self, conversation_id: str) -> Handoff:
        """Hand the conversation back to the AI."""
        return self._call(
            "POST",
            path("/conversations/{}/handoff/cancel", conversation_id),
            Handoff.model_validate,
            json={},
        )
