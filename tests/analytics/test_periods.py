"""Reporting windows and buckets in a time zone, across daylight-saving changes."""

from __future__ import annotations

import pytest

from campfire_server.analytics import periods
from campfire_server.clock import to_iso
from campfire_server.errors import ValidationFailed

from .conftest import ms

CHICAGO = periods.parse_zone("America/Chicago")


# Every range below has ended by then.
LATER = ms("2030-01-01T00:00:00Z")


def window(date_from: str, date_to: str, zone=CHICAGO, now_ms: int = LATER) -> periods.Window:
    return periods.resolve_window(
        period=None, date_from=date_from, date_to=date_to, zone=zone, now_ms=now_ms
    )


def test_local_day_in_chicago():
    day = window("2024-03-31", "2024-03-31")
    assert to_iso(day.start_ms) == "2024-03-31T05:00:00.000Z"
    assert to_iso(day.end_ms) == "2024-04-01T05:00:00.000Z"
    assert to_iso(day.previous_start_ms) == "2024-03-30T05:00:00.000Z"
    assert day.previous_end_ms == day.start_ms


def test_spring_forward_day_has_23_hours():
    day = window("2024-03-10", "2024-03-10")
    assert to_iso(day.start_ms) == "2024-03-10T06:00:00.000Z"
    assert to_iso(day.end_ms) == "2024-03-11T05:00:00.000Z"
    assert day.end_ms - day.start_ms == 23 * periods.HOUR_MS
    # The comparison is the local day before, which has 24 hours.
    assert day.start_ms - day.previous_start_ms == 24 * periods.HOUR_MS


def test_rolling_period_ends_now():
    now = ms("2024-06-01T00:00:00Z")
    rolling = periods.resolve_window(
        period="7d", date_from=None, date_to=None, zone=CHICAGO, now_ms=now
    )
    assert rolling.end_ms == now
    assert rolling.start_ms == now - 7 * periods.DAY_MS
    assert rolling.previous_start_ms == now - 14 * periods.DAY_MS
    assert rolling.label == "7d"


def test_day_buckets_across_spring_forward():
    week = window("2024-03-08", "2024-03-14")
    buckets = periods.buckets(week, "day")
    assert len(buckets) == 7
    lengths = [(bucket.end_ms - bucket.start_ms) // periods.HOUR_MS for bucket in buckets]
    assert lengths == [24, 24, 23, 24, 24, 24, 24]
    assert to_iso(buckets[2].start_ms) == "2024-03-10T06:00:00.000Z"
    assert to_iso(buckets[3].start_ms) == "2024-03-11T05:00:00.000Z"


def test_hour_buckets_skip_missing_hour():
    buckets = periods.buckets(window("2024-03-10", "2024-03-10"), "hour")
    assert len(buckets) == 23
    assert to_iso(buckets[1].start_ms) == "2024-03-10T07:00:00.000Z"  # 01:00 CST
    assert to_iso(buckets[2].start_ms) == "2024-03-10T08:00:00.000Z"  # 03:00 CDT


def test_hour_buckets_keep_repeated_hour():
    buckets = periods.buckets(window("2024-11-03", "2024-11-03"), "hour")
    assert len(buckets) == 25
    assert all(bucket.end_ms - bucket.start_ms == periods.HOUR_MS for bucket in buckets)


def test_week_buckets_start_monday():
    buckets = periods.buckets(window("2024-03-06", "2024-03-20"), "week")
    starts = [to_iso(bucket.start_ms) for bucket in buckets]
    # Wednesday Mar 6 is cut to the window; Mondays Mar 11 (CDT) and Mar 18 follow.
    assert starts == [
        "2024-03-06T06:00:00.000Z",
        "2024-03-11T05:00:00.000Z",
        "2024-03-18T05:00:00.000Z",
    ]
    assert to_iso(buckets[-1].end_ms) == "2024-03-21T05:00:00.000Z"


def test_half_hour_zone_buckets():
    kolkata = periods.parse_zone("Asia/Kolkata")
    buckets = periods.buckets(window("2024-01-01", "2024-01-01", kolkata), "hour")
    assert len(buckets) == 24
    assert to_iso(buckets[0].start_ms) == "2023-12-31T18:30:00.000Z"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"period": "1y"}, "period"),
        ({"date_from": "2024-03-01"}, "to"),
        ({"date_to": "2024-03-01"}, "from"),
        ({"date_from": "2024-02-30", "date_to": "2024-03-01"}, "from"),
        ({"date_from": "2024-03-02", "date_to": "2024-03-01"}, "to"),
        ({"date_from": "2023-01-01", "date_to": "2024-12-31"}, "to"),
        ({"period": "7d", "date_from": "2024-03-01", "date_to": "2024-03-02"}, "period"),
    ],
)
def test_invalid_windows_name_field(arguments, field):
    values = {"period": None, "date_from": None, "date_to": None, **arguments}
    with pytest.raises(ValidationFailed) as raised:
        periods.resolve_window(zone=CHICAGO, now_ms=0, **values)
    assert raised.value.details["field"] == field


@pytest.mark.parametrize(
    "name",
    [
        "Mars/Olympus",
        "../etc/passwd",
        "/etc/localtime",
        "localtime",
        "posixrules",
        "posix/Europe/Berlin",
        "right/UTC",
        "europe/berlin",
    ],
)
def test_invalid_zone_rejected(name):
    with pytest.raises(ValidationFailed) as raised:
        periods.parse_zone(name)
    assert raised.value.details["field"] == "timezone"
    assert raised.value.details["value"] == name
    assert "Europe/Berlin" in raised.value.details["expected"]


@pytest.mark.parametrize("name", ["UTC", "Europe/Berlin", "America/Chicago", "Etc/GMT+5"])
def test_iana_zone_accepted(name):
    assert periods.parse_zone(name).key == name


def test_too_many_hour_buckets_rejected():
    with pytest.raises(ValidationFailed) as raised:
        periods.buckets(window("2024-01-01", "2024-12-31"), "hour")
    assert raised.value.details["field"] == "interval"


def test_longest_range_is_accepted():
    longest = window("2023-03-01", "2024-02-29", zone=periods.parse_zone("UTC"))

    assert (longest.end_ms - longest.start_ms) // 86_400_000 == periods.MAX_RANGE_DAYS


def test_range_error_states_one_rule():
    with pytest.raises(ValidationFailed) as raised:
        window("2023-03-01", "2024-03-01")

    message = raised.value.message
    expected = raised.value.details["expected"]
    assert raised.value.details["field"] == "to"
    assert "covers 367 days" in message
    assert "the limit is 366 days" in message
    assert "2024-02-29" in message
    assert "365 days after from" in message
    assert "2024-02-29" in expected
    assert "at most 366 days" in expected


def test_future_day_compares_nothing():
    day = window("2024-04-02", "2024-04-02", now_ms=ms("2024-04-01T12:00:00Z"))
    assert day.measured_end_ms == day.start_ms
    assert day.previous_measured_end_ms == day.previous_start_ms
    assert day.end_ms - day.start_ms == 24 * periods.HOUR_MS
    # The comparison window keeps its day even though none of it is measured.
    assert day.previous_end_ms == day.start_ms
    assert day.start_ms - day.previous_start_ms == 24 * periods.HOUR_MS


def test_future_range_comparison_has_equal_length():
    now = ms("2026-12-05T23:07:00Z")
    days = window("2026-12-08", "2026-12-09", zone=periods.parse_zone("UTC"), now_ms=now)
    assert to_iso(days.start_ms) == "2026-12-08T00:00:00.000Z"
    assert to_iso(days.end_ms) == "2026-12-10T00:00:00.000Z"
    assert to_iso(days.previous_start_ms) == "2026-12-06T00:00:00.000Z"
    assert to_iso(days.previous_end_ms) == "2026-12-08T00:00:00.000Z"
    assert days.previous_measured_end_ms == days.previous_start_ms


@pytest.mark.parametrize(
    ("now", "measured_end", "previous_measured_end"),
    [
        # Chicago midnight of Apr 1 (CDT) is 05:00Z, and of Mar 31 also 05:00Z.
        ("2024-04-01T04:59:59Z", "2024-04-01T05:00:00.000Z", "2024-03-31T05:00:00.000Z"),
        ("2024-04-01T05:00:00Z", "2024-04-01T05:00:00.000Z", "2024-03-31T05:00:00.000Z"),
        ("2024-04-01T05:00:01Z", "2024-04-01T05:00:01.000Z", "2024-03-31T05:00:01.000Z"),
        ("2024-04-02T04:59:59Z", "2024-04-02T04:59:59.000Z", "2024-04-01T04:59:59.000Z"),
        ("2024-04-02T05:00:00Z", "2024-04-02T05:00:00.000Z", "2024-04-01T05:00:00.000Z"),
        ("2024-04-09T00:00:00Z", "2024-04-02T05:00:00.000Z", "2024-04-01T05:00:00.000Z"),
    ],
)
def test_measured_part_at_day_boundaries(now, measured_end, previous_measured_end):
    day = window("2024-04-01", "2024-04-01", now_ms=ms(now))
    assert to_iso(day.previous_start_ms) == "2024-03-31T05:00:00.000Z"
    assert to_iso(day.previous_end_ms) == "2024-04-01T05:00:00.000Z"
    assert to_iso(day.measured_end_ms) == measured_end
    assert to_iso(day.previous_measured_end_ms) == previous_measured_end


def test_comparison_days_across_spring_forward():
    # Mar 11-12 follow the 23-hour Mar 10, which the comparison (Mar 9-10) contains.
    days = window("2024-03-11", "2024-03-12")
    assert to_iso(days.previous_start_ms) == "2024-03-09T06:00:00.000Z"
    assert to_iso(days.previous_end_ms) == "2024-03-11T05:00:00.000Z"
    assert days.previous_end_ms - days.previous_start_ms == 47 * periods.HOUR_MS
    assert days.end_ms - days.start_ms == 48 * periods.HOUR_MS
    assert days.previous_measured_end_ms == days.previous_end_ms


def test_same_from_and_to_is_one_day():
    day = window("2024-06-30", "2024-06-30")
    assert day.end_ms - day.start_ms == 24 * periods.HOUR_MS
    assert day.start_ms - day.previous_start_ms == 24 * periods.HOUR_MS


def test_to_before_from_names_both():
    with pytest.raises(ValidationFailed) as raised:
        window("2024-06-30", "2024-06-29")
    assert raised.value.details["field"] == "to"
    assert raised.value.details["value"] == "2024-06-29"
    assert "2024-06-29" in raised.value.message
    assert "2024-06-30" in raised.value.message


def test_partial_day_compares_elapsed_hours():
    now = ms("2024-04-01T11:00:00Z")  # 06:00 in Chicago (CDT, UTC-5)
    day = window("2024-04-01", "2024-04-01", now_ms=now)
    assert to_iso(day.start_ms) == "2024-04-01T05:00:00.000Z"
    assert to_iso(day.previous_start_ms) == "2024-03-31T05:00:00.000Z"
    assert to_iso(day.previous_measured_end_ms) == "2024-03-31T11:00:00.000Z"
    assert day.previous_end_ms == day.start_ms


@pytest.mark.parametrize(
    ("zone", "date_from", "date_to", "previous_start", "previous_end"),
    [
        # Berlin's 23-hour Mar 29 2026 is compared with the 24-hour Mar 28.
        (
            "Europe/Berlin",
            "2026-03-29",
            "2026-03-29",
            "2026-03-27T23:00:00.000Z",
            "2026-03-28T23:00:00.000Z",
        ),
        (
            "Europe/Berlin",
            "2026-03-29",
            "2026-04-04",
            "2026-03-21T23:00:00.000Z",
            "2026-03-28T23:00:00.000Z",
        ),
        (
            "America/New_York",
            "2026-03-08",
            "2026-03-08",
            "2026-03-07T05:00:00.000Z",
            "2026-03-08T05:00:00.000Z",
        ),
        # Berlin's Oct 26 2026 follows the 25-hour Oct 25.
        (
            "Europe/Berlin",
            "2026-10-26",
            "2026-10-26",
            "2026-10-24T22:00:00.000Z",
            "2026-10-25T23:00:00.000Z",
        ),
    ],
)
def test_past_range_measures_whole_comparison(
    zone, date_from, date_to, previous_start, previous_end
):
    days = window(
        date_from, date_to, zone=periods.parse_zone(zone), now_ms=ms("2026-12-01T00:00:00Z")
    )
    assert to_iso(days.previous_start_ms) == previous_start
    assert to_iso(days.previous_end_ms) == previous_end
    assert days.measured_end_ms == days.end_ms
    assert to_iso(days.previous_measured_end_ms) == previous_end


@pytest.mark.parametrize(
    ("now", "previous_measured_end"),
    [
        # 12:00 Berlin time on the 23-hour Mar 29 is 12:00 on Mar 22 (CET, UTC+1).
        ("2026-03-29T10:00:00Z", "2026-03-22T11:00:00.000Z"),
        # 01:30 on Mar 29 comes before the change, so both are CET.
        ("2026-03-29T00:30:00Z", "2026-03-22T00:30:00.000Z"),
        # Two whole days and 08:15 into the range.
        ("2026-03-31T06:15:00Z", "2026-03-24T07:15:00.000Z"),
    ],
)
def test_partial_range_compares_wall_clock(now, previous_measured_end):
    days = window(
        "2026-03-29", "2026-04-04", zone=periods.parse_zone("Europe/Berlin"), now_ms=ms(now)
    )
    assert to_iso(days.measured_end_ms) == to_iso(ms(now))
    assert to_iso(days.previous_measured_end_ms) == previous_measured_end


def test_partial_day_after_fall_back():
    # 02:30 on the 25-hour Oct 25 occurs twice. The second one (01:30Z, CET)
    # is compared with 02:30 on Oct 24 (00:30Z, CEST).
    days = window(
        "2026-10-25",
        "2026-10-25",
        zone=periods.parse_zone("Europe/Berlin"),
        now_ms=ms("2026-10-25T01:30:00Z"),
    )
    assert to_iso(days.previous_start_ms) == "2026-10-23T22:00:00.000Z"
    assert to_iso(days.previous_measured_end_ms) == "2026-10-24T00:30:00.000Z"
