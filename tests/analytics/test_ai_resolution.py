"""AI resolution: resolved with an AI reply and no agent involvement, whoever set the status."""

from __future__ import annotations

from campfire_server.analytics import facts

from .conftest import agent_token_headers, ms

NOW = "2024-06-01T00:00:00Z"
QUERY = {"from": "2024-05-28", "to": "2024-05-28", "metrics": "resolution_rate"}


async def nine_conversations(history, client, tenant):
    """Write nine conversations on May 28, one hour apart, each ending differently.

    Two are AI resolutions (B and H). Six more are resolved (A, C, D, E, F,
    G) and one (I) never is, so 8 of 9 are resolved and 2 of 9 by the AI.
    """
    names = "ABCDEFGHI"
    ids = {}
    for index, name in enumerate(names):
        history.at(ms("2024-05-28T01:00:00Z") + index * 3_600_000)
        ids[name] = conversation = await history.conversation()
        if name == "A":
            # Customer messages only, then resolved by the API key.
            await history.say(conversation, "customer")
            history.later(60)
            await history.say(conversation, "customer")
            history.later(60)
            await history.resolve(conversation)
        elif name == "B":
            await history.say(conversation, "customer")
            history.later(10)
            await history.say(conversation, "ai")
            history.later(30)
            await history.resolve(conversation)
        elif name == "C":
            await history.say(conversation, "customer")
            history.later(10)
            await history.say(conversation, "ai")
            history.later(20)
            await history.say(conversation, "agent")
            await history.resolve(conversation)
        elif name == "D":
            await history.say(conversation, "customer")
            history.later(10)
            await history.say(conversation, "ai")
            history.later(5)
            await history.say(conversation, "agent", private=True)
            history.later(5)
            await history.resolve(conversation)
        elif name == "E":
            await history.say(conversation, "customer")
            history.later(10)
            await history.say(conversation, "ai")
            await history.hand_off(conversation)
            history.later(5)
            await history.resolve(conversation)
        elif name == "F":
            # No message from anyone.
            history.later(30)
            await history.resolve(conversation)
        elif name == "G":
            # Resolved by an agent's token before the AI replied; the AI reply
            # and the second resolution come later and do not change the first.
            await history.say(conversation, "customer")
            history.later(20)
            response = await client.patch(
                f"/conversations/{conversation}",
                json={"status": "resolved"},
                headers=agent_token_headers(tenant),
            )
            assert response.status_code == 200, response.text
            history.later(60)
            await history.say(conversation, "customer")
            history.later(10)
            await history.say(conversation, "ai")
            await history.resolve(conversation)
        elif name == "H":
            # The reply and the resolution share a millisecond: the reply counts first.
            await history.say(conversation, "customer")
            history.later(10)
            await history.say(conversation, "ai")
            await history.resolve(conversation)
        else:
            await history.say(conversation, "customer")
            history.later(10)
            await history.say(conversation, "ai")
    history.at(NOW)
    return ids


async def test_ai_resolution_needs_ai_reply(history, client, tenant):
    await nine_conversations(history, client, tenant)
    body = await history.metrics(**QUERY)
    resolution = body["metrics"]["resolution_rate"]
    assert resolution["sampleSize"] == 9
    assert resolution["resolved"] == 8
    assert resolution["aiResolved"] == 2
    assert resolution["total_resolution"] == 0.8889
    assert resolution["ai_resolution"] == 0.2222
    assert "with an AI reply and no agent involvement" in resolution["definition"]


async def test_ai_resolution_series_matches_summary(history, client, tenant):
    await nine_conversations(history, client, tenant)
    body = await history.metrics(interval="day", **QUERY)
    (bucket,) = body["series"]
    point = bucket["metrics"]["resolution_rate"]
    assert (point["resolved"], point["aiResolved"], point["sampleSize"]) == (8, 2, 9)
    assert point["ai_resolution"] == 0.2222


async def test_export_names_who_resolved(history, client, tenant):
    ids = await nine_conversations(history, client, tenant)
    export = await client.get(
        "/analytics/conversations.csv",
        params={"from": "2024-05-28", "to": "2024-05-28"},
        headers=tenant.headers,
    )
    assert export.status_code == 200
    lines = export.text.splitlines()
    column = lines[0].split(",").index("resolved_by")
    resolved_by = {line.split(",")[0]: line.split(",")[column] for line in lines[1:]}
    expected = {
        "A": "none",
        "B": "ai",
        "C": "agent",
        "D": "agent",
        "E": "agent",
        "F": "none",
        "G": "none",
        "H": "ai",
        "I": "",
    }
    assert {name: resolved_by[ids[name]] for name in expected} == expected


async def test_same_millisecond_counts_stored_order(history, client, db, tenant):
    """Items of the resolution's millisecond count by the order they were stored."""
    history.at(ms("2024-05-28T01:00:00Z"))
    resolved_first = await history.conversation()
    await history.say(resolved_first, "customer")
    history.later(10)
    await history.say(resolved_first, "ai")
    history.later(10)
    await history.resolve(resolved_first)
    await history.say(resolved_first, "agent")

    history.later(3600)
    ai_after = await history.conversation()
    await history.say(ai_after, "customer")
    history.later(10)
    await history.resolve(ai_after)
    await history.say(ai_after, "ai")

    history.later(3600)
    handoff_after = await history.conversation()
    await history.say(handoff_after, "customer")
    history.later(10)
    await history.say(handoff_after, "ai")
    history.later(10)
    await history.resolve(handoff_after)
    await history.hand_off(handoff_after)
    history.at(NOW)

    body = await history.metrics(**QUERY)
    resolution = body["metrics"]["resolution_rate"]
    assert resolution["resolved"] == 3
    assert resolution["aiResolved"] == 2

    export = await client.get(
        "/analytics/conversations.csv",
        params={"from": "2024-05-28", "to": "2024-05-28"},
        headers=tenant.headers,
    )
    assert export.status_code == 200
    lines = export.text.splitlines()
    column = lines[0].split(",").index("resolved_by")
    resolved_by = {line.split(",")[0]: line.split(",")[column] for line in lines[1:]}
    assert resolved_by[resolved_first] == "ai"
    assert resolved_by[ai_after] == "none"
    assert resolved_by[handoff_after] == "ai"

    ids = [resolved_first, ai_after, handoff_after]
    live = await ai_resolved_flags(db, ids)
    await db.write(lambda tx: facts.rebuild(tx, ids))
    assert await ai_resolved_flags(db, ids) == live
    assert live == [1, 0, 1]


async def ai_resolved_flags(db, conversation_ids: list[str]) -> list[int]:
    rows = await db.read(
        lambda tx: {
            row["conversation_id"]: row["ai_resolved"]
            for row in tx.all("SELECT conversation_id, ai_resolved FROM analytics_facts")
        }
    )
    return [rows[conversation_id] for conversation_id in conversation_ids]
