"""Routing rules: agent choice, queue order, positions and wait estimates."""

from __future__ import annotations

from dataclasses import replace

import pytest

from campfire_server.errors import ValidationFailed
from campfire_server.routing import rules
from campfire_server.routing.rules import AgentState, QueueEntry


def agent(
    agent_id: str,
    *,
    status: str = "online",
    capacity: int = 2,
    skills: tuple[str, ...] = (),
    load: int = 0,
    idle_since: int = 0,
) -> AgentState:
    return AgentState(agent_id, status, capacity, frozenset(skills), load, idle_since)


def entry(
    handoff_id: str, priority: str = "medium", order: int = 0, skills: tuple[str, ...] = ()
) -> QueueEntry:
    return QueueEntry(handoff_id, priority, order, frozenset(skills))


def test_choose_agent_needs_online_skills_and_capacity():
    agents = [
        agent("away", status="away"),
        agent("offline", status="offline"),
        agent("full", capacity=1, load=1, skills=("billing",)),
        agent("unskilled"),
        agent("fit", skills=("billing", "enterprise")),
    ]
    chosen = rules.choose_agent(agents, frozenset({"billing", "enterprise"}))
    assert chosen is not None
    assert chosen.id == "fit"


def test_choose_agent_none_when_nobody_fits():
    agents = [agent("a", skills=("billing",)), agent("b", status="away", skills=("legal",))]
    assert rules.choose_agent(agents, frozenset({"legal"})) is None


def test_choose_agent_prefers_fewest_assignments():
    agents = [agent("a", load=1, idle_since=0), agent("b", load=0, idle_since=500)]
    assert rules.choose_agent(agents, frozenset()).id == "b"


def test_choose_agent_then_longest_idle_then_id():
    agents = [agent("c", idle_since=200), agent("b", idle_since=100), agent("a", idle_since=100)]
    assert rules.choose_agent(agents, frozenset()).id == "a"
    agents[2].idle_since = 300
    assert rules.choose_agent(agents, frozenset()).id == "b"


def test_choose_agent_prefers_previous_agent():
    agents = [agent("idle", load=0, idle_since=0), agent("before", load=1, idle_since=900)]
    assert rules.choose_agent(agents, frozenset(), previous="before").id == "before"


@pytest.mark.parametrize(
    "previous",
    [
        agent("before", status="away"),
        agent("before", status="offline"),
        agent("before", capacity=1, load=1),
        agent("before", skills=("sales",)),
    ],
    ids=["away", "offline", "full", "unskilled"],
)
def test_choose_agent_previous_unavailable_falls_back(previous):
    agents = [agent("idle", skills=("billing",)), replace(previous)]
    chosen = rules.choose_agent(agents, frozenset({"billing"}), previous="before")
    assert chosen is not None
    assert chosen.id == "idle"


def test_plan_gives_handoff_to_previous_agent():
    agents = [agent("a", capacity=2), agent("b", capacity=2, load=1, idle_since=500)]
    queue = [
        QueueEntry("first", "medium", 1, frozenset()),
        QueueEntry("reopened", "medium", 2, frozenset(), previous_agent_id="b"),
    ]
    assert rules.plan_assignments(queue, agents, now_ms=1000) == [
        ("first", "a"),
        ("reopened", "b"),
    ]


def test_plan_waits_for_offline_assignee():
    agents = [agent("free"), agent("owner", status="offline")]
    queue = [QueueEntry("held", "medium", 1, frozenset(), assignee_id="owner")]
    assert rules.plan_assignments(queue, agents, now_ms=1000) == []


def test_plan_gives_online_assignee_without_slot():
    # The held conversation already fills the owner's only slot.
    agents = [agent("owner", capacity=1, load=1, skills=("sales",)), agent("free")]
    queue = [
        QueueEntry("held", "low", 1, frozenset({"billing"}), assignee_id="owner"),
        QueueEntry("other", "medium", 2, frozenset()),
    ]
    assert rules.plan_assignments(queue, agents, now_ms=1000) == [
        ("other", "free"),
        ("held", "owner"),
    ]


def test_waiting_handoff_competes_with_none():
    agents = [agent("a", status="offline"), agent("owner", status="offline")]
    queue = [
        entry("first", order=1),
        QueueEntry("held", "urgent", 0, frozenset(), assignee_id="owner"),
        entry("second", order=3),
    ]
    assert rules.queue_positions(queue, agents) == {"held": 1, "first": 1, "second": 2}


def test_serving_capacity_of_waiting_handoff():
    agents = [agent("a", capacity=3), agent("owner", capacity=2, status="offline")]
    held = QueueEntry("held", "medium", 0, frozenset(), assignee_id="owner")
    assert rules.serving_capacity(held, agents) == 0
    assert rules.serving_capacity(entry("open"), agents) == 3
    agents[1].status = "online"
    assert rules.serving_capacity(held, agents) == 2


def test_queue_order_priority_then_age():
    queue = [
        entry("low-old", "low", 1),
        entry("medium-new", "medium", 50),
        entry("urgent-new", "urgent", 90),
        entry("high-old", "high", 10),
        entry("medium-old", "medium", 20),
    ]
    ordered = [item.id for item in sorted(queue, key=rules.queue_sort_key)]
    assert ordered == ["urgent-new", "high-old", "medium-old", "medium-new", "low-old"]


def test_plan_respects_capacity_and_spreads_load():
    agents = [agent("a", capacity=2), agent("b", capacity=2)]
    queue = [entry(f"h{i}", order=i) for i in range(6)]
    plan = rules.plan_assignments(queue, agents, now_ms=1000)

    assert [handoff for handoff, _ in plan] == ["h0", "h1", "h2", "h3"]
    taken = [agent_id for _, agent_id in plan]
    assert taken.count("a") == 2
    assert taken.count("b") == 2
    # The caller's agents are left unchanged.
    assert [item.load for item in agents] == [0, 0]


def test_plan_skips_unservable_head_without_blocking():
    agents = [agent("general", capacity=1)]
    queue = [entry("needs-legal", order=1, skills=("legal",)), entry("plain", order=2)]
    assert rules.plan_assignments(queue, agents, now_ms=0) == [("plain", "general")]


def test_plan_gives_oldest_matching_first():
    agents = [agent("biller", capacity=1, skills=("billing",))]
    queue = [entry("new", order=30, skills=("billing",)), entry("old", order=10)]
    assert rules.plan_assignments(queue, agents, now_ms=0) == [("old", "biller")]


def test_positions_count_only_competitors():
    agents = [agent("biller", skills=("billing",)), agent("lawyer", skills=("legal",))]
    queue = [
        entry("b1", order=1, skills=("billing",)),
        entry("l1", order=2, skills=("legal",)),
        entry("b2", order=3, skills=("billing",)),
        entry("any", order=4),
    ]
    positions = rules.queue_positions(queue, agents)

    assert positions["b1"] == 1
    assert positions["l1"] == 1
    assert positions["b2"] == 2
    # Both agents could take "any", so everything ahead competes with it.
    assert positions["any"] == 4


def test_positions_of_unroutable_count_same_skills():
    queue = [entry("x1", order=1, skills=("klingon",)), entry("x2", order=2, skills=("klingon",))]
    positions = rules.queue_positions(queue, [agent("a")])
    assert positions == {"x1": 1, "x2": 2}


@pytest.mark.parametrize(
    ("position", "capacity", "average", "expected"),
    [
        (1, 10, 300, 30),
        (3, 2, 240, 360),
        (1, 3, 100, 34),
        (5, 1, 60, 300),
        (1, 0, 300, None),
    ],
)
def test_estimate_wait_formula(position, capacity, average, expected):
    assert rules.estimate_wait_seconds(position, capacity, average) == expected


def test_online_capacity_counts_matching_online_agents():
    agents = [
        agent("a", capacity=3, skills=("billing",)),
        agent("b", capacity=4, skills=("billing",), status="away"),
        agent("c", capacity=5),
    ]
    assert rules.online_capacity(agents, frozenset({"billing"})) == 3
    assert rules.online_capacity(agents, frozenset()) == 8


def test_unroutable_skills_lists_unknown_ones():
    agents = [agent("a", skills=("billing",), status="offline")]
    assert rules.unroutable_skills(["billing", "klingon"], agents) == ["klingon"]


def test_normalise_skills_trims_lowercases_dedupes():
    assert rules.normalise_skills([" Billing", "billing", "Enterprise "]) == [
        "billing",
        "enterprise",
    ]


@pytest.mark.parametrize("bad", ["", "   ", "x" * 65, "tab\there"])
def test_normalise_skills_rejects_bad_names(bad):
    with pytest.raises(ValidationFailed) as caught:
        rules.normalise_skills(["ok", bad])
    assert caught.value.details["field"] == "requiredSkills[1]"


def test_normalise_skills_rejects_too_many():
    with pytest.raises(ValidationFailed):
        rules.normalise_skills([f"s{i}" for i in range(rules.MAX_SKILLS + 1)])
