"""State changes of agents and handoffs, and the routing that follows each one.

Every function here is a synchronous function of a ``Tx``, so callers can
compose it into their own transaction. Each change that can assign, free
or reorder work first takes the organization's routing lock
(``service.routing_lock``). It then runs ``refresh_queue``, which assigns
queued handoffs to free agents in queue order and pushes new positions and
wait estimates inside the same transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .. import clock, ids
from ..assistant.acknowledgements import connecting_notice
from ..assistant.language import detect_language
from ..auth.passwords import hash_password
from ..auth.principal import Principal
from ..conversations import service as conversations
from ..conversations.schemas import MessageCreate
from ..db.tx import Tx
from ..errors import Conflict, NotFound, ValidationFailed
from ..events import records
from ..events.emit import emit
from ..validation import check_metadata
from . import rules, service
from .schemas import Agent, AgentCreate, AgentUpdate, Handoff

log = logging.getLogger(__name__)

MAX_REASON_LENGTH = 1000

# How many recent customer messages decide the language of the handoff notice.
NOTICE_LANGUAGE_MESSAGES = 5
CANCEL_MESSAGE = "You are back with the AI assistant."
COMPLETE_MESSAGE = "The support agent has finished; the AI assistant can help with anything else."

# Conversation fields whose change can assign or free work.
ROUTED_FIELDS = frozenset({"status", "assigned_agent_id"})


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# Agents ------------------------------------------------------------------------


def _hash_if_set(password: str | None) -> str | None:
    return hash_password(password) if password else None


def _require_free_email(tx: Tx, org_id: str, email: str, agent_id: str) -> None:
    """Raise ``Conflict`` when another agent of the organization has ``email``, ignoring case.

    Compares with ``LOWER`` like sign-in and the unique index on agents do,
    so the three agree on both engines.
    """
    holder = tx.value(
        "SELECT id FROM agents WHERE org_id = :org_id AND LOWER(email) = LOWER(:email) "
        "AND id <> :id",
        org_id=org_id,
        email=email,
        id=agent_id,
    )
    if holder is not None:
        raise Conflict(
            f"email {email!r} already belongs to agent {holder!r} of this organization; "
            "choose another email or change that agent's email first",
            details={"field": "email", "value": email},
        )


def create_agent(
    tx: Tx, org_id: str, request: AgentCreate, *, password_hash: str | None = None
) -> Agent:
    """Insert an agent; an agent created online takes queued work at once.

    ``password_hash`` is ``request.password`` already hashed, so callers can
    run Argon2 outside the transaction. Without it the password is hashed here.
    """
    service.routing_lock(tx, org_id)
    agent_id = request.id or ids.new("agent")
    exists = tx.value(
        "SELECT 1 FROM agents WHERE org_id = :org_id AND id = :id", org_id=org_id, id=agent_id
    )
    if exists:
        raise Conflict(
            f"agent {agent_id!r} already exists; choose another id or omit it",
            details={"field": "id", "value": agent_id},
        )
    _require_sign_in_email(request.email, has_password=request.password is not None)
    if request.email is not None:
        _require_free_email(tx, org_id, request.email, agent_id)

    now = clock.now_ms()
    tx.execute(
        "INSERT INTO agents (org_id, id, name, email, skills, status, status_source, capacity, "
        "idle_since, password_hash, created_at, updated_at) VALUES (:org_id, :id, :name, :email, "
        ":skills, :status, :status_source, :capacity, :idle_since, :password_hash, :now, :now)",
        org_id=org_id,
        id=agent_id,
        name=request.name,
        email=request.email,
        skills=_json(request.skills),
        status=request.status,
        status_source=rules.STATUS_SET_BY_REQUEST,
        capacity=request.capacity,
        idle_since=now if request.status == "online" else None,
        password_hash=password_hash or _hash_if_set(request.password),
        now=now,
    )
    tx.log(log.info, "agent created", extra={"organization_id": org_id, "agent_id": agent_id})
    if request.status == "online":
        refresh_queue(tx, org_id, now_ms=now)
    return service.get_agent(tx, org_id, agent_id)


def update_agent(
    tx: Tx,
    org_id: str,
    agent_id: str,
    request: AgentUpdate,
    *,
    password_hash: str | None = None,
    status_set_by: str = rules.STATUS_SET_BY_REQUEST,
) -> Agent:
    """Apply a PATCH of status, capacity, skills, name, email or password, then route.

    ``password_hash`` works as in ``create_agent``. A request that sends a
    status stores ``status_set_by`` with it, even when the status is
    unchanged. Going offline returns the agent's automatically assigned
    handoffs to the front of the queue, unless the policy keeps them with
    the agent.
    """
    requested = request.model_dump(exclude_unset=True, by_alias=False)
    if not requested:
        raise ValidationFailed(
            "the request changes nothing; send at least one of status, capacity, skills, "
            "name, email, password",
            field="body",
            value={},
            expected="an object with at least one field",
        )
    for field in ("status", "capacity", "skills", "name", "password"):
        if field in requested and requested[field] is None:
            raise ValidationFailed(
                f"{field} cannot be null",
                field=field,
                value=None,
                expected=f"a {field} value, or leave {field} out to keep it",
            )
    password = requested.pop("password", None)

    service.routing_lock(tx, org_id)
    row = service.get_agent_row(tx, org_id, agent_id)
    email = requested["email"] if "email" in requested else row["email"]
    _require_sign_in_email(email, has_password=bool(row["has_password"]) or password is not None)
    current = {**row, "skills": json.loads(row["skills"] or "[]")}
    changes = {field: value for field, value in requested.items() if current[field] != value}
    if "status" in requested and current["status_source"] != status_set_by:
        changes["status_source"] = status_set_by
    if not changes and password is None:
        return service.agent_from_row(row, service.agent_load(tx, org_id, agent_id))
    if changes.get("email") is not None:
        _require_free_email(tx, org_id, changes["email"], agent_id)

    now = clock.now_ms()
    assignments: dict[str, Any] = {
        field: _json(value) if field == "skills" else value for field, value in changes.items()
    }
    if password is not None:
        assignments["password_hash"] = password_hash or hash_password(password)
        tx.log(
            log.info, "agent password set", extra={"organization_id": org_id, "agent_id": agent_id}
        )
    if changes.get("status") == "online":
        assignments["idle_since"] = now
    assignments["updated_at"] = now
    sets = ", ".join(f"{column} = :{column}" for column in assignments)
    tx.execute(
        f"UPDATE agents SET {sets} WHERE org_id = :org_id AND id = :agent_id",
        org_id=org_id,
        agent_id=agent_id,
        **assignments,
    )
    if "status" in changes:
        tx.log(
            log.info,
            "agent status changed",
            extra={"organization_id": org_id, "agent_id": agent_id, "status": changes["status"]},
        )
    # NOTE: a handoff that stays with an agent who goes away or offline keeps
    # status "assigned" and a wait of 0, unlike a new handoff for that agent.
    if changes.get("status") == "offline" and service.current_policy().requeue_on_offline:
        _return_to_queue(tx, org_id, agent_id, include_manual=False, now_ms=now)

    refresh_queue(tx, org_id, now_ms=now)
    return service.get_agent(tx, org_id, agent_id)


def _require_sign_in_email(email: str | None, *, has_password: bool) -> None:
    """Raise ``ValidationFailed`` for an agent with a password but no email to sign in with."""
    if has_password and email is None:
        raise ValidationFailed(
            "an agent with a password needs an email, because agents sign in with email "
            "and password; send an email address, or leave email out to keep the current one",
            field="email",
            value=None,
            expected="an email address such as alex@example.com",
        )


def set_agent_status(tx: Tx, *, org_id: str, agent_id: str, status: str) -> Agent:
    """Set an agent's presence (online, away or offline) and route what follows from it.

    The realtime layer calls this when an agent's first socket connects or
    the last one closes. Raises ``NotFound`` for an unknown agent.
    """
    if status not in rules.AGENT_STATUSES:
        raise ValidationFailed(
            f"status {status!r} is not an agent status",
            field="status",
            value=status,
            expected="one of " + ", ".join(rules.AGENT_STATUSES),
        )
    return update_agent(
        tx,
        org_id,
        agent_id,
        AgentUpdate(status=status),  # type: ignore[arg-type]
        status_set_by=rules.STATUS_SET_BY_SOCKETS,
    )


def restore_agent_online(tx: Tx, *, org_id: str, agent_id: str) -> str:
    """Store online an agent stored offline whose sockets are open; return its status afterwards.

    The realtime layer calls this when it finds that Redis lost the leases
    of open sockets. An agent that is ``away`` or already ``online`` keeps
    its status, because only the agent or a PATCH chose it. Raises
    ``NotFound`` for an unknown agent.
    """
    service.routing_lock(tx, org_id)
    status = str(service.get_agent_row(tx, org_id, agent_id)["status"])
    if status != "offline":
        return status
    set_agent_status(tx, org_id=org_id, agent_id=agent_id, status="online")
    return "online"


def delete_agent(tx: Tx, org_id: str, agent_id: str) -> None:
    """Delete an agent, returning its handoffs to the queue and unassigning its conversations."""
    service.routing_lock(tx, org_id)
    service.get_agent_row(tx, org_id, agent_id)
    now = clock.now_ms()
    _return_to_queue(tx, org_id, agent_id, include_manual=True, now_ms=now)
    conversation_ids = tx.all(
        "SELECT id FROM conversations WHERE org_id = :org_id AND assigned_agent_id = :agent_id "
        "AND status IN ('open', 'pending') ORDER BY id",
        org_id=org_id,
        agent_id=agent_id,
    )
    for item in conversation_ids:
        _set_assignee(tx, org_id, item["id"], None, now)
    waiting = tx.all(
        f"SELECT {service.HANDOFF_COLUMNS} FROM handoffs WHERE org_id = :org_id "
        "AND agent_id = :agent_id AND status = 'queued'",
        org_id=org_id,
        agent_id=agent_id,
    )
    for row in waiting:
        _requeue(tx, row, row["queue_order"], now)
    tx.execute(
        "UPDATE conversations SET last_assignee_id = NULL WHERE org_id = :org_id "
        "AND last_assignee_id = :agent_id",
        org_id=org_id,
        agent_id=agent_id,
    )
    tx.execute("DELETE FROM agents WHERE org_id = :org_id AND id = :id", org_id=org_id, id=agent_id)
    tx.log(log.info, "agent deleted", extra={"organization_id": org_id, "agent_id": agent_id})
    refresh_queue(tx, org_id, now_ms=now)


# Handoffs ------------------------------------------------------------------------


def request_handoff(
    tx: Tx,
    *,
    org_id: str,
    conversation_id: str,
    reason: str | None,
    priority: str = "medium",
    required_skills: Sequence[str] = (),
    context: Mapping[str, Any] | None = None,
    source: str = "api",
) -> Handoff:
    """Hand a conversation to a person: pause the AI, then assign an agent or queue it.

    Returns the conversation's open handoff unchanged when it already has
    one. Raises ``NotFound`` for a conversation outside ``org_id`` and
    ``Conflict`` (``CONVERSATION_CLOSED``) for a closed one.
    """
    handoff, _created = open_handoff(
        tx,
        org_id=org_id,
        conversation_id=conversation_id,
        reason=reason,
        priority=priority,
        required_skills=required_skills,
        context=context,
        source=source,
    )
    return handoff


def open_handoff(
    tx: Tx,
    *,
    org_id: str,
    conversation_id: str,
    reason: str | None,
    priority: str = "medium",
    required_skills: Sequence[str] = (),
    context: Mapping[str, Any] | None = None,
    source: str = "api",
    mailbox_ids: Sequence[str] = (),
) -> tuple[Handoff, bool]:
    """Do what ``request_handoff`` does, and also return whether a new handoff was created.

    A non-empty ``mailbox_ids`` limits the caller to those mailboxes.
    """
    if priority not in rules.PRIORITY_RANK:
        raise ValidationFailed(
            f"priority {priority!r} is not a priority",
            field="priority",
            value=priority,
            expected="one of " + ", ".join(rules.PRIORITIES),
        )
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise ValidationFailed(
            f"reason has {len(reason)} characters; the limit is {MAX_REASON_LENGTH}",
            field="reason",
            value=f"<{len(reason)} characters>",
            expected=f"at most {MAX_REASON_LENGTH} characters",
        )
    skills = rules.normalise_skills(required_skills)
    context_value = check_metadata(dict(context or {}), field="context")

    # A repeated request, common when the AI requests a handoff again, returns
    # the open handoff without taking the routing lock.
    conversations.get_conversation_row(tx, org_id, conversation_id, mailbox_ids=mailbox_ids)
    existing = service.open_handoff_row(tx, conversation_id)
    if existing is not None:
        return service.handoff_view(tx, existing), False

    service.routing_lock(tx, org_id)
    conversation = conversations.get_conversation_row(
        tx, org_id, conversation_id, mailbox_ids=mailbox_ids, lock=True
    )
    existing = service.open_handoff_row(tx, conversation_id)
    if existing is not None:
        return service.handoff_view(tx, existing), False
    if conversation["status"] == "closed":
        raise Conflict(
            "the conversation is closed and cannot be handed off; reopen it with "
            'PATCH {"status": "open"} or start a new conversation',
            code="CONVERSATION_CLOSED",
            details={"field": "conversationId", "value": conversation_id},
        )

    now = clock.now_ms()
    owner = conversation["assigned_agent_id"]
    if conversation["status"] == "resolved":
        # The assignee left from the resolution becomes the previous agent,
        # who gets the handoff only when routing finds them able to take it.
        _reopen(tx, org_id, conversation, now)
        owner = None
    handoff_id = ids.new("handoff")
    # Strictly after every queued handoff, so arrivals within one millisecond
    # keep their commit order and no reported position goes stale.
    latest = tx.value(
        "SELECT MAX(queue_order) AS latest FROM handoffs WHERE org_id = :org_id "
        "AND status = 'queued'",
        org_id=org_id,
    )
    queue_order = now if latest is None else max(now, int(latest) + 1)
    tx.execute(
        "INSERT INTO handoffs (id, org_id, conversation_id, status, reason, priority, "
        "required_skills, context, source, queue_order, created_at, updated_at) VALUES "
        "(:id, :org_id, :conversation_id, 'queued', :reason, :priority, :required_skills, "
        ":context, :source, :queue_order, :now, :now)",
        id=handoff_id,
        org_id=org_id,
        conversation_id=conversation_id,
        reason=reason,
        priority=priority,
        required_skills=_json(skills),
        context=_json(context_value),
        source=source,
        queue_order=queue_order,
        now=now,
    )
    tx.execute(
        "UPDATE conversations SET ai_paused = :paused WHERE id = :id",
        paused=True,
        id=conversation_id,
    )
    # The AI's own reply already tells the customer a person is coming, so a
    # handoff it requests adds a private note for agents instead of a second
    # notice to the customer.
    if source == "ai":
        _post_system_message(
            tx, org_id, conversation_id, _ai_handoff_note(reason), handoff_id, private=True
        )
    else:
        _post_system_message(
            tx, org_id, conversation_id, _handoff_notice(tx, conversation), handoff_id
        )

    if owner is not None:
        # A person already owns the conversation; routing never replaces them.
        _wait_for_assignee(tx, handoff_id, owner, now)
    refresh_queue(tx, org_id, now_ms=now, requested_id=handoff_id)
    tx.log(
        log.info,
        "handoff requested",
        extra={"conversation_id": conversation_id, "handoff_id": handoff_id, "source": source},
    )
    return service.handoff_view(tx, service.get_handoff_row(tx, handoff_id)), True


def get_handoff(
    tx: Tx,
    org_id: str,
    conversation_id: str,
    customer_id: str | None = None,
    mailbox_ids: Sequence[str] = (),
) -> Handoff:
    """Return the conversation's latest handoff, open or finished."""
    conversations.get_conversation_row(
        tx, org_id, conversation_id, customer_id=customer_id, mailbox_ids=mailbox_ids
    )
    row = service.latest_handoff_row(tx, conversation_id)
    if row is None:
        raise NotFound(
            f"conversation {conversation_id!r} has never been handed off",
            details={"field": "conversationId", "value": conversation_id},
        )
    return service.handoff_view(tx, row)


def complete_handoff(
    tx: Tx,
    *,
    org_id: str,
    conversation_id: str,
    mailbox_ids: Sequence[str] = (),
    principal: Principal | None = None,
) -> Handoff:
    """Finish an assigned handoff: free the agent and let the AI reply again.

    Raises ``Conflict`` (``HANDOFF_NOT_ASSIGNED``) while the handoff is
    still queued for no agent in particular, because no agent has handled
    it. Cancel it instead. A handoff that waits for its conversation's
    assignee may be completed, because that agent is assigned the conversation. Raises
    ``Conflict`` (``CONFLICT``) when ``principal`` is an agent token and
    another agent is assigned to the conversation, because completing
    unassigns it.
    """
    conversation, row = _lock_open_handoff(tx, org_id, conversation_id, mailbox_ids)
    conversations.check_assignee_change(principal, conversation, None, "complete its handoff")
    if row["status"] == "queued" and row["agent_id"] is None:
        raise Conflict(
            "no agent has taken this handoff yet; cancel it to hand the conversation back to "
            "the AI",
            code="HANDOFF_NOT_ASSIGNED",
            details={"field": "conversationId", "value": conversation_id},
        )
    now = clock.now_ms()
    finished = _finish(tx, conversation, row, "completed", now, unassign=True)
    _post_system_message(tx, org_id, conversation_id, COMPLETE_MESSAGE, row["id"])
    refresh_queue(tx, org_id, now_ms=now)
    return finished


def cancel_handoff(
    tx: Tx,
    *,
    org_id: str,
    conversation_id: str,
    mailbox_ids: Sequence[str] = (),
    principal: Principal | None = None,
) -> Handoff:
    """Hand the conversation back to the AI, queued or assigned, freeing any agent.

    Raises ``Conflict`` (``CONFLICT``) when ``principal`` is an agent token
    and another agent is assigned to the conversation, because cancelling
    unassigns it.
    """
    conversation, row = _lock_open_handoff(tx, org_id, conversation_id, mailbox_ids)
    conversations.check_assignee_change(principal, conversation, None, "cancel its handoff")
    now = clock.now_ms()
    finished = _finish(tx, conversation, row, "cancelled", now, unassign=True)
    _post_system_message(tx, org_id, conversation_id, CANCEL_MESSAGE, row["id"])
    refresh_queue(tx, org_id, now_ms=now)
    return finished


def _lock_open_handoff(
    tx: Tx, org_id: str, conversation_id: str, mailbox_ids: Sequence[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    service.routing_lock(tx, org_id)
    conversation = conversations.get_conversation_row(
        tx, org_id, conversation_id, mailbox_ids=mailbox_ids, lock=True
    )
    row = service.open_handoff_row(tx, conversation_id)
    if row is not None:
        return conversation, row
    if service.latest_handoff_row(tx, conversation_id) is None:
        raise NotFound(
            f"conversation {conversation_id!r} has never been handed off",
            details={"field": "conversationId", "value": conversation_id},
        )
    raise Conflict(
        "the conversation's handoff has already finished; request a new one first",
        code="HANDOFF_NOT_OPEN",
        details={"field": "conversationId", "value": conversation_id},
    )


# Hooks called by conversations.actions.update_conversation ------------------------


def before_conversation_update(tx: Tx, org_id: str, fields: Iterable[str]) -> None:
    """Take the routing lock before a PATCH locks its conversation, if it touches routing.

    Locking in this order (routing lock, then conversation) matches every
    other routing change, so concurrent changes wait instead of deadlocking.
    """
    if touches_routing(fields):
        service.routing_lock(tx, org_id)


def touches_routing(fields: Iterable[str]) -> bool:
    """Tell whether a PATCH of ``fields`` changes routing, so it takes the routing lock."""
    return bool(ROUTED_FIELDS & set(fields))


def after_conversation_update(
    tx: Tx, org_id: str, before: dict[str, Any], changes: Mapping[str, Any]
) -> bool:
    """Keep the handoff and agent capacity in step with a PATCH of status or assignee.

    A manual assignee takes over the open handoff for good: routing never
    replaces it. Unassigning by hand returns the handoff to the queue.
    Resolving or closing completes the handoff, which frees the agent.
    Returns True when the conversation may have changed again, so the
    caller should read it anew.
    """
    if not ROUTED_FIELDS & changes.keys():
        return False
    conversation_id = before["id"]
    now = clock.now_ms()
    row = service.open_handoff_row(tx, conversation_id)

    agent_id = changes.get("assigned_agent_id")
    if agent_id is not None:
        _remember_assignee(tx, conversation_id, agent_id)
    if row is not None and "assigned_agent_id" in changes:
        if agent_id is None:
            _requeue(tx, row, row["queue_order"], now)
        else:
            if row["status"] == "assigned":
                _requeue(tx, row, row["queue_order"], now)
                row = service.get_handoff_row(tx, row["id"])
            _assign(
                tx,
                row,
                agent_id,
                now,
                assigned_by="manual",
                mailbox_id=before["mailbox_id"],
                set_conversation=False,
            )
        row = service.open_handoff_row(tx, conversation_id)

    status = changes.get("status", before["status"])
    if row is not None and status in ("resolved", "closed"):
        conversation = conversations.get_conversation_row(tx, org_id, conversation_id)
        _finish(tx, conversation, row, "completed", now, unassign=False)

    refresh_queue(tx, org_id, now_ms=now)
    return True


# Routing ---------------------------------------------------------------------------


def refresh_queue(
    tx: Tx, org_id: str, *, now_ms: int | None = None, requested_id: str | None = None
) -> None:
    """Assign queued handoffs to free agents, then push changed positions and estimates.

    The caller must hold the routing lock. ``requested_id`` names a handoff
    created in this transaction: it gets ``handoff.requested`` instead of
    ``handoff.updated``.

    NOTE: when the head of a long queue is assigned, every handoff behind it
    moves up, so this writes one row and one event per queued handoff. The
    cost grows linearly with the queue of the organization.
    """
    now = now_ms if now_ms is not None else clock.now_ms()
    rows = service.queued_rows(tx, org_id)
    if not rows:
        return
    by_id = {row["id"]: row for row in rows}
    entries = [service.queue_entry(row) for row in rows]
    agents = service.agent_states(tx, org_id)

    plan = rules.plan_assignments(entries, agents, now)
    for handoff_id, agent_id in plan:
        row = by_id[handoff_id]
        # A handoff that waited for its conversation's assignee keeps the
        # assignment made by hand.
        waited = row["agent_id"] is not None
        _assign(
            tx,
            row,
            agent_id,
            now,
            assigned_by="manual" if waited else "auto",
            mailbox_id=row["mailbox_id"],
            requested=handoff_id == requested_id,
            set_conversation=not waited,
        )
    assigned = {handoff_id for handoff_id, _agent_id in plan}
    remaining = [entry for entry in entries if entry.id not in assigned]
    if not remaining:
        return

    positions = rules.queue_positions(remaining, agents)
    average = service.average_handle_seconds(tx, org_id, now, service.current_policy())
    for entry in remaining:
        row = by_id[entry.id]
        position = positions[entry.id]
        wait = rules.estimate_wait_seconds(position, rules.serving_capacity(entry, agents), average)
        unroutable = rules.unroutable_skills(json.loads(row["required_skills"]), agents)
        stored = (
            row["queue_position"],
            row["estimated_wait_seconds"],
            json.loads(row["unroutable_skills"] or "[]"),
        )
        is_new = entry.id == requested_id
        if not is_new and stored == (position, wait, unroutable):
            continue
        tx.execute(
            "UPDATE handoffs SET queue_position = :position, estimated_wait_seconds = :wait, "
            "unroutable_skills = :unroutable, updated_at = :now WHERE id = :id",
            position=position,
            wait=wait,
            unroutable=_json(unroutable),
            now=now,
            id=entry.id,
        )
        row.update(
            queue_position=position,
            estimated_wait_seconds=wait,
            unroutable_skills=_json(unroutable),
            updated_at=now,
        )
        event_type = records.HANDOFF_REQUESTED if is_new else records.HANDOFF_UPDATED
        _emit_handoff(tx, event_type, row, row["mailbox_id"], now)


def _assign(
    tx: Tx,
    row: dict[str, Any],
    agent_id: str,
    now: int,
    *,
    assigned_by: str,
    mailbox_id: str,
    requested: bool = False,
    set_conversation: bool = True,
) -> None:
    changed = tx.execute(
        "UPDATE handoffs SET status = 'assigned', agent_id = :agent_id, assigned_by = :by, "
        "assigned_at = :now, queue_position = NULL, estimated_wait_seconds = NULL, "
        "updated_at = :now WHERE id = :id AND status = 'queued'",
        agent_id=agent_id,
        by=assigned_by,
        now=now,
        id=row["id"],
    )
    if changed != 1:
        # Unreachable while callers hold the routing lock; refuse to assign twice.
        raise Conflict(
            "the handoff changed concurrently; retry the request",
            code="HANDOFF_CHANGED",
            details={"field": "handoffId", "value": row["id"]},
        )
    tx.execute(
        "UPDATE agents SET last_assigned_at = :now, idle_since = :now "
        "WHERE org_id = :org_id AND id = :agent_id",
        now=now,
        org_id=row["org_id"],
        agent_id=agent_id,
    )
    row.update(
        status="assigned",
        agent_id=agent_id,
        assigned_by=assigned_by,
        assigned_at=now,
        queue_position=None,
        estimated_wait_seconds=None,
        updated_at=now,
    )
    if requested:
        _emit_handoff(tx, records.HANDOFF_REQUESTED, row, mailbox_id, now)
    _emit_handoff(tx, records.HANDOFF_ASSIGNED, row, mailbox_id, now)
    if set_conversation:
        _set_assignee(tx, row["org_id"], row["conversation_id"], agent_id, now)
    tx.log(
        log.info,
        "handoff assigned",
        extra={"handoff_id": row["id"], "agent_id": agent_id, "assigned_by": assigned_by},
    )


def _requeue(tx: Tx, row: dict[str, Any], queue_order: int, now: int) -> None:
    """Put an assigned handoff back in the queue; ``refresh_queue`` announces it."""
    tx.execute(
        "UPDATE handoffs SET status = 'queued', agent_id = NULL, assigned_by = NULL, "
        "assigned_at = NULL, queue_order = :queue_order, queue_position = NULL, "
        "estimated_wait_seconds = NULL, updated_at = :now WHERE id = :id",
        queue_order=queue_order,
        now=now,
        id=row["id"],
    )


def _wait_for_assignee(tx: Tx, handoff_id: str, agent_id: str, now: int) -> None:
    """Make a queued handoff wait for its conversation's assignee ``agent_id`` alone.

    ``refresh_queue`` assigns it to that agent once the agent is online.
    """
    tx.execute(
        "UPDATE handoffs SET agent_id = :agent_id, queue_position = NULL, "
        "estimated_wait_seconds = NULL, updated_at = :now WHERE id = :id AND status = 'queued'",
        agent_id=agent_id,
        now=now,
        id=handoff_id,
    )


def _remember_assignee(tx: Tx, conversation_id: str, agent_id: str) -> None:
    """Store ``agent_id`` as the agent who held the conversation last, for later handoffs."""
    tx.execute(
        "UPDATE conversations SET last_assignee_id = :agent_id WHERE id = :id",
        agent_id=agent_id,
        id=conversation_id,
    )


def _return_to_queue(
    tx: Tx, org_id: str, agent_id: str, *, include_manual: bool, now_ms: int
) -> None:
    """Move an agent's assigned handoffs to the front of their priority in the queue."""
    sql = (
        f"SELECT {service.HANDOFF_COLUMNS} FROM handoffs WHERE org_id = :org_id "
        "AND agent_id = :agent_id AND status = 'assigned'"
    )
    if not include_manual:
        sql += " AND assigned_by = 'auto'"
    rows = tx.all(sql, org_id=org_id, agent_id=agent_id)
    if not rows:
        return
    rows.sort(key=lambda item: (rules.PRIORITY_RANK[item["priority"]], item["queue_order"]))
    front = tx.value(
        "SELECT MIN(queue_order) AS front FROM handoffs WHERE org_id = :org_id "
        "AND status = 'queued'",
        org_id=org_id,
    )
    base = min(row["queue_order"] for row in rows)
    if front is not None:
        base = min(base, int(front))
    for index, row in enumerate(rows):
        _requeue(tx, row, base - len(rows) + index, now_ms)
        _set_assignee(tx, org_id, row["conversation_id"], None, now_ms)
    tx.log(
        log.info,
        "handoffs returned to the queue",
        extra={"organization_id": org_id, "agent_id": agent_id, "count": len(rows)},
    )


def _finish(
    tx: Tx,
    conversation: dict[str, Any],
    row: dict[str, Any],
    status: str,
    now: int,
    *,
    unassign: bool,
) -> Handoff:
    tx.execute(
        "UPDATE handoffs SET status = :status, completed_at = :now, queue_position = NULL, "
        "estimated_wait_seconds = NULL, updated_at = :now WHERE id = :id",
        status=status,
        now=now,
        id=row["id"],
    )
    tx.execute(
        "UPDATE conversations SET ai_paused = :paused WHERE id = :id",
        paused=False,
        id=conversation["id"],
    )
    if unassign and conversation["assigned_agent_id"] is not None:
        _set_assignee(tx, conversation["org_id"], conversation["id"], None, now)
    row = {**row, "status": status, "completed_at": now, "updated_at": now}
    _emit_handoff(tx, records.HANDOFF_COMPLETED, row, conversation["mailbox_id"], now)
    tx.log(log.info, "handoff finished", extra={"handoff_id": row["id"], "status": status})
    return service.handoff_view(tx, row)


# Conversation side effects -----------------------------------------------------------


def _set_assignee(
    tx: Tx, org_id: str, conversation_id: str, agent_id: str | None, now: int
) -> None:
    if agent_id is not None:
        _remember_assignee(tx, conversation_id, agent_id)
    sequence = tx.value(
        "UPDATE conversations SET assigned_agent_id = :agent_id, updated_at = :now, "
        "event_seq = event_seq + 1 WHERE id = :id RETURNING event_seq",
        agent_id=agent_id,
        now=now,
        id=conversation_id,
    )
    row = conversations.get_conversation_row(tx, org_id, conversation_id)
    emit(
        tx,
        org_id=org_id,
        type=records.CONVERSATION_UPDATED,
        data={
            "conversation": conversations.conversation_view(tx, row).model_dump(mode="json"),
            "changes": {"assignedAgentId": agent_id},
        },
        conversation_id=conversation_id,
        mailbox_id=row["mailbox_id"],
        sequence=int(sequence),
        created_at=now,
    )


def _reopen(tx: Tx, org_id: str, conversation: dict[str, Any], now: int) -> None:
    """Reopen a resolved conversation and release its assignee, as a customer message does."""
    sequence = tx.value(
        "UPDATE conversations SET status = 'open', resolved_at = NULL, assigned_agent_id = NULL, "
        "updated_at = :now, event_seq = event_seq + 1 WHERE id = :id RETURNING event_seq",
        now=now,
        id=conversation["id"],
    )
    changes: dict[str, Any] = {"status": "open"}
    if conversation["assigned_agent_id"] is not None:
        changes["assignedAgentId"] = None
    row = conversations.get_conversation_row(tx, org_id, conversation["id"])
    emit(
        tx,
        org_id=org_id,
        type=records.CONVERSATION_UPDATED,
        data={
            "conversation": conversations.conversation_view(tx, row).model_dump(mode="json"),
            "changes": changes,
        },
        conversation_id=conversation["id"],
        mailbox_id=row["mailbox_id"],
        sequence=int(sequence),
        created_at=now,
    )


def _post_system_message(
    tx: Tx,
    org_id: str,
    conversation_id: str,
    content: str,
    handoff_id: str,
    *,
    private: bool = False,
) -> None:
    # Imported here because conversations.actions imports this module for its hooks.
    from ..conversations import actions as conversation_actions

    principal = Principal(org_id=org_id, role="admin", kind="secret", subject="routing")
    conversation_actions.send_message(
        tx,
        principal,
        conversation_id,
        MessageCreate(
            content=content,
            author_type="system",
            private=private,
            metadata={"handoffId": handoff_id},
        ),
    )


def _emit_handoff(tx: Tx, event_type: str, row: dict[str, Any], mailbox_id: str, now: int) -> None:
    # Customers may not read agents, so the widget learns the name from the event.
    handoff = service.handoff_view(tx, row).model_dump(mode="json")
    emit(
        tx,
        org_id=row["org_id"],
        type=event_type,
        data={
            "handoff": handoff,
            "status": handoff["status"],
            "agentId": handoff["agentId"],
            "agentName": handoff["agentName"],
            "estimatedWaitTime": handoff["estimatedWaitTime"],
            "position": handoff["position"],
        },
        conversation_id=row["conversation_id"],
        mailbox_id=mailbox_id,
        created_at=now,
    )


def _ai_handoff_note(reason: str | None) -> str:
    """Return the agents' private note about a handoff that the AI requested."""
    reason_text = f" (reason: {reason})" if reason else ""
    return (
        f"The AI handed this conversation to the support team{reason_text}. "
        "Its reply already informs the customer that a person will answer here."
    )


def _handoff_notice(tx: Tx, conversation: dict[str, Any]) -> str:
    """Return the handoff notice in the language of the customer's latest messages.

    The conversation's ``metadata.locale`` decides when the messages do not.
    """
    rows = tx.all(
        "SELECT content FROM messages WHERE conversation_id = :conversation_id "
        "AND author_type = 'customer' ORDER BY created_at DESC, seq DESC LIMIT :limit",
        conversation_id=conversation["id"],
        limit=NOTICE_LANGUAGE_MESSAGES,
    )
    texts = [row["content"] for row in rows] or [""]
    locale = json.loads(conversation["metadata"] or "{}").get("locale")
    return connecting_notice(detect_language(texts[0], texts[1:], locale))
