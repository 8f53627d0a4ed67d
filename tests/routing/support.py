"""Request helpers and invariant checks shared by the routing tests."""

from __future__ import annotations

import json
from typing import Any

import httpx

from campfire_server.db.database import Database

HANDOFF_BODY = {
    "reason": "Customer asked for a person",
    "priority": "medium",
    "requiredSkills": [],
    "context": {
        "customerInfo": {
            "name": "Test Customer A",
            "email": "cust-a@example.test",
            "tier": "enterprise",
        },
        "issueType": "billing",
        "previousAttempts": 1,
    },
}


async def add_agent(
    client: httpx.AsyncClient,
    tenant: Any,
    agent_id: str,
    *,
    status: str = "online",
    capacity: int = 5,
    skills: list[str] | None = None,
) -> dict:
    response = await client.post(
        "/agents",
        json={
            "id": agent_id,
            "name": agent_id.replace("_", " ").title(),
            "email": f"{agent_id}@example.test",
            "status": status,
            "capacity": capacity,
            "skills": skills or [],
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def patch_agent(client: httpx.AsyncClient, tenant: Any, agent_id: str, **body: Any) -> dict:
    response = await client.patch(f"/agents/{agent_id}", json=body, headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def hand_off(
    client: httpx.AsyncClient, tenant: Any, conversation_id: str, **overrides: Any
) -> httpx.Response:
    return await client.post(
        f"/conversations/{conversation_id}/handoff",
        json={**HANDOFF_BODY, **overrides},
        headers=tenant.headers,
    )


async def get_handoff(client: httpx.AsyncClient, tenant: Any, conversation_id: str) -> dict:
    response = await client.get(f"/conversations/{conversation_id}/handoff", headers=tenant.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def events(
    db: Database, org_id: str, *types: str, conversation_id: str | None = None
) -> list[dict]:
    """Return the organization's logged events in commit order, with data decoded."""

    def work(tx):  # type: ignore[no-untyped-def]
        sql = "SELECT type, conversation_id, sequence, data FROM events WHERE org_id = :org_id"
        params: dict[str, Any] = {"org_id": org_id}
        if conversation_id is not None:
            sql += " AND conversation_id = :conversation_id"
            params["conversation_id"] = conversation_id
        return tx.all(sql + " ORDER BY position", **params)

    rows = await db.read(work)
    found = [{**row, "data": json.loads(row["data"])} for row in rows]
    return [row for row in found if not types or row["type"] in types]


async def check_invariants(db: Database, org_id: str) -> dict[str, Any]:
    """Assert the routing invariants of one organization and return its state.

    * no agent has more open conversations than its capacity;
    * each conversation has at most one open handoff;
    * an assigned handoff's agent is its conversation's assignee;
    * a queued handoff either has no agent and its conversation no assignee,
      or waits for its conversation's assignee, who is not online;
    * no queued handoff without an agent could be taken by an online agent
      with spare capacity.
    """

    def work(tx):  # type: ignore[no-untyped-def]
        agents = tx.all(
            "SELECT id, status, capacity, skills FROM agents WHERE org_id = :o", o=org_id
        )
        handoffs = tx.all(
            "SELECT h.id, h.status, h.agent_id, h.conversation_id, h.required_skills, "
            "c.assigned_agent_id, c.status AS conversation_status FROM handoffs h "
            "JOIN conversations c ON c.id = h.conversation_id WHERE h.org_id = :o",
            o=org_id,
        )
        loads = tx.all(
            "SELECT assigned_agent_id, COUNT(*) AS n FROM conversations WHERE org_id = :o "
            "AND assigned_agent_id IS NOT NULL AND status IN ('open', 'pending') "
            "GROUP BY assigned_agent_id",
            o=org_id,
        )
        return agents, handoffs, loads

    agents, handoffs, load_rows = await db.read(work)
    loads = {row["assigned_agent_id"]: int(row["n"]) for row in load_rows}
    for agent in agents:
        assert loads.get(agent["id"], 0) <= agent["capacity"], agent

    open_handoffs = [row for row in handoffs if row["status"] in ("queued", "assigned")]
    conversation_ids = [row["conversation_id"] for row in open_handoffs]
    assert len(conversation_ids) == len(set(conversation_ids))

    for row in open_handoffs:
        if row["status"] == "assigned":
            assert row["agent_id"] == row["assigned_agent_id"], row
            assert row["conversation_status"] in ("open", "pending"), row
        else:
            assert row["agent_id"] == row["assigned_agent_id"], row
            statuses = {agent["id"]: agent["status"] for agent in agents}
            assert row["agent_id"] is None or statuses[row["agent_id"]] != "online", row

    for row in open_handoffs:
        if row["status"] != "queued" or row["agent_id"] is not None:
            continue
        needed = set(json.loads(row["required_skills"]))
        for agent in agents:
            free = agent["status"] == "online" and loads.get(agent["id"], 0) < agent["capacity"]
            assert not (free and needed <= set(json.loads(agent["skills"]))), (row, agent)

    return {"agents": agents, "handoffs": handoffs, "loads": loads}


async def check_capacity_history(db: Database, org_id: str, capacities: dict[str, int]) -> int:
    """Replay the assignee and status of every conversation from its events, in commit order.

    Asserts that no agent ever held more open conversations than
    ``capacities`` allows, at any point between two events, and returns the
    number of events replayed. Every change of assignee or status emits
    ``conversation.updated`` with a snapshot of the conversation.
    """
    state: dict[str, tuple[str | None, str]] = {}
    replayed = 0
    for event in await events(db, org_id, "conversation.created", "conversation.updated"):
        snapshot = event["data"]["conversation"]
        state[event["conversation_id"]] = (
            snapshot.get("assignedAgentId"),
            snapshot["status"],
        )
        replayed += 1
        loads: dict[str, int] = {}
        for assignee, status in state.values():
            if assignee is not None and status in ("open", "pending"):
                loads[assignee] = loads.get(assignee, 0) + 1
        for agent_id, load in loads.items():
            assert load <= capacities.get(agent_id, 0), (event, loads)
    return replayed


async def handoff_frames(
    db: Database, org_id: str, conversation_id: str | None = None
) -> list[dict]:
    """Return the realtime ``handoff`` frames that the organization's events map to."""
    from campfire_server.events.records import EventRecord
    from campfire_server.routing.frames import handoff_frame

    def work(tx):  # type: ignore[no-untyped-def]
        return tx.all("SELECT * FROM events WHERE org_id = :o ORDER BY position", o=org_id)

    frames = [handoff_frame(EventRecord.from_row(row)) for row in await db.read(work)]
    return [
        frame
        for frame in frames
        if frame is not None
        and (conversation_id is None or frame["channel"] == f"conversation:{conversation_id}")
    ]
