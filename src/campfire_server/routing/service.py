"""Queries over agents and handoffs, all scoped to one organization."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ..clock import to_iso
from ..config import Settings
from ..conversations.schemas import CustomerSummary
from ..db.tx import Tx
from ..errors import NotFound
from ..pagination import (
    PageRequest,
    encode_position,
    keyset_clause,
    order_clause,
    pagination,
)
from . import rules
from .rules import AgentState, QueueEntry, RoutingPolicy
from .schemas import Agent, Handoff, QueuedHandoff

AGENT_COLUMNS = (
    "org_id, id, name, email, skills, status, status_source, capacity, idle_since, "
    "last_assigned_at, created_at, updated_at, "
    "CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS has_password"
)
HANDOFF_COLUMNS = (
    "id, org_id, conversation_id, status, reason, priority, required_skills, context, source, "
    "agent_id, assigned_by, unroutable_skills, queue_order, queue_position, "
    "estimated_wait_seconds, created_at, assigned_at, completed_at, updated_at"
)
OPEN_STATUSES = ("queued", "assigned")

_policy = RoutingPolicy()


def configure(policy: RoutingPolicy) -> RoutingPolicy:
    """Install the routing policy of this process and return the previous one."""
    global _policy
    previous, _policy = _policy, policy
    return previous


def current_policy() -> RoutingPolicy:
    return _policy


def policy_from_settings(settings: Settings) -> RoutingPolicy:
    return RoutingPolicy(
        requeue_on_offline=settings.handoff_requeue_on_offline,
        default_handle_seconds=settings.handoff_default_handle_seconds,
        history_seconds=settings.handoff_history_hours * 3600,
    )


def routing_lock(tx: Tx, org_id: str) -> None:
    """Serialise the routing decisions of one organization across processes.

    Every change that can assign, free or reorder work takes this lock
    before it locks any conversation or agent row, so two processes can
    neither give one agent more than its capacity nor assign a handoff
    twice. ``FOR NO KEY UPDATE`` leaves inserts that reference the
    organization unblocked. SQLite's single writer already serialises.
    """
    if tx.dialect == "postgresql":
        tx.value("SELECT id FROM organizations WHERE id = :id FOR NO KEY UPDATE", id=org_id)


# Agents ------------------------------------------------------------------------


def agent_loads(tx: Tx, org_id: str) -> dict[str, int]:
    """Count the open or pending conversations assigned to each agent id."""
    rows = tx.all(
        "SELECT assigned_agent_id, COUNT(*) AS n FROM conversations "
        "WHERE org_id = :org_id AND assigned_agent_id IS NOT NULL "
        "AND status IN ('open', 'pending') GROUP BY assigned_agent_id",
        org_id=org_id,
    )
    return {row["assigned_agent_id"]: int(row["n"]) for row in rows}


def agent_load(tx: Tx, org_id: str, agent_id: str) -> int:
    return int(
        tx.value(
            "SELECT COUNT(*) AS n FROM conversations WHERE org_id = :org_id "
            "AND assigned_agent_id = :agent_id AND status IN ('open', 'pending')",
            org_id=org_id,
            agent_id=agent_id,
        )
    )


def agent_from_row(row: dict[str, Any], load: int) -> Agent:
    return Agent(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        skills=json.loads(row["skills"] or "[]"),
        status=row["status"],
        capacity=row["capacity"],
        has_password=bool(row.get("has_password")),
        open_assignments=load,
        idle_since=to_iso(row["idle_since"]),
        last_assigned_at=to_iso(row["last_assigned_at"]),
        created_at=to_iso(row["created_at"]),
        updated_at=to_iso(row["updated_at"]),
    )


def get_agent_row(tx: Tx, org_id: str, agent_id: str) -> dict[str, Any]:
    row = tx.one(
        f"SELECT {AGENT_COLUMNS} FROM agents WHERE org_id = :org_id AND id = :id",
        org_id=org_id,
        id=agent_id,
    )
    if row is None:
        raise NotFound.for_id("agent", agent_id, field="agentId")
    return row


def get_agent(tx: Tx, org_id: str, agent_id: str) -> Agent:
    row = get_agent_row(tx, org_id, agent_id)
    return agent_from_row(row, agent_load(tx, org_id, agent_id))


def list_agents(
    tx: Tx,
    org_id: str,
    page: PageRequest,
    *,
    status: str | None = None,
    skill: str | None = None,
) -> tuple[list[Agent], dict[str, Any]]:
    """List agents oldest first, optionally only those with ``status`` or ``skill``."""
    where = "org_id = :org_id"
    params: dict[str, Any] = {"org_id": org_id}
    if status is not None:
        where += " AND status = :status"
        params["status"] = status
    if skill is not None:
        # Skills are stored as a JSON array of lower-cased strings.
        quoted = json.dumps(skill.strip().lower(), ensure_ascii=False)
        escaped = quoted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where += " AND skills LIKE :skill_pattern ESCAPE '\\'"
        params["skill_pattern"] = f"%{escaped}%"
    total = tx.value(f"SELECT COUNT(*) AS n FROM agents WHERE {where}", **params)
    where += keyset_clause(page, "asc", params)
    rows = tx.all(
        f"SELECT {AGENT_COLUMNS} FROM agents WHERE {where}" + order_clause(page, "asc"), **params
    )
    rows, meta = pagination(page, rows, int(total))
    loads = agent_loads(tx, org_id)
    return [agent_from_row(row, loads.get(row["id"], 0)) for row in rows], meta


def agent_states(tx: Tx, org_id: str) -> list[AgentState]:
    """Load every agent of the organization with its current load, for routing."""
    rows = tx.all(
        "SELECT id, status, capacity, skills, idle_since, created_at FROM agents "
        "WHERE org_id = :org_id ORDER BY id",
        org_id=org_id,
    )
    loads = agent_loads(tx, org_id)
    return [
        AgentState(
            id=row["id"],
            status=row["status"],
            capacity=row["capacity"],
            skills=frozenset(json.loads(row["skills"] or "[]")),
            load=loads.get(row["id"], 0),
            idle_since=row["idle_since"] if row["idle_since"] is not None else row["created_at"],
        )
        for row in rows
    ]


# Handoffs ------------------------------------------------------------------------


def handoff_from_row(row: dict[str, Any], agent_name: str | None = None) -> Handoff:
    """Build the handoff response of ``row``.

    A queued handoff that waits for its conversation's assignee names that
    agent in ``agentId`` but has no ``agentName``, which is only for an
    agent who has the handoff.
    """
    status = row["status"]
    if status == "assigned":
        position, wait = 0, 0
    elif status == "queued":
        position, wait = row["queue_position"], row["estimated_wait_seconds"]
        agent_name = None
    else:
        position, wait = None, None
    return Handoff(
        id=row["id"],
        conversation_id=row["conversation_id"],
        status=status,
        agent_id=row["agent_id"],
        agent_name=agent_name,
        estimated_wait_time=wait,
        position=position,
        priority=row["priority"],
        required_skills=json.loads(row["required_skills"] or "[]"),
        unroutable_skills=json.loads(row["unroutable_skills"] or "[]"),
        reason=row["reason"],
        context=json.loads(row["context"] or "{}"),
        created_at=to_iso(row["created_at"]),
        assigned_at=to_iso(row["assigned_at"]),
        completed_at=to_iso(row["completed_at"]),
    )


def handoff_view(tx: Tx, row: dict[str, Any]) -> Handoff:
    """Build the handoff response of ``row``, with its agent's display name."""
    agent_name = None
    if row["agent_id"] is not None and row["status"] != "queued":
        agent_name = tx.value(
            "SELECT name FROM agents WHERE org_id = :org_id AND id = :id",
            org_id=row["org_id"],
            id=row["agent_id"],
        )
    return handoff_from_row(row, agent_name)


def get_handoff_row(tx: Tx, handoff_id: str) -> dict[str, Any]:
    row = tx.one(f"SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE id = :id", id=handoff_id)
    if row is None:
        raise NotFound.for_id("handoff", handoff_id)
    return row


def open_handoff_row(tx: Tx, conversation_id: str) -> dict[str, Any] | None:
    """Return the queued or assigned handoff of a conversation, if it has one."""
    return tx.one(
        f"SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id = :conversation_id "
        "AND status IN ('queued', 'assigned')",
        conversation_id=conversation_id,
    )


def latest_handoff_row(tx: Tx, conversation_id: str) -> dict[str, Any] | None:
    return tx.one(
        f"SELECT {HANDOFF_COLUMNS} FROM handoffs WHERE conversation_id = :conversation_id "
        "ORDER BY created_at DESC, id DESC LIMIT 1",
        conversation_id=conversation_id,
    )


def queued_rows(tx: Tx, org_id: str) -> list[dict[str, Any]]:
    """Return the organization's queued handoffs with their conversation's mailbox.

    Each row also has ``previous_agent_id``, the agent who held the
    conversation last (``conversations.last_assignee_id``), which routing
    prefers. A queued row's ``agent_id`` is the conversation's assignee
    that the handoff waits for, or None.
    """
    columns = ", ".join(f"h.{column.strip()}" for column in HANDOFF_COLUMNS.split(","))
    return tx.all(
        f"SELECT {columns}, c.mailbox_id AS mailbox_id, "
        "c.last_assignee_id AS previous_agent_id "
        "FROM handoffs h JOIN conversations c ON c.id = h.conversation_id "
        "WHERE h.org_id = :org_id AND h.status = 'queued'",
        org_id=org_id,
    )


def queue_entry(row: dict[str, Any]) -> QueueEntry:
    return QueueEntry(
        id=row["id"],
        priority=row["priority"],
        queue_order=row["queue_order"],
        required_skills=frozenset(json.loads(row["required_skills"] or "[]")),
        previous_agent_id=row.get("previous_agent_id"),
        assignee_id=row["agent_id"],
    )


def average_handle_seconds(tx: Tx, org_id: str, now_ms: int, policy: RoutingPolicy) -> float:
    """Average seconds from assignment to completion over the history window.

    Returns the policy's default when no handoff was completed by an agent
    within the window.
    """
    average_ms = tx.value(
        "SELECT AVG(completed_at - assigned_at) AS average_ms FROM handoffs "
        "WHERE org_id = :org_id AND status = 'completed' AND assigned_at IS NOT NULL "
        "AND completed_at >= :since",
        org_id=org_id,
        since=now_ms - policy.history_seconds * 1000,
    )
    if average_ms is None:
        return float(policy.default_handle_seconds)
    return float(average_ms) / 1000


# The types of a handoff cursor's values: priority rank, queue order, creation time and id.
HANDOFF_CURSOR_SHAPE = (int, int, int, str)
# The types of a cursor in creation order: creation time and id.
HANDOFF_CREATED_CURSOR_SHAPE = (int, str)

# The orders of the handoff list.
QUEUE_ORDER = "queue"
CREATED_ORDER = "created"


def list_handoffs(
    tx: Tx,
    org_id: str,
    *,
    statuses: Sequence[str],
    mailbox_id: str | None,
    scope_mailbox_ids: Sequence[str],
    request: PageRequest,
    now_ms: int,
    order: str = QUEUE_ORDER,
) -> tuple[list[QueuedHandoff], dict[str, Any]]:
    """List one page of handoffs in ``order``.

    Queue order is priority first (urgent to low), then oldest first, and
    its cursor contains the whole sort key of the last handoff, shaped as
    ``HANDOFF_CURSOR_SHAPE``. Creation order is by creation time, then id,
    neither of which ever changes, so its cursor walk lists exactly once
    each handoff that matches the filters from the first page to the last.
    ``scope_mailbox_ids`` is the credential's mailbox limit (empty: all).
    Returns the page and its ``pagination`` object.

    NOTE: in queue order a handoff returned to the queue moves to the front
    of its priority, and a new one may sort before the cursor. A cursor
    walk in progress then misses it, or lists it twice.
    """
    params: dict[str, Any] = {"org_id": org_id}
    status_names = [f":status_{index}" for index in range(len(statuses))]
    params.update({f"status_{index}": status for index, status in enumerate(statuses)})
    conditions = ["h.org_id = :org_id", f"h.status IN ({', '.join(status_names)})"]
    if mailbox_id is not None:
        conditions.append("c.mailbox_id = :mailbox_id")
        params["mailbox_id"] = mailbox_id
    if scope_mailbox_ids:
        names = [f":scope_{index}" for index in range(len(scope_mailbox_ids))]
        params.update({f"scope_{index}": value for index, value in enumerate(scope_mailbox_ids)})
        conditions.append(f"c.mailbox_id IN ({', '.join(names)})")
    source = "FROM handoffs h JOIN conversations c ON c.id = h.conversation_id"
    total = int(
        tx.value(f"SELECT COUNT(*) AS n {source} WHERE {' AND '.join(conditions)}", **params)
    )

    rank_cases = " ".join(
        f"WHEN '{priority}' THEN {index}" for index, priority in enumerate(rules.PRIORITIES)
    )
    rank = f"CASE h.priority {rank_cases} ELSE {len(rules.PRIORITIES)} END"
    sort_columns = ["priority_rank", "h.queue_order", "h.created_at", "h.id"]
    cursor_columns = [rank, "h.queue_order", "h.created_at", "h.id"]
    cursor_names = ["after_rank", "after_order", "after_created_at", "after_id"]
    if order == CREATED_ORDER:
        sort_columns = cursor_columns = ["h.created_at", "h.id"]
        cursor_names = ["after_created_at", "after_id"]
    if request.cursor is not None:
        params.update(zip(cursor_names, request.cursor, strict=True))
        placeholders = ", ".join(f":{name}" for name in cursor_names)
        conditions.append(f"({', '.join(cursor_columns)}) > ({placeholders})")
    columns = ", ".join(f"h.{column.strip()}" for column in HANDOFF_COLUMNS.split(","))
    rows = tx.all(
        f"SELECT {columns}, {rank} AS priority_rank, c.mailbox_id AS mailbox_id, "
        "c.customer_id AS customer_id, c.subject AS subject, cu.name AS customer_name, "
        f"cu.email AS customer_email, a.name AS agent_name {source} "
        "LEFT JOIN customers cu ON cu.org_id = c.org_id AND cu.id = c.customer_id "
        "LEFT JOIN agents a ON a.org_id = c.org_id AND a.id = h.agent_id "
        f"WHERE {' AND '.join(conditions)} "
        f"ORDER BY {', '.join(sort_columns)} "
        f"LIMIT {request.limit + 1} OFFSET {request.offset}",
        **params,
    )

    def cursor_of(row: dict[str, Any]) -> str:
        position: tuple[int | str, ...] = (
            row["priority_rank"],
            row["queue_order"],
            row["created_at"],
            row["id"],
        )
        if order == CREATED_ORDER:
            position = (row["created_at"], row["id"])
        return encode_position(position, request.list_tag)

    rows, meta = pagination(request, rows, total, cursor_of=cursor_of)
    items = [
        QueuedHandoff(
            **handoff_from_row(row, row["agent_name"]).model_dump(),
            mailbox_id=row["mailbox_id"],
            customer_id=row["customer_id"],
            customer=CustomerSummary(
                id=row["customer_id"], name=row["customer_name"], email=row["customer_email"]
            ),
            subject=row["subject"],
            waiting_seconds=max(0, (now_ms - row["created_at"]) // 1000),
        )
        for row in rows
    ]
    return items, meta
