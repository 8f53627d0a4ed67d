"""Routing policy, kept free of storage so each rule can be tested alone.

* An agent can take a handoff when the agent is online, has every required
  skill and has fewer open assignments than its capacity.
* A handoff of a conversation that has an assignee waits for that agent
  alone and goes to the agent once the agent is online, whatever the
  agent's load and skills, because the conversation already counts against
  the agent's capacity.
* A handoff of a conversation without an assignee goes to the agent who
  held the conversation last, through routing or by hand, when that agent
  can take it, so a reopened conversation returns to the same person.
* Among the other agents the one with the fewest open assignments wins,
  then the one idle longest (the earliest ``idle_since``: the later of
  coming online and the last assignment), then the smallest id, so the
  choice is deterministic.
* The queue is ordered by priority (urgent, high, medium, low), then by
  ``queue_order`` (the creation time, or earlier for a handoff returned to
  the front), then by id.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..errors import ValidationFailed
from ..validation import has_visible_character

PRIORITIES = ("urgent", "high", "medium", "low")
PRIORITY_RANK = {priority: rank for rank, priority in enumerate(PRIORITIES)}
AGENT_STATUSES = ("online", "away", "offline")
# The source of an agent's status: a request to the API, or the realtime layer
# when the agent's first socket opened or its last one closed.
STATUS_SET_BY_REQUEST = "request"
STATUS_SET_BY_SOCKETS = "sockets"

MAX_SKILLS = 20
MAX_SKILL_LENGTH = 64


@dataclass(frozen=True, slots=True)
class RoutingPolicy:
    """Operator settings that shape routing; see ``docs/handoff.md``."""

    # Return an agent's automatically assigned handoffs to the front of the
    # queue when the agent goes offline.
    requeue_on_offline: bool = True
    # Handling time assumed for wait estimates when no handoff finished
    # within the history window.
    default_handle_seconds: int = 300
    # How far back finished handoffs count towards the average handling time.
    history_seconds: int = 24 * 3600


@dataclass(slots=True)
class AgentState:
    """The routing view of one agent: presence, capacity, skills and load."""

    id: str
    status: str
    capacity: int
    skills: frozenset[str]
    load: int
    idle_since: int


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One queued handoff."""

    id: str
    priority: str
    queue_order: int
    required_skills: frozenset[str]
    # The agent who held the conversation last, if any.
    previous_agent_id: str | None = None
    # The conversation's assignee, when the handoff waits for that agent alone.
    assignee_id: str | None = None


def normalise_skills(skills: Iterable[str], field: str = "requiredSkills") -> list[str]:
    """Return the skills trimmed, lower-cased and without duplicates, in their first order.

    Raises ``ValidationFailed`` for an empty or overlong skill, a control
    character, or more than ``MAX_SKILLS`` distinct skills.
    """
    result: list[str] = []
    for index, raw in enumerate(skills):
        skill = raw.strip().lower() if isinstance(raw, str) else None
        if (
            not skill
            or len(skill) > MAX_SKILL_LENGTH
            or any(ord(ch) < 0x20 for ch in skill)
            or not has_visible_character(skill)
        ):
            raise ValidationFailed(
                f"{field}[{index}] is not a valid skill",
                field=f"{field}[{index}]",
                value=raw if isinstance(raw, str) else repr(raw),
                expected=f"a skill name of 1 to {MAX_SKILL_LENGTH} printable characters, "
                "at least one of them visible",
            )
        if skill not in result:
            result.append(skill)
    if len(result) > MAX_SKILLS:
        raise ValidationFailed(
            f"{field} lists {len(result)} skills; the limit is {MAX_SKILLS}",
            field=field,
            value=f"<{len(result)} skills>",
            expected=f"at most {MAX_SKILLS} distinct skills",
        )
    return result


def has_skills(agent: AgentState, required: frozenset[str]) -> bool:
    return required <= agent.skills


def can_take(agent: AgentState, required: frozenset[str]) -> bool:
    """Tell whether ``agent`` may be given a new handoff needing ``required`` now."""
    return agent.status == "online" and agent.load < agent.capacity and has_skills(agent, required)


def agent_rank(agent: AgentState) -> tuple[int, int, str]:
    """Sort key of candidate agents: fewest open assignments, then longest idle, then id."""
    return (agent.load, agent.idle_since, agent.id)


def choose_agent(
    agents: Iterable[AgentState], required: frozenset[str], previous: str | None = None
) -> AgentState | None:
    """Return the agent who should take a handoff needing ``required``, or None.

    ``previous`` is the agent who held the conversation last, who wins
    whenever that agent can take the handoff.
    """
    candidates = [agent for agent in agents if can_take(agent, required)]
    for agent in candidates:
        if agent.id == previous:
            return agent
    return min(candidates, key=agent_rank, default=None)


def queue_sort_key(entry: QueueEntry) -> tuple[int, int, str]:
    return (PRIORITY_RANK[entry.priority], entry.queue_order, entry.id)


def plan_assignments(
    queue: Iterable[QueueEntry], agents: Sequence[AgentState], now_ms: int
) -> list[tuple[str, str]]:
    """Walk the queue in order and give each handoff the best agent free for it.

    A handoff that no free agent can take does not block the ones behind it
    that need other skills. A handoff with an ``assignee_id`` goes to that
    agent as soon as the agent is online, and to no one else. Returns
    ``(handoff_id, agent_id)`` pairs in the order they were decided;
    ``agents`` is left unchanged.
    """
    working = [replace(agent) for agent in agents]
    by_id = {agent.id: agent for agent in working}
    plan: list[tuple[str, str]] = []
    # Assignments only add load, so once every online agent is full, all stay full.
    all_full = False
    for entry in sorted(queue, key=queue_sort_key):
        if entry.assignee_id is not None:
            assignee = by_id.get(entry.assignee_id)
            if assignee is not None and assignee.status == "online":
                # The conversation already counts in the assignee's load.
                assignee.idle_since = now_ms
                plan.append((entry.id, assignee.id))
            continue
        all_full = all_full or not any(
            agent.status == "online" and agent.load < agent.capacity for agent in working
        )
        if all_full:
            continue
        agent = choose_agent(working, entry.required_skills, entry.previous_agent_id)
        if agent is None:
            continue
        agent.load += 1
        agent.idle_since = now_ms
        plan.append((entry.id, agent.id))
    return plan


def queue_positions(queue: Iterable[QueueEntry], agents: Sequence[AgentState]) -> dict[str, int]:
    """Return each queued handoff's 1-based position among the handoffs it competes with.

    Two handoffs compete when they need the same skills or when some agent,
    whatever the agent's status, has the skills of both. A handoff's
    position is one more than the competing handoffs ahead of it. A handoff
    that waits for its conversation's assignee competes with none, because
    the assignee takes it without a free slot, so its position is 1.
    """
    positions: dict[str, int] = {}
    ordered: list[QueueEntry] = []
    for entry in sorted(queue, key=queue_sort_key):
        if entry.assignee_id is not None:
            positions[entry.id] = 1
        else:
            ordered.append(entry)
    servers: dict[frozenset[str], frozenset[str]] = {}
    for entry in ordered:
        if entry.required_skills not in servers:
            servers[entry.required_skills] = frozenset(
                agent.id for agent in agents if has_skills(agent, entry.required_skills)
            )

    seen: Counter[frozenset[str]] = Counter()
    for entry in ordered:
        mine = servers[entry.required_skills]
        ahead = sum(
            count
            for skills, count in seen.items()
            if skills == entry.required_skills or servers[skills] & mine
        )
        positions[entry.id] = ahead + 1
        seen[entry.required_skills] += 1
    return positions


def online_capacity(agents: Iterable[AgentState], required: frozenset[str]) -> int:
    """Sum the capacity of the online agents who have every skill in ``required``."""
    return sum(
        agent.capacity
        for agent in agents
        if agent.status == "online" and has_skills(agent, required)
    )


def serving_capacity(entry: QueueEntry, agents: Iterable[AgentState]) -> int:
    """Return the capacity of the online agents who may take ``entry``.

    For a handoff that waits for its conversation's assignee, that is the
    assignee's capacity while online and 0 otherwise.
    """
    if entry.assignee_id is None:
        return online_capacity(agents, entry.required_skills)
    return sum(
        agent.capacity
        for agent in agents
        if agent.id == entry.assignee_id and agent.status == "online"
    )


def estimate_wait_seconds(
    position: int, capacity: int, average_handle_seconds: float
) -> int | None:
    """Estimate the seconds until the handoff at ``position`` gets an agent.

    ``capacity`` is the number of conversations the online matching agents
    can hold at once. When they are all busy and each conversation lasts
    ``average_handle_seconds`` on average, a slot frees up every
    ``average_handle_seconds / capacity`` seconds, and the handoff needs
    ``position`` of them:

        wait = ceil(position * average_handle_seconds / capacity)

    Returns None when no online agent could take the handoff, because then
    no honest figure exists.
    """
    if capacity <= 0:
        return None
    return math.ceil(position * average_handle_seconds / capacity)


def unroutable_skills(required: Iterable[str], agents: Iterable[AgentState]) -> list[str]:
    """Return the required skills that no agent has, whatever the agent's status."""
    known: set[str] = set()
    for agent in agents:
        known |= agent.skills
    return [skill for skill in required if skill not in known]
