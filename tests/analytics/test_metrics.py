"""Metrics, trends, filters and the CSV export on a scripted history."""

from __future__ import annotations

import asyncio
import csv
import io

import pytest

from .conftest import customer_headers, key_headers, ms

ALL = (
    "response_time,first_response_time,human_response_time,ai_response_time,"
    "resolution_rate,handoff_rate,satisfaction,conversation_volume"
)
NOW = "2024-06-01T00:00:00Z"


async def two_weeks(history):
    """Write a previous week of slow agent replies and a current week of fast ones.

    Previous week (May 20): five conversations answered by an agent after
    100, 110, 120, 130 and 140 s, resolved and rated 2, 3, 2, 3, 2; five more
    with a customer message only, one of them handed off.
    Current week (May 28): five answered by the AI after 10..50 s, resolved,
    rated 5, 5, 4, 5, 4; five answered by an agent after 10..50 s, resolved.
    """
    for index, (delay, rating) in enumerate(
        zip([100, 110, 120, 130, 140], [2, 3, 2, 3, 2], strict=True)
    ):
        history.at(ms("2024-05-20T10:00:00Z") + index * 60_000)
        conversation = await history.conversation()
        await history.say(conversation, "customer")
        history.later(delay)
        await history.say(conversation, "agent")
        await history.resolve(conversation)
        await history.rate(conversation, rating)
    for index in range(5):
        history.at(ms("2024-05-20T12:00:00Z") + index * 60_000)
        conversation = await history.conversation()
        await history.say(conversation, "customer")
        if index == 0:
            await history.hand_off(conversation)

    for index, (delay, rating) in enumerate(
        zip([10, 20, 30, 40, 50], [5, 5, 4, 5, 4], strict=True)
    ):
        history.at(ms("2024-05-28T10:00:00Z") + index * 60_000)
        conversation = await history.conversation()
        await history.say(conversation, "customer")
        history.later(delay)
        await history.say(conversation, "ai")
        await history.resolve(conversation)
        await history.rate(conversation, rating)
    for index, delay in enumerate([10, 20, 30, 40, 50]):
        history.at(ms("2024-05-28T12:00:00Z") + index * 60_000)
        conversation = await history.conversation()
        await history.say(conversation, "customer")
        history.later(delay)
        await history.say(conversation, "agent")
        await history.resolve(conversation)
    history.at(NOW)


async def test_every_metric_and_trend(history):
    await two_weeks(history)
    body = await history.metrics(period="7d", metrics=ALL)
    assert body["period"] == "7d"
    assert body["from"] == "2024-05-25T00:00:00.000Z"
    assert body["comparison"] == {
        "from": "2024-05-18T00:00:00.000Z",
        "to": "2024-05-25T00:00:00.000Z",
        "measuredTo": "2024-05-25T00:00:00.000Z",
    }
    assert body["measuredTo"] == "2024-06-01T00:00:00.000Z"
    metrics = body["metrics"]

    response = metrics["response_time"]
    assert (response["average"], response["p95"], response["sampleSize"]) == (30.0, 50.0, 10)
    assert response["comparison"]["average"] == 120.0
    assert response["comparison"]["sampleSize"] == 5
    assert response["comparison"]["test"] == "welch_t"
    assert response["comparison"]["pValue"] < 0.001
    assert response["trend"] == "improving"
    assert response["unit"] == "seconds"

    first = metrics["first_response_time"]
    assert (first["average"], first["p95"], first["trend"]) == (30.0, 50.0, "improving")

    # The AI-answered conversations were resolved before any agent wrote, so
    # their customers never waited for a person.
    human = metrics["human_response_time"]
    assert (human["average"], human["p95"], human["sampleSize"]) == (30.0, 50.0, 5)
    assert human["trend"] == "improving"

    ai = metrics["ai_response_time"]
    assert (ai["average"], ai["p95"], ai["sampleSize"]) == (30.0, 50.0, 5)
    assert ai["comparison"]["sampleSize"] == 0
    assert ai["trend"] == "insufficient_data"

    resolution = metrics["resolution_rate"]
    assert resolution["total_resolution"] == 1.0
    assert resolution["ai_resolution"] == 0.5
    assert resolution["comparison"]["total_resolution"] == 0.5
    assert resolution["comparison"]["ai_resolution"] == 0.0
    # 10 of 10 against 5 of 10: z = 2.582, p = 0.0098.
    assert resolution["comparison"]["pValue"] == pytest.approx(0.0098, abs=1e-4)
    assert resolution["trend"] == "improving"
    assert resolution["aiResolutionTrend"] == "improving"

    handoff = metrics["handoff_rate"]
    assert (handoff["rate"], handoff["handoffs"]) == (0.0, 0)
    assert handoff["comparison"]["rate"] == 0.1
    # 0 of 10 against 1 of 10: z = -1.026, p = 0.305, within noise.
    assert handoff["trend"] == "stable"

    satisfaction = metrics["satisfaction"]
    assert satisfaction["average"] == 4.6
    assert satisfaction["total_responses"] == 5
    assert satisfaction["comparison"]["average"] == 2.4
    assert satisfaction["trend"] == "improving"

    volume = metrics["conversation_volume"]
    assert (volume["total"], volume["comparison"]["total"]) == (10, 10)
    assert volume["trend"] == "stable"

    for metric in metrics.values():
        assert metric["definition"]
        assert "sampleSize" in metric


async def test_default_metrics_match_api_shape(history):
    await two_weeks(history)
    body = await history.metrics(period="7d")
    assert list(body["metrics"]) == ["response_time", "resolution_rate", "satisfaction"]
    assert {"average", "p95", "trend"} <= set(body["metrics"]["response_time"])
    assert {"ai_resolution", "total_resolution", "trend"} <= set(body["metrics"]["resolution_rate"])
    assert {"average", "total_responses", "trend"} <= set(body["metrics"]["satisfaction"])


async def test_empty_period(history):
    history.at("2030-01-01T00:00:00Z")
    metrics = (await history.metrics(period="24h", metrics=ALL))["metrics"]
    assert metrics["response_time"]["average"] is None
    assert metrics["response_time"]["p95"] is None
    assert metrics["response_time"]["sampleSize"] == 0
    assert metrics["resolution_rate"]["total_resolution"] is None
    assert metrics["satisfaction"]["average"] is None
    assert metrics["satisfaction"]["total_responses"] == 0
    assert metrics["conversation_volume"]["total"] == 0
    for name, metric in metrics.items():
        assert metric["trend"] == "insufficient_data", name


async def test_conversation_spanning_period_end(history):
    history.at("2024-05-31T23:00:00Z")
    conversation = await history.conversation()
    await history.say(conversation, "customer")
    history.at("2024-06-01T00:30:00Z")
    await history.say(conversation, "agent")
    history.at("2024-06-10T00:00:00Z")

    day = await history.metrics(
        **{"from": "2024-05-31", "to": "2024-05-31"}, metrics="response_time"
    )
    assert day["metrics"]["response_time"]["average"] == 5400.0
    assert day["metrics"]["response_time"]["sampleSize"] == 1
    next_day = await history.metrics(
        **{"from": "2024-06-01", "to": "2024-06-01"}, metrics="response_time"
    )
    assert next_day["metrics"]["response_time"]["sampleSize"] == 0
    assert next_day["metrics"]["response_time"]["comparison"]["sampleSize"] == 1


async def test_customer_follow_ups_share_one_wait(history):
    history.at("2024-05-31T10:00:00Z")
    conversation = await history.conversation()
    await history.say(conversation, "customer")
    history.later(60)
    await history.say(conversation, "customer")
    await history.say(conversation, "agent", private=True)
    history.later(60)
    await history.say(conversation, "agent")
    history.at(NOW)

    metrics = (await history.metrics(period="24h", metrics=ALL))["metrics"]
    # Measured from the first unanswered message; the private note is no reply.
    assert metrics["response_time"]["average"] == 120.0
    assert metrics["response_time"]["sampleSize"] == 1
    assert metrics["human_response_time"]["average"] == 120.0


async def test_new_message_updates_figures(history):
    history.at("2024-05-31T10:00:00Z")
    conversation = await history.conversation()
    await history.say(conversation, "customer")
    history.at("2024-05-31T11:00:00Z")
    before = await history.metrics(period="24h", metrics="response_time")
    assert before["metrics"]["response_time"]["sampleSize"] == 0

    await history.say(conversation, "agent")
    history.at(NOW)
    after = await history.metrics(period="24h", metrics="response_time")
    assert after["metrics"]["response_time"]["sampleSize"] == 1
    assert after["metrics"]["response_time"]["average"] == 3600.0


async def test_mailbox_filter(history, client, tenant):
    history.at("2024-05-31T10:00:00Z")
    for mailbox in (tenant.mailbox_id, tenant.other_mailbox_id, tenant.other_mailbox_id):
        await history.conversation(mailbox_id=mailbox)
    history.at(NOW)

    support = await history.metrics(
        period="24h", metrics="conversation_volume", mailboxId=tenant.mailbox_id
    )
    assert support["mailboxId"] == tenant.mailbox_id
    assert support["metrics"]["conversation_volume"]["total"] == 1
    sales = await history.metrics(
        period="24h", metrics="conversation_volume", mailboxId=tenant.other_mailbox_id
    )
    assert sales["metrics"]["conversation_volume"]["total"] == 2

    missing = await client.get(
        "/analytics/metrics", params={"mailboxId": "mailbox_nope"}, headers=tenant.headers
    )
    assert missing.status_code == 404
    assert missing.json()["error"]["details"]["field"] == "mailboxId"


async def test_mailbox_limited_key(history, client, db, tenant):
    history.at("2024-05-31T10:00:00Z")
    for mailbox in (tenant.mailbox_id, tenant.other_mailbox_id):
        await history.conversation(mailbox_id=mailbox)
    history.at(NOW)
    limited = await key_headers(db, tenant, "viewer", mailbox_ids=[tenant.mailbox_id])

    own = await client.get(
        "/analytics/metrics",
        params={"period": "24h", "metrics": "conversation_volume"},
        headers=limited,
    )
    assert own.status_code == 200
    assert own.json()["metrics"]["conversation_volume"]["total"] == 1
    other = await client.get(
        "/analytics/metrics", params={"mailboxId": tenant.other_mailbox_id}, headers=limited
    )
    assert other.status_code == 404


async def test_other_tenant_not_counted(history, client, other_tenant):
    history.at("2024-05-31T10:00:00Z")
    await history.conversation()
    history.at(NOW)
    response = await client.get(
        "/analytics/metrics",
        params={"period": "24h", "metrics": "conversation_volume"},
        headers=other_tenant.headers,
    )
    assert response.json()["metrics"]["conversation_volume"]["total"] == 0


async def test_customer_may_not_read_analytics(client, tenant):
    response = await client.get(
        "/analytics/metrics", headers=customer_headers(tenant, "customer_a")
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTHORIZATION_ERROR"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metrics": "response_time,bogus"}, "metrics"),
        ({"period": "1y"}, "period"),
        ({"period": "7d", "from": "2024-01-01", "to": "2024-01-02"}, "period"),
        ({"from": "2024-01-01"}, "to"),
        ({"from": "01/02/2024", "to": "2024-01-02"}, "from"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"interval": "minute"}, "interval"),
    ],
)
async def test_invalid_query_rejected(client, tenant, params, field):
    response = await client.get("/analytics/metrics", params=params, headers=tenant.headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert error["requestId"] == response.headers["x-request-id"]


@pytest.mark.parametrize("path", ["/analytics/metrics", "/analytics/conversations.csv"])
@pytest.mark.parametrize("name", ["localtime", "posixrules", "posix/Europe/Berlin"])
async def test_non_iana_timezone_rejected(client, tenant, path, name):
    response = await client.get(path, params={"timezone": name}, headers=tenant.headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "timezone"
    assert error["details"]["value"] == name
    assert repr(name) in error["message"]
    assert '"Europe/Berlin"' in error["message"]


@pytest.mark.parametrize("path", ["/analytics/metrics", "/analytics/conversations.csv"])
@pytest.mark.parametrize(
    ("date_from", "date_to", "field"),
    [
        ("0001-01-01", "0001-01-01", "from"),
        ("1969-12-31", "1970-01-02", "from"),
        ("9999-12-31", "9999-12-31", "from"),
        ("9998-12-30", "9999-01-01", "to"),
    ],
)
async def test_dates_outside_range_rejected(client, tenant, path, date_from, date_to, field):
    params = {"from": date_from, "to": date_to, "timezone": "Pacific/Kiritimati"}
    if path == "/analytics/metrics":
        params["interval"] = "week"
    response = await client.get(path, params=params, headers=tenant.headers)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == field
    assert error["details"]["expected"] == "a date from 1970-01-01 to 9998-12-31"


@pytest.mark.parametrize(
    ("date_from", "date_to"), [("1970-01-01", "1970-01-07"), ("9998-12-25", "9998-12-31")]
)
async def test_dates_at_range_ends_accepted(client, tenant, date_from, date_to):
    params = {
        "from": date_from,
        "to": date_to,
        "interval": "week",
        "timezone": "Pacific/Kiritimati",
    }
    response = await client.get("/analytics/metrics", params=params, headers=tenant.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"][:4] == date_from[:4]
    assert body["comparison"]["from"][:4] in ("1969", "1970", "9998")


async def test_csv_export_rows(history, client, tenant):
    history.at("2024-05-31T10:00:00Z")
    answered = await history.conversation()
    await history.say(answered, "customer")
    history.later(5)
    await history.say(answered, "ai")
    history.later(115)
    await history.say(answered, "agent")
    history.later(60)
    await history.resolve(answered)
    await history.rate(answered, 4, '=HYPERLINK("x")')
    history.at("2024-05-31T11:00:00Z")
    silent = await history.conversation()
    await history.hand_off(silent)
    history.at(NOW)

    response = await client.get(
        "/analytics/conversations.csv",
        params={"period": "24h", "timezone": "America/Chicago"},
        headers=tenant.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["conversation_id"] for row in rows] == [answered, silent]

    first = rows[0]
    assert first["created_at"] == "2024-05-31T10:00:00.000Z"
    assert first["created_local"] == "2024-05-31T05:00:00.000-05:00"
    assert first["first_response_seconds"] == "5.000"
    assert first["first_response_by"] == "ai"
    assert first["first_human_response_seconds"] == "120.000"
    assert first["resolution_seconds"] == "180.000"
    assert first["resolved_by"] == "agent"
    assert first["handoff"] == "false"
    assert first["rating"] == "4"
    assert first["rating_comment"] == '\'=HYPERLINK("x")'

    second = rows[1]
    assert second["first_response_seconds"] == ""
    assert second["resolved_by"] == ""
    assert second["handoff"] == "true"
    assert second["rating"] == ""


async def test_csv_rejects_bad_filter(client, tenant):
    response = await client.get(
        "/analytics/conversations.csv", params={"period": "2d"}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "period"


async def test_viewer_key_reads_metrics(history, client, db, tenant):
    history.at("2024-05-31T10:00:00Z")
    await history.conversation()
    history.at(NOW)
    viewer = await key_headers(db, tenant, "viewer")
    response = await client.get(
        "/analytics/metrics",
        params={"period": "24h", "metrics": "conversation_volume"},
        headers=viewer,
    )
    assert response.status_code == 200
    assert response.json()["metrics"]["conversation_volume"]["total"] == 1


async def test_mock_message_leaves_facts_unchanged(history, client, db, tenant):
    history.at("2024-05-31T10:00:00Z")
    conversation = await history.conversation()
    response = await client.post(
        f"/conversations/{conversation}/messages",
        json={"content": "customer message", "authorType": "customer"},
        headers={**tenant.headers, "X-Campfire-Mock": "true"},
    )
    assert response.status_code == 201
    history.at(NOW)
    response = await client.get(
        "/analytics/metrics",
        params={"period": "24h", "metrics": "conversation_volume"},
        headers={**tenant.headers, "X-Campfire-Mock": "true"},
    )
    assert response.status_code == 200
    assert response.json()["metrics"]["conversation_volume"]["total"] == 1
    stored = await db.read(
        lambda tx: tx.one(
            "SELECT reply_wait_from, stream_position FROM analytics_facts "
            "WHERE conversation_id = :id",
            id=conversation,
        )
    )
    assert stored == {"reply_wait_from": None, "stream_position": None}


async def test_concurrent_requests_agree(history, client, db, tenant):
    history.at("2024-05-31T10:00:00Z")
    for _ in range(6):
        conversation = await history.conversation()
        await history.say(conversation, "customer")
        history.later(30)
        await history.say(conversation, "agent")
    history.at(NOW)

    responses = await asyncio.gather(
        *(
            client.get(
                "/analytics/metrics",
                params={"period": "24h", "metrics": "response_time,conversation_volume"},
                headers=tenant.headers,
            )
            for _ in range(4)
        )
    )
    assert [response.status_code for response in responses] == [200] * 4
    bodies = [response.json()["metrics"] for response in responses]
    assert all(body == bodies[0] for body in bodies)
    assert bodies[0]["response_time"]["sampleSize"] == 6
    assert bodies[0]["response_time"]["average"] == 30.0
    waits = await db.read(
        lambda tx: tx.value(
            "SELECT COUNT(*) AS n FROM analytics_waits WHERE org_id = :org_id",
            org_id=tenant.org_id,
        )
    )
    assert waits == 12  # one per series for each conversation


async def test_future_day_has_no_trend(history):
    history.at("2024-04-01T08:00:00Z")
    for number in range(8):
        await history.conversation(customer_id=f"customer_{number}")
    history.at("2024-04-01T12:00:00Z")

    future = await history.metrics(metrics=ALL, **{"from": "2024-04-02", "to": "2024-04-02"})
    volume = future["metrics"]["conversation_volume"]
    assert volume["total"] == 0
    assert volume["trend"] == "insufficient_data"
    assert volume["comparison"]["pValue"] is None
    assert future["comparison"]["from"] == "2024-04-01T00:00:00.000Z"
    assert future["comparison"]["to"] == "2024-04-02T00:00:00.000Z"
    assert future["comparison"]["measuredTo"] == "2024-04-01T00:00:00.000Z"
    assert future["measuredTo"] == "2024-04-02T00:00:00.000Z"
    assert volume["comparison"]["total"] == 0
    for name, metric in future["metrics"].items():
        assert metric["trend"] == "insufficient_data", name


async def test_future_range_comparison_has_equal_length(history):
    # Conversations on both comparison days, written ahead of the request time.
    history.at("2026-12-06T09:00:00Z")
    await history.conversation(customer_id="customer_dec6")
    history.at("2026-12-07T09:00:00Z")
    await history.conversation(customer_id="customer_dec7")
    history.at("2026-12-05T23:07:00Z")

    future = await history.metrics(
        metrics="conversation_volume", **{"from": "2026-12-08", "to": "2026-12-09"}
    )
    assert future["from"] == "2026-12-08T00:00:00.000Z"
    assert future["to"] == "2026-12-10T00:00:00.000Z"
    assert future["measuredTo"] == "2026-12-08T00:00:00.000Z"
    assert future["comparison"] == {
        "from": "2026-12-06T00:00:00.000Z",
        "to": "2026-12-08T00:00:00.000Z",
        "measuredTo": "2026-12-06T00:00:00.000Z",
    }
    volume = future["metrics"]["conversation_volume"]
    assert volume["comparison"]["from"] == "2026-12-06T00:00:00.000Z"
    assert volume["comparison"]["to"] == "2026-12-08T00:00:00.000Z"
    # Nothing of the reported range has elapsed, so nothing of the comparison is counted.
    assert volume["comparison"]["total"] == 0

    # Once both days have passed, the same window counts both conversations.
    history.at("2026-12-10T00:00:00Z")
    past = await history.metrics(
        metrics="conversation_volume", **{"from": "2026-12-08", "to": "2026-12-09"}
    )
    assert past["comparison"]["measuredTo"] == "2026-12-08T00:00:00.000Z"
    assert past["metrics"]["conversation_volume"]["comparison"]["total"] == 2


async def test_comparison_window_in_timezone(history):
    history.at("2024-03-09T06:30:00Z")  # 00:30 CST on Mar 9, in the comparison's first hour
    await history.conversation(customer_id="customer_first")
    history.at("2024-03-11T04:30:00Z")  # 23:30 CDT on Mar 10, in its last hour
    await history.conversation(customer_id="customer_last")
    history.at("2024-03-11T05:30:00Z")  # 00:30 CDT on Mar 11, inside the reported range
    await history.conversation(customer_id="customer_current")
    history.at("2024-04-01T00:00:00Z")

    body = await history.metrics(
        metrics="conversation_volume",
        timezone="America/Chicago",
        **{"from": "2024-03-11", "to": "2024-03-12"},
    )
    assert body["from"] == "2024-03-11T05:00:00.000Z"
    assert body["to"] == "2024-03-13T05:00:00.000Z"
    assert body["comparison"]["from"] == "2024-03-09T06:00:00.000Z"
    assert body["comparison"]["to"] == "2024-03-11T05:00:00.000Z"
    assert body["comparison"]["measuredTo"] == "2024-03-11T05:00:00.000Z"
    volume = body["metrics"]["conversation_volume"]
    assert volume["total"] == 1
    assert volume["comparison"]["total"] == 2


@pytest.mark.parametrize("path", ["/analytics/metrics", "/analytics/conversations.csv"])
async def test_to_before_from_rejected(client, tenant, path):
    params = {"from": "2026-12-09", "to": "2026-12-08"}
    response = await client.get(path, params=params, headers=tenant.headers)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"]["field"] == "to"
    assert error["details"]["value"] == "2026-12-08"
    assert "2026-12-08" in error["message"]
    assert "2026-12-09" in error["message"]


async def test_same_from_and_to_is_one_day(history, client, tenant):
    history.at("2024-06-30T23:59:59Z")
    await history.conversation(customer_id="customer_last_second")
    history.at("2024-07-01T00:00:00Z")
    await history.conversation(customer_id="customer_next_day")
    history.at("2024-08-01T00:00:00Z")

    params = {"from": "2024-06-30", "to": "2024-06-30"}
    body = await history.metrics(metrics="conversation_volume", **params)
    assert body["from"] == "2024-06-30T00:00:00.000Z"
    assert body["to"] == "2024-07-01T00:00:00.000Z"
    assert body["comparison"]["from"] == "2024-06-29T00:00:00.000Z"
    assert body["comparison"]["to"] == "2024-06-30T00:00:00.000Z"
    assert body["metrics"]["conversation_volume"]["total"] == 1
    response = await client.get(
        "/analytics/conversations.csv", params=params, headers=tenant.headers
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["created_at"] for row in rows] == ["2024-06-30T23:59:59.000Z"]


async def test_partial_day_compares_same_hours(history):
    # Yesterday: 3 conversations before 10:00 and 9 after; today: 3 before 10:00.
    history.at("2024-03-31T02:00:00Z")
    for number in range(3):
        await history.conversation(customer_id=f"early_{number}")
    history.at("2024-03-31T15:00:00Z")
    for number in range(9):
        await history.conversation(customer_id=f"late_{number}")
    history.at("2024-04-01T02:00:00Z")
    for number in range(3):
        await history.conversation(customer_id=f"today_{number}")
    history.at("2024-04-01T10:00:00Z")

    today = await history.metrics(metrics=ALL, **{"from": "2024-04-01", "to": "2024-04-01"})
    volume = today["metrics"]["conversation_volume"]
    assert volume["total"] == 3
    assert volume["comparison"]["total"] == 3
    assert volume["trend"] == "stable"
    assert today["comparison"]["to"] == "2024-04-01T00:00:00.000Z"
    assert today["comparison"]["measuredTo"] == "2024-03-31T10:00:00.000Z"
    assert today["measuredTo"] == "2024-04-01T10:00:00.000Z"
    assert volume["comparison"]["measuredTo"] == "2024-03-31T10:00:00.000Z"


async def test_dst_day_comparison_counts_last_hour(history):
    # 23:30 Berlin time (22:30Z) on Mar 28 2026, in the comparison day's last hour.
    history.at("2026-03-28T22:30:00Z")
    await history.conversation(customer_id="customer_last_hour")
    history.at("2026-04-10T00:00:00Z")

    day = await history.metrics(
        metrics="conversation_volume",
        timezone="Europe/Berlin",
        **{"from": "2026-03-29", "to": "2026-03-29"},
    )
    assert day["comparison"] == {
        "from": "2026-03-27T23:00:00.000Z",
        "to": "2026-03-28T23:00:00.000Z",
        "measuredTo": "2026-03-28T23:00:00.000Z",
    }
    assert day["metrics"]["conversation_volume"]["comparison"]["total"] == 1
