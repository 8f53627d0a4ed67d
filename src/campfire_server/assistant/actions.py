"""AI answers in conversations: on request, and as automatic replies.

``generate_response`` only computes an answer and writes nothing. An
automatic reply, for mailboxes with ``autoReply`` on, posts the answer as
an ``ai`` message, or posts the acknowledgement and requests a handoff,
after which the AI stays silent in that conversation (``ai_paused``) until
a person hands it back. An agent assigned to the conversation silences the
AI in the same way, with or without a handoff, until it is unassigned. A
reply that went stale while it was being written (``staleness``) is
dropped before it is stored, so a late reply never reopens a resolved
conversation or queues a handoff for it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ..auth.principal import Principal
from ..conversations import actions as conversation_actions
from ..conversations import service as conversation_service
from ..conversations.schemas import MessageCreate
from ..db import lock_order
from ..db.database import Database
from ..db.tx import Tx
from ..errors import Conflict, NotFound
from ..events import records
from ..events.records import EventRecord
from ..organizations import actions as organization_actions
from ..organizations import service as organization_service
from ..organizations.schemas import MailboxSettings
from ..routing import actions as routing_actions
from ..routing import service as routing_service
from . import staleness
from .engine import Answer, AnswerEngine
from .schemas import GenerateRequest

log = logging.getLogger(__name__)

AUTO_REPLY_CACHE_SECONDS = 2.0

HISTORY_MESSAGES = 20
IN_HANDOFF = "CONVERSATION_IN_HANDOFF"


@dataclass(frozen=True, slots=True)
class ConversationContext:
    org_id: str
    conversation_id: str
    mailbox_id: str
    ai_paused: bool
    assigned_agent_id: str | None
    settings: MailboxSettings
    history: list[tuple[str, str]]
    # The customer's BCP 47 language tag from the conversation's metadata.locale, if any.
    locale: object = None


def load_context(
    tx: Tx, org_id: str, conversation_id: str, *, principal: Principal | None = None
) -> ConversationContext:
    """Read the conversation, its mailbox settings and its recent public messages.

    With ``principal``, a conversation outside its scope raises ``NotFound``.
    """
    if principal is None:
        row = conversation_service.get_conversation_row(tx, org_id, conversation_id)
    else:
        row = conversation_service.find_conversation_row(tx, principal, conversation_id)
    try:
        settings = organization_service.mailbox_settings(tx, org_id, row["mailbox_id"])
    except NotFound:
        settings = MailboxSettings()
    # A reopened conversation is a new topic, because the turns before it was
    # resolved would pull the search and the reply toward the old one.
    resolved_ms = conversation_service.last_resolved_ms(tx, org_id, conversation_id)
    messages = conversation_service.recent_messages(
        tx, conversation_id, HISTORY_MESSAGES, after_ms=resolved_ms
    )
    history = [(m["author_type"], m["content"]) for m in messages if not m.get("private")]
    return ConversationContext(
        org_id=org_id,
        conversation_id=conversation_id,
        mailbox_id=row["mailbox_id"],
        ai_paused=bool(row["ai_paused"]),
        assigned_agent_id=row["assigned_agent_id"],
        settings=settings,
        history=history,
        locale=json.loads(row["metadata"] or "{}").get("locale"),
    )


def _without_current(history: list[tuple[str, str]], message: str) -> list[tuple[str, str]]:
    """Drop the message being answered when it is already the conversation's last message."""
    if history and history[-1] == ("customer", message):
        return history[:-1]
    return history


async def generate_response(
    db: Database, engine: AnswerEngine, principal: Principal, request: GenerateRequest
) -> Answer:
    """Answer ``request.message_content`` in its conversation without writing anything.

    Raises Conflict ``CONVERSATION_IN_HANDOFF`` while the conversation waits
    for a person or an agent is assigned to it, so the AI never talks over a
    person, unless the request is an agent's ``draft``.
    """
    context = await db.read(
        lambda tx: load_context(tx, principal.org_id, request.conversation_id, principal=principal)
    )
    if context.ai_paused and not request.draft:
        raise Conflict(
            "the conversation has been handed off to a person, so the AI does not answer "
            "until it is handed back",
            code=IN_HANDOFF,
            details={"field": "conversationId", "value": request.conversation_id},
        )
    if context.assigned_agent_id is not None and not request.draft:
        raise Conflict(
            f"the conversation is assigned to agent {context.assigned_agent_id!r}, so the AI "
            'does not answer until it is unassigned; send "draft": true for a draft the agent '
            "reviews",
            code=IN_HANDOFF,
            details={"field": "conversationId", "value": request.conversation_id},
        )
    return await engine.answer(
        org_id=principal.org_id,
        mailbox_id=context.mailbox_id,
        question=request.message_content,
        history=_without_current(context.history, request.message_content),
        knowledge_base_enabled=request.context.knowledge_base_enabled,
        threshold=context.settings.handoff_threshold,
        instructions=context.settings.ai_instructions,
        locale=context.locale,
    )


def answer_metadata(answer: Answer, in_reply_to: str | None) -> dict[str, Any]:
    """Describe an answer for the metadata of the message that carries it."""
    return {
        "inReplyTo": in_reply_to,
        "confidence": round(answer.confidence, 3),
        "sources": [
            {"articleId": s.article_id, "title": s.title, "url": s.url, "relevance": s.relevance}
            for s in answer.sources
        ],
        "shouldHandoff": answer.should_handoff,
        "handoffReason": answer.handoff_reason,
        "handoffTopic": answer.handoff_topic,
        "model": answer.model,
        "responseTime": round(answer.response_time, 4),
    }


def _ai_principal(org_id: str) -> Principal:
    return Principal(org_id=org_id, role="admin", kind="secret", subject="ai")


def request_handoff(
    tx: Tx, org_id: str, conversation_id: str, reason: str, topic: str | None = None
) -> None:
    """Hand the conversation to a person through the routing queue, in this transaction.

    A sensitive ``topic`` (a billing dispute or a security incident) is
    queued at ``high`` priority and named in the handoff's context.
    """
    context: dict[str, Any] = {"source": "ai", "handoffReason": reason}
    if topic is not None:
        context["topic"] = topic
    routing_actions.request_handoff(
        tx,
        org_id=org_id,
        conversation_id=conversation_id,
        reason=reason,
        priority="high" if topic is not None else "medium",
        context=context,
        source="ai",
    )


def reply_state(tx: Tx, row: dict[str, Any], message_id: str | None) -> staleness.ReplyState:
    """Read what decides whether a reply to ``message_id`` is stale, given the conversation row."""
    conversation_id = row["id"]
    place = None
    if message_id is not None:
        place = conversation_service.message_place(tx, conversation_id, message_id)
    later_authors: frozenset[str] = frozenset()
    if place is not None and row["message_count"] > place["seq"]:
        later_authors = conversation_service.public_authors_after(tx, conversation_id, place["seq"])
    return staleness.ReplyState(
        status=row["status"],
        ai_paused=bool(row["ai_paused"]),
        assigned_agent_id=row["assigned_agent_id"],
        message_created_ms=None if place is None else int(place["created_at"]),
        last_resolved_ms=conversation_service.last_resolved_ms(tx, row["org_id"], conversation_id),
        later_authors=later_authors,
    )


def post_answer(
    tx: Tx, context: ConversationContext, answer: Answer, in_reply_to: str | None
) -> str | None:
    """Post an automatic reply and any handoff it calls for, unless the reply has gone stale.

    Returns ``None`` when the reply was posted, else the reason it was
    dropped (see ``staleness``). The check runs under the conversation's
    lock, so no resolution, handoff or message can slip in between it and
    the write. A handoff takes the routing lock first, because every
    routing change takes it before any conversation's lock.
    """
    if answer.should_handoff:
        routing_service.routing_lock(tx, context.org_id)
    row = conversation_service.get_conversation_row(
        tx, context.org_id, context.conversation_id, lock=True
    )
    reason = staleness.stale_reason(reply_state(tx, row, in_reply_to))
    if reason is not None:
        return reason

    conversation_actions.send_message(
        tx,
        _ai_principal(context.org_id),
        context.conversation_id,
        MessageCreate(
            content=answer.content,
            author_type="ai",
            metadata={"ai": answer_metadata(answer, in_reply_to)},
        ),
    )
    if answer.should_handoff:
        request_handoff(
            tx,
            context.org_id,
            context.conversation_id,
            answer.handoff_reason or "low_confidence",
            answer.handoff_topic,
        )
    return None


class AutoReplier:
    """Answers each committed customer message in mailboxes that have ``autoReply`` on."""

    def __init__(self, db: Database, engine: AnswerEngine) -> None:
        self.db = db
        self.engine = engine
        self._auto_reply_cache: dict[tuple[str, str], tuple[float, bool, int]] = {}
        # The read of each mailbox's setting in flight, by settings generation,
        # which messages that miss the cache meanwhile await instead of
        # reading the setting again.
        self._auto_reply_reads: dict[tuple[str, str, int], asyncio.Future[bool]] = {}

    def on_event(self, record: EventRecord) -> Coroutine[Any, Any, None] | None:
        """Return the coroutine that replies to a committed customer message, or ``None``.

        The bus runs the coroutine as a task. A message that needs no answer,
        as in a mailbox whose cached setting has auto-reply off, returns
        ``None`` and so costs the event loop no task.
        """
        if record.type != records.MESSAGE_SENT or record.conversation_id is None:
            return None
        message = record.data.get("message") or {}
        if message.get("authorType") != "customer" or message.get("private"):
            return None
        if record.mailbox_id is not None:
            cached = self._cached_auto_reply(record.org_id, record.mailbox_id, time.monotonic())
            if cached is False:
                return None
        return self._answer(record, record.conversation_id, message)

    async def _answer(
        self, record: EventRecord, conversation_id: str, message: dict[str, Any]
    ) -> None:
        try:
            if record.mailbox_id is not None and not await self._auto_reply_on(
                record.org_id, record.mailbox_id
            ):
                return
            await self.reply(record.org_id, conversation_id, message)
        except Exception:
            log.exception(
                "automatic reply failed",
                extra={"conversation_id": conversation_id, "message_id": message.get("id")},
            )

    def cached_auto_reply(self, org_id: str, mailbox_id: str) -> bool | None:
        """Return the cached auto-reply setting of a mailbox, for callers outside the event path."""
        return self._cached_auto_reply(org_id, mailbox_id, time.monotonic())

    def _cached_auto_reply(self, org_id: str, mailbox_id: str, now: float) -> bool | None:
        """Return the cached auto-reply setting of a mailbox, or ``None`` when stale or absent."""
        cached = self._auto_reply_cache.get((org_id, mailbox_id))
        if (
            cached is not None
            and cached[0] > now
            and cached[2] == organization_actions.settings_generation
        ):
            return cached[1]
        return None

    async def _auto_reply_on(self, org_id: str, mailbox_id: str) -> bool:
        """Tell whether the mailbox answers with AI, from a cache of a few seconds.

        Most messages land in mailboxes without auto-reply; the cache spares
        each of them a read. A changed setting takes effect within the TTL.
        """
        key = (org_id, mailbox_id)
        now = time.monotonic()
        generation = organization_actions.settings_generation
        cached = self._cached_auto_reply(org_id, mailbox_id, now)
        if cached is not None:
            return cached
        read_key = (org_id, mailbox_id, generation)
        in_flight = self._auto_reply_reads.get(read_key)
        if in_flight is not None:
            return await asyncio.shield(in_flight)

        def read(tx: Tx) -> bool:
            try:
                return organization_service.mailbox_settings(tx, org_id, mailbox_id).auto_reply
            except NotFound:
                return False

        reading = asyncio.ensure_future(self.db.read(read))
        self._auto_reply_reads[read_key] = reading
        try:
            enabled = await asyncio.shield(reading)
        finally:
            if self._auto_reply_reads.get(read_key) is reading:
                del self._auto_reply_reads[read_key]
        if len(self._auto_reply_cache) > 10_000:
            self._auto_reply_cache.clear()
        self._auto_reply_cache[key] = (now + AUTO_REPLY_CACHE_SECONDS, enabled, generation)
        return enabled

    async def reply(self, org_id: str, conversation_id: str, message: dict[str, Any]) -> None:
        """Generate the automatic reply to one customer message and post it unless it went stale."""
        message_id = message.get("id")

        def read(tx: Tx) -> tuple[ConversationContext, str | None]:
            context = load_context(tx, org_id, conversation_id)
            row = conversation_service.get_conversation_row(tx, org_id, conversation_id)
            return context, staleness.stale_reason(reply_state(tx, row, message_id))

        context, reason = await self.db.read(read)
        if not context.settings.auto_reply:
            return
        if reason is not None:
            _log_stale(conversation_id, message_id, reason, generated=False)
            return

        content = message.get("content", "")
        answer = await self.engine.answer(
            org_id=org_id,
            mailbox_id=context.mailbox_id,
            question=content,
            history=_without_current(context.history, content),
            threshold=context.settings.handoff_threshold,
            instructions=context.settings.ai_instructions,
            locale=context.locale,
        )
        reason = await self.db.write(
            lambda tx: post_answer(tx, context, answer, message_id),
            order_key=(
                lock_order.routing(context.org_id)
                if answer.should_handoff
                else lock_order.conversation(context.conversation_id)
            ),
        )
        if reason is not None:
            _log_stale(conversation_id, message_id, reason, generated=True)
            return
        log.info(
            "automatic reply posted",
            extra={
                "conversation_id": conversation_id,
                "message_id": message_id,
                "handoff_reason": answer.handoff_reason,
                "confidence": round(answer.confidence, 3),
            },
        )


def _log_stale(
    conversation_id: str, message_id: str | None, reason: str, *, generated: bool
) -> None:
    log.info(
        "automatic reply dropped as stale",
        extra={
            "conversation_id": conversation_id,
            "message_id": message_id,
            "reason": reason,
            "generated": generated,
        },
    )


def resume_ai_on_resolve(tx: Tx, record: EventRecord) -> None:
    """Hand a conversation back to the AI when a person resolves or closes it.

    Runs inside the transaction that changes the status, so the next
    customer message already finds the AI active again.
    """
    if record.conversation_id is None:
        return
    status = (record.data.get("changes") or {}).get("status")
    if record.type == records.CONVERSATION_RESOLVED or (
        record.type == records.CONVERSATION_UPDATED and status in ("resolved", "closed")
    ):
        tx.execute(
            "UPDATE conversations SET ai_paused = :paused WHERE id = :id",
            paused=False,
            id=record.conversation_id,
        )


def subscribe(auto_replier: AutoReplier) -> Callable[[], None]:
    """Start answering customer messages; returns the function that stops it."""
    from ..events import bus

    return bus.subscribe(auto_replier.on_event)
