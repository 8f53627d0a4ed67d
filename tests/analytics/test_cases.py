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


async def chicago_month_end(history):
    """Write conversations X, Y, Z and W around midnight of March 31 in Chicago (CDT)."""
    history.at("2024-03-31T23:30:00-05:00")
    x = await history.conversation()
    await history.say(x, "customer")
    history.later(30)
    await history.say(x, "ai")
    await history.resolve(x)
    history.later(60)
    await history.rate(x, 5)

    history.at("2024-04-01T00:30:00-05:00")
    y = await history.conversation()
    await history.say(y, "customer")
    await history.rate(y, 3)

    history.at("2024-03-31T10:00:00-05:00")
    z = await history.conversation()
    await history.say(z, "customer")

    history.at("2024-03-31T12:00:00-05:00")
    w = await history.conversation()
    await history.say(w, "customer")
    history.later(60)
    await history.say(w, "agent")
    history.later(60)
    await history.resolve(w)
    history.at("2024-03-31T13:00:00-05:00")
    await history.say(w, "customer")
    history.later(30)
    await history.say(w, "agent")
    history.at("2024-03-31T14:00:00-05:00")
    await history.resolve(w)

    # Z is rated the next local day; the rating still counts on its creation day.
    history.at("2024-04-01T09:00:00-05:00")
    await history.rate(z, 4)
    history.at("2024-04-10T00:00:00Z")
    return x, y, z, w


async def test_timezone_decides_the_day(history):
    await chicago_month_end(history)
    params = {"metrics": "satisfaction,resolution_rate,conversation_volume"}

    chicago = await history.metrics(
        **{"from": "2024-03-31", "to": "2024-03-31", "timezone": "America/Chicago"}, **params
    )
    metrics = chicago["metrics"]
    assert chicago["from"] == "2024-03-31T05:00:00.000Z"
    assert chicago["to"] == "2024-04-01T05:00:00.000Z"
    assert metrics["conversation_volume"]["total"] == 3  # X, Z and W; not Y
    assert metrics["satisfaction"]["average"] == 4.5  # X 5 and Z 4
    assert metrics["satisfaction"]["total_responses"] == 2
    # W was resolved twice and counts once; only X was resolved before any agent.
    assert metrics["resolution_rate"]["total_resolution"] == 0.6667
    assert metrics["resolution_rate"]["resolved"] == 2
    assert metrics["resolution_rate"]["ai_resolution"] == 0.3333

    utc = await history.metrics(**{"from": "2024-03-31", "to": "2024-03-31"}, **params)
    assert utc["timezone"] == "UTC"
    assert utc["metrics"]["conversation_volume"]["total"] == 2  # Z and W; X is on April 1
    assert utc["metrics"]["satisfaction"]["average"] == 4.0
    assert utc["metrics"]["satisfaction"]["total_responses"] == 1
    assert utc["metrics"]["resolution_rate"]["total_resolution"] == 0.5

    april_first = await history.metrics(**{"from": "2024-04-01", "to": "2024-04-01"}, **params)
    assert april_first["metrics"]["conversation_volume"]["total"] == 2  # X and Y
    assert april_first["metrics"]["satisfaction"]["average"] == 4.0


async def test_views_agree_on_resolutions(history, client, tenant):
    x, _y, _z, w = await chicago_month_end(history)
    query = {"from": "2024-03-31", "to": "2024-03-31", "timezone": "America/Chicago"}
    summary = await history.metrics(metrics="resolution_rate", **query)
    series = await history.metrics(metrics="resolution_rate", interval="day", **query)
    assert series["series"][0]["metrics"]["resolution_rate"]["resolved"] == 2
    assert series["series"][0]["metrics"]["resolution_rate"] == {
        key: value
        for key, value in summary["metrics"]["resolution_rate"].items()
        if key in ("ai_resolution", "total_resolution", "resolved", "aiResolved", "sampleSize")
    }

    export = await client.get("/analytics/conversations.csv", params=query, headers=tenant.headers)
    rows = {line.split(",")[0]: line.split(",") for line in export.text.splitlines()[1:]}
    assert rows[x][11] == "ai"
    assert rows[w][11] == "agent"
    assert rows[w][9] == "2024-03-31T17:02:00.000Z"  # the first resolution
    assert sum(1 for row in rows.values() if row[9]) == 2


async def test_daily_sums_match_week_across_dst(history):
    conversations = [
        ("2024-03-09T23:59:00-06:00", 2),  # Mar 9, 05:59Z on Mar 10
        ("2024-03-10T00:30:00-06:00", 4),  # first hour of the 23-hour day
        ("2024-03-10T23:30:00-05:00", 5),  # last hour, 04:30Z on Mar 11
        ("2024-03-11T00:10:00-05:00", 1),
    ]
    for created, rating in conversations:
        history.at(created)
        conversation = await history.conversation()
        await history.rate(conversation, rating)
    history.at("2024-04-01T00:00:00Z")
    zone = {"timezone": "America/Chicago", "metrics": "satisfaction"}

    week = await history.metrics(**{"from": "2024-03-08", "to": "2024-03-14"}, **zone)
    assert week["metrics"]["satisfaction"]["total_responses"] == 4
    daily = []
    for day in range(8, 15):
        date = f"2024-03-{day:02d}"
        body = await history.metrics(**{"from": date, "to": date}, **zone)
        daily.append(body["metrics"]["satisfaction"]["total_responses"])
    assert daily == [0, 1, 2, 1, 0, 0, 0]
    assert sum(daily) == week["metrics"]["satisfaction"]["total_responses"]

    series = await history.metrics(
        **{"from": "2024-03-08", "to": "2024-03-14"}, interval="day", **zone
    )
    buckets = series["series"]
    assert [b["metrics"]["satisfaction"]["total_responses"] for b in buckets] == daily
    assert buckets[2]["from"] == "2024-03-10T06:00:00.000Z"
    assert buckets[2]["to"] == "2024-03-11T05:00:00.000Z"
    assert buckets[2]["metrics"]["satisfaction"]["average"] == 4.5

    hours = await history.metrics(
        **{"from": "2024-03-10", "to": "2024-03-10"}, interval="hour", **zone
    )
    counts = [b["metrics"]["satisfaction"]["total_responses"] for b in hours["series"]]
    assert len(counts) == 23
    assert counts[0] == 1
    assert counts[-1] == 1
    assert sum(counts) == 2
    assert hours["series"][-1]["from"] == "2024-03-11T04:00:00.000Z"
