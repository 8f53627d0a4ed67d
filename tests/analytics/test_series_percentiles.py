"""Series percentiles equal the nearest rank of every bucket's waits, counted by hand."""

from __future__ import annotations

import random
from typing import Any

from campfire_server.analytics import wait_bins
from campfire_server.analytics.stream import AI

from .conftest import ms

START = ms("2024-05-27T05:17:13.250Z")
NOW = ms("2024-05-30T21:43:07.125Z")
METRICS = "response_time,first_response_time,ai_response_time,human_response_time"

# Which waits each metric takes: series and a condition on the wait row.
SELECTORS = {
    "response_time": (0, lambda row: True),
    "first_response_time": (0, lambda row: row["answered"] == 1),
    "ai_response_time": (0, lambda row: row["reply_kind"] == AI),
    "human_response_time": (1, lambda row: True),
}
# Wait lengths at and beside bin edges, so a tie with an edge lands in the right bin.
EDGE_WAITS = [0, 1, 999, 1000, 1001, wait_bins.EDGES[1] - 1, wait_bins.EDGES[1], 59_999, 60_000]


def random_wait(rng: random.Random) -> int:
    if rng.random() < 0.25:
        return rng.choice(EDGE_WAITS)
    # Log-uniform from 0.1 s to about two days, with many repeated values.
    return int(round(10 ** rng.uniform(2, 8.2), -1 if rng.random() < 0.5 else 0))


async def random_history(history, tenant) -> None:
    """Write 40 conversations over three days in two mailboxes, through the API."""
    rng = random.Random(20240527)
    for _number in range(40):
        moment = START + rng.randrange(3 * 86_400_000)
        history.at(moment)
        mailbox = rng.choice((tenant.mailbox_id, tenant.other_mailbox_id))
        conversation = await history.conversation(mailbox_id=mailbox)
        for _turn in range(rng.randint(1, 4)):
            moment += rng.randrange(1, 120_000)
            history.at(moment)
            await history.say(conversation, "customer")
            if rng.random() < 0.2:
                moment += rng.randrange(1, 30_000)
                history.at(moment)
                await history.say(conversation, "customer")
            moment += random_wait(rng)
            history.at(moment)
            await history.say(conversation, rng.choice(("ai", "ai", "agent")))
            if rng.random() < 0.3:
                moment += random_wait(rng)
                history.at(moment)
                await history.say(conversation, "agent")
    history.at(NOW)


async def wait_rows(db, org_id) -> list[dict[str, Any]]:
    return await db.read(
        lambda tx: tx.all(
            "SELECT created_at, mailbox_id, series, answered, reply_kind, ms "
            "FROM analytics_waits WHERE org_id = :org_id",
            org_id=org_id,
        )
    )


def nearest_rank(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = (95 * len(ordered) + 99) // 100
    return round(ordered[rank - 1] / 1000, 3)


def expected_point(
    rows: list[dict[str, Any]], name: str, low: int, high: int, mailbox: str | None
) -> tuple[float | None, int]:
    series, condition = SELECTORS[name]
    values = [
        int(row["ms"])
        for row in rows
        if int(row["series"]) == series
        and low <= int(row["created_at"]) < high
        and (mailbox is None or row["mailbox_id"] == mailbox)
        and condition(row)
    ]
    return nearest_rank(values), len(values)


def check_series(body: dict[str, Any], rows: list[dict[str, Any]], mailbox: str | None) -> int:
    """Assert every bucket's p95 and sample size; return how many buckets had waits."""
    filled = 0
    for bucket in body["series"]:
        low, high = ms(bucket["from"]), ms(bucket["to"])
        for name in SELECTORS:
            p95, size = expected_point(rows, name, low, high, mailbox)
            point = bucket["metrics"][name]
            assert point["sampleSize"] == size, (bucket["from"], name)
            assert point["p95"] == p95, (bucket["from"], name)
            filled += size > 0
    return filled


async def test_daily_p95_half_hour_zone(history, db, tenant):
    await random_history(history, tenant)
    rows = await wait_rows(db, tenant.org_id)
    assert len(rows) > 100

    # Asia/Kolkata days start at 18:30 UTC, so every boundary cuts an hour.
    body = await history.metrics(
        **{"from": "2024-05-26", "to": "2024-05-31"},
        timezone="Asia/Kolkata",
        metrics=METRICS,
        interval="day",
    )
    assert check_series(body, rows, None) >= 12


async def test_hourly_p95_rolling_period(history, db, tenant):
    await random_history(history, tenant)
    rows = await wait_rows(db, tenant.org_id)

    # A rolling period starts and ends inside an hour.
    body = await history.metrics(period="7d", metrics=METRICS, interval="hour")
    assert len(body["series"]) == 169
    assert check_series(body, rows, None) >= 40
    period_p95, _size = expected_point(rows, "response_time", NOW - 7 * 86_400_000, NOW, None)
    assert body["metrics"]["response_time"]["p95"] == period_p95


async def test_weekly_p95_one_mailbox(history, db, tenant):
    await random_history(history, tenant)
    rows = await wait_rows(db, tenant.org_id)

    for mailbox in (tenant.mailbox_id, tenant.other_mailbox_id):
        body = await history.metrics(
            period="30d",
            timezone="America/Chicago",
            metrics=METRICS,
            interval="week",
            mailboxId=mailbox,
        )
        assert check_series(body, rows, mailbox) >= 4

    daily = await history.metrics(
        period="7d", timezone="America/Chicago", metrics=METRICS, interval="day"
    )
    assert check_series(daily, rows, None) >= 12
