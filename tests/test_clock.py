"""Formatting and parsing of epoch milliseconds in ``campfire_server.clock``."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from campfire_server import clock
from campfire_server.clock import from_iso, to_iso

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def reference_iso(ms: int) -> str:
    """Format ``ms`` through ``datetime`` arithmetic, independently of ``to_iso``."""
    moment = EPOCH + timedelta(milliseconds=ms)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (999, "1970-01-01T00:00:00.999Z"),
        (1_000, "1970-01-01T00:00:01.000Z"),
        (59_999, "1970-01-01T00:00:59.999Z"),
        (60_000, "1970-01-01T00:01:00.000Z"),
        (3_599_999, "1970-01-01T00:59:59.999Z"),
        (3_600_000, "1970-01-01T01:00:00.000Z"),
        (86_399_999, "1970-01-01T23:59:59.999Z"),
        (86_400_000, "1970-01-02T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (-1_000, "1969-12-31T23:59:59.000Z"),
        (-86_400_001, "1969-12-30T23:59:59.999Z"),
        (946_684_800_000, "2000-01-01T00:00:00.000Z"),
        (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
        (1_709_251_200_000, "2024-03-01T00:00:00.000Z"),
        (1_735_689_599_999, "2024-12-31T23:59:59.999Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ],
)
def test_to_iso_edge_values(ms: int, expected: str) -> None:
    assert to_iso(ms) == expected


def test_to_iso_none() -> None:
    assert to_iso(None) is None


def test_to_iso_alternating_seconds() -> None:
    # A response mixes the current time with older rows' times, so the
    # formatter must not reuse the text of the previous call's second.
    now = 1_764_950_400_123
    old = 1_700_000_000_456
    expected_now = "2025-12-05T16:00:00.123Z"
    expected_old = "2023-11-14T22:13:20.456Z"
    for _ in range(3):
        assert to_iso(now) == expected_now
        assert to_iso(old) == expected_old
        assert to_iso(now + 1_000) == "2025-12-05T16:00:01.123Z"


def test_to_iso_matches_datetime() -> None:
    generator = random.Random(20261205)
    values = [generator.randrange(-(10**12), 4 * 10**12) for _ in range(5_000)]
    for ms in values:
        assert to_iso(ms) == reference_iso(ms), ms


def test_to_iso_round_trips() -> None:
    for ms in (0, 999, 1_000, 86_400_000, 1_709_251_199_999, 1_764_950_400_123):
        assert from_iso(to_iso(ms)) == ms


def test_to_iso_cache_stays_bounded() -> None:
    first = 1_600_000_000_000
    for number in range(clock.MAX_CACHED_SECONDS + 10):
        ms = first + number * 1_000 + 7
        assert to_iso(ms) == reference_iso(ms)
    assert len(clock._second_texts) <= clock.MAX_CACHED_SECONDS
    # A second formatted before the cache was emptied is formatted again, the same way.
    assert to_iso(first + 7) == "2020-09-13T12:26:40.007Z"
