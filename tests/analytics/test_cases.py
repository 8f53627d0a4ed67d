"""Reported analytics faults, replayed: time zones, date fields, bot replies and reopens."""

from __future__ import annotations

from .conftest import ms

ALL = (
    "response_time,first_response_time,human_response_time,ai_response_time,"
    "resolution_rate,handoff_rate,satisfaction,conversation_volume"
)


async def test_bot_replies_and_reopen_kept_apart(history):
    t0 = ms("2024-05-06T12:00:00Z")
    conversations = []
    for _ in range(3):
        history.at(t0)
        conversations.append(await history.conversation())
    first, second, third = conversations

    history.at(t0)
    await history.say(first, "customer")
    history.later(5)
    await history.say(first, "ai")
    history.at(t0 + 120_000)
    await history.say(first, "agent")

    history.at(t0)
    await history.say(second, "customer")
    history.later(60)
    await history.say(second, "agent")

    history.at(t0)
    await history.say(third, "customer")
    history.later(10)
    await history.say(third, "ai")
    await history.resolve(third)
    history.at(t0 + 3 * 86_400_000)
    await history.say(third, "customer")
    history.later(600)
    await history.say(third, "agent")

    history.at(t0 + 4 * 86_400_000)
    body = await history.metrics(period="7d", metrics=ALL)
    metrics = body["metrics"]

    human = metrics["human_response_time"]
    assert human["average"] == 260.0
    assert human["sampleSize"] == 3
    assert human["p95"] == 600.0

    ai = metrics["ai_response_time"]
    assert ai["average"] == 7.5
    assert ai["sampleSize"] == 2

    every_reply = metrics["response_time"]
    assert every_reply["average"] == 168.75
    assert every_reply["p95"] == 600.0
    assert every_reply["sampleSize"] == 4
    assert every_reply["average"] < 86_400

    first_reply = metrics["first_response_time"]
    assert first_reply["average"] == 25.0
    assert first_reply["p95"] == 60.0

    resolution = metrics["resolution_rate"]
    assert resolution["ai_resolution"] == 0.3333
    assert resolution["total_resolution"] == 0.3333
    assert resolution["trend"] == "insufficient_data"
