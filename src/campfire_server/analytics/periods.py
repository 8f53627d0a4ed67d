"""Reporting windows and time-series buckets in the caller's time zone.

Every boundary is a UTC instant in epoch milliseconds, computed here with
``zoneinfo`` so that days of 23 or 25 hours come out right. The SQL only
compares stored timestamps against these numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ValidationFailed

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# Rolling periods end at the request time and last this many milliseconds.
PERIODS: dict[str, int] = {"24h": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS, "90d": 90 * DAY_MS}
DEFAULT_PERIOD = "7d"
INTERVALS = ("hour", "day", "week")

MAX_RANGE_DAYS = 366
MAX_BUCKETS = 2_500
# Dates a custom range may name. The comparison period reaches a year
# before ``from`` and the last bucket a day past ``to``, and both must stay
# within the years that timestamps can be written in with four digits.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(9998, 12, 31)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Every time zone in use today has an offset that is a whole number of quarter hours.
_QUARTER_HOUR_MS = 900_000


@dataclass(frozen=True, slots=True)
class Window:
    """The reported period ``[start_ms, end_ms)`` and the comparison period before it.

    The comparison period ``[previous_start_ms, previous_end_ms)`` has as many
    local days as the reported one and ends where it starts. Only
    ``[previous_start_ms, previous_measured_end_ms)`` of it is measured: the
    same local days and time of day as have elapsed of the reported period by
    ``measured_end_ms``, the request time or the period's end, whichever is
    earlier. A fully elapsed period measures its whole comparison period.
    """

    label: str
    start_ms: int
    end_ms: int
    previous_start_ms: int
    previous_end_ms: int
    zone: ZoneInfo
    measured_end_ms: int
    previous_measured_end_ms: int


@dataclass(frozen=True, slots=True)
class Bucket:
    start_ms: int
    end_ms: int


@cache
def iana_zone_names() -> frozenset[str]:
    """Return the zone names of the IANA time-zone database, as the tzdata package lists them.

    ``ZoneInfo`` also opens any file under the system's zoneinfo directories,
    such as ``localtime`` and ``posixrules``, which are not IANA names and
    whose meaning depends on the server.
    """
    listing = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return frozenset(listing.split())


def parse_zone(name: str | None) -> ZoneInfo:
    """Return the zone of an IANA name; raise ``ValidationFailed`` for any other value."""
    if name is None or name == "":
        return ZoneInfo("UTC")
    try:
        if name not in iana_zone_names():
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"timezone {name!r} is not an IANA time zone name; "
            'use a name such as "Europe/Berlin" or "UTC"',
            field="timezone",
            value=name,
            expected="an IANA time zone name such as UTC, Europe/Berlin or America/Chicago",
        ) from None


def _parse_date(field: str, value: str) -> date:
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(
            f'{field} "{value[:40]}" is not a calendar date; send a date such as 2026-01-31',
            field=field,
            value=value,
            expected="a date in the form YYYY-MM-DD, read in the requested timezone",
        ) from None

    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationFailed(
            f"{field} is outside the supported dates",
            field=field,
            value=value,
            expected=f"a date from {EARLIEST_DATE} to {LATEST_DATE}",
        )
    return day


def local_midnight_ms(day: date, zone: ZoneInfo) -> int:
    """Return the first instant of ``day`` in ``zone``.

    Where a transition skips midnight, ``fold=0`` reads the skipped time with
    the offset before the transition, which is the instant the day starts.
    """
    moment = datetime.combine(day, time(0), tzinfo=zone)
    return int(moment.astimezone(UTC).timestamp() * 1000)


def resolve_window(
    *,
    period: str | None,
    date_from: str | None,
    date_to: str | None,
    zone: ZoneInfo,
    now_ms: int,
) -> Window:
    """Turn ``period`` or ``from``/``to`` into a window and its comparison window.

    A rolling period ends now, and the comparison is as long, just before.
    A date range covers whole local days from ``from`` through ``to``. Its
    comparison is the same number of local days just before, which can be
    an hour longer or shorter when a daylight-saving change falls in either.
    """
    if date_from is None and date_to is None:
        label = period or DEFAULT_PERIOD
        length = PERIODS.get(label)
        if length is None:
            raise ValidationFailed(
                f"period {label!r} is not supported",
                field="period",
                value=label,
                expected=f"one of {', '.join(PERIODS)}, or from and to dates",
            )
        return Window(
            label,
            now_ms - length,
            now_ms,
            now_ms - 2 * length,
            now_ms - length,
            zone,
            measured_end_ms=now_ms,
            previous_measured_end_ms=now_ms - length,
        )

    if period is not None:
        raise ValidationFailed(
            "send either period or from and to, not both",
            field="period",
            value=period,
            expected="period alone, or from and to without period",
        )
    if date_from is None or date_to is None:
        # A malformed date is the first thing to fix, so it is named before the missing one.
        if date_from is not None:
            _parse_date("from", date_from)
        if date_to is not None:
            _parse_date("to", date_to)
        missing = "from" if date_from is None else "to"
        raise ValidationFailed(
            f"{missing} is missing; a date range needs both from and to",
            field=missing,
            value=None,
            expected="a date in the form YYYY-MM-DD",
        )
    first = _parse_date("from", date_from)
    last = _parse_date("to", date_to)
    if last < first:
        raise ValidationFailed(
            f"to {date_to} is before from {date_from}; send a to date on or after from, or "
            "swap the two",
            field="to",
            value=date_to,
            expected=f"a date on or after {date_from}",
        )
    days = (last - first).days + 1
    last_allowed = first + timedelta(days=MAX_RANGE_DAYS - 1)
    if days > MAX_RANGE_DAYS:
        raise ValidationFailed(
            f"the range from {date_from} to {date_to} covers {days} days, counting both; "
            f"the limit is {MAX_RANGE_DAYS} days, so send a to date at most "
            f"{last_allowed} ({MAX_RANGE_DAYS - 1} days after from)",
            field="to",
            value=date_to,
            expected=f"a date from {date_from} to {last_allowed}, so that the range covers "
            f"at most {MAX_RANGE_DAYS} days counting both",
        )
    previous_first = first - timedelta(days=days)
    start_ms = local_midnight_ms(first, zone)
    end_ms = local_midnight_ms(last + timedelta(days=1), zone)
    previous_start_ms = local_midnight_ms(previous_first, zone)
    # A range that reaches past now is compared with as much of the comparison
    # period as has elapsed of its own, so a partial day is not compared with a
    # whole one. A range that has not started is compared with nothing, so its
    # trends are insufficient_data. The comparison window itself keeps its length.
    measured_end_ms = min(end_ms, max(start_ms, now_ms))
    return Window(
        "custom",
        start_ms,
        end_ms,
        previous_start_ms,
        start_ms,
        zone,
        measured_end_ms=measured_end_ms,
        previous_measured_end_ms=_previous_measured_end_ms(
            first, previous_first, start_ms, end_ms, previous_start_ms, measured_end_ms, zone
        ),
    )


def _previous_measured_end_ms(
    first: date,
    previous_first: date,
    start_ms: int,
    end_ms: int,
    previous_start_ms: int,
    measured_end_ms: int,
    zone: ZoneInfo,
) -> int:
    """Return where the measured part of the comparison period ends.

    A fully elapsed range measures its whole comparison period and one not
    yet started measures none of it. Otherwise the comparison measures the
    same local wall-clock span: as many whole local days and the same local
    time of day, so a 23- or 25-hour day in either period shifts no hour.
    """
    if measured_end_ms >= end_ms:
        return start_ms
    if measured_end_ms <= start_ms:
        return previous_start_ms
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=measured_end_ms)
    local = moment.astimezone(zone)
    day = previous_first + (local.date() - first)
    # A time of day that the comparison day skips (spring forward) is read
    # with the offset before the change, as in ``local_midnight_ms``. A time
    # that the comparison day repeats keeps the fold it has on the reported day.
    previous_local = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=zone)
    previous_local = previous_local.replace(fold=local.fold)
    previous_utc = previous_local.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)
    previous_ms = previous_utc // timedelta(milliseconds=1)
    return min(start_ms, max(previous_start_ms, previous_ms))


def _day_starts(start_ms: int, end_ms: int, zone: ZoneInfo, *, weekly: bool) -> list[int]:
    day = datetime.fromtimestamp(start_ms / 1000, tz=zone).date()
    if weekly:
        day -= timedelta(days=day.weekday())
    step = timedelta(days=7 if weekly else 1)
    starts = []
    while True:
        boundary = local_midnight_ms(day, zone)
        if boundary >= end_ms:
            return starts
        starts.append(boundary)
        day += step


def _hour_starts(start_ms: int, end_ms: int, zone: ZoneInfo) -> list[int]:
    # Scan quarter hours in UTC and keep those that read :00 locally. This
    # keeps both copies of a repeated hour and skips an hour that a change
    # to daylight-saving time removes.
    instant = start_ms - start_ms % _QUARTER_HOUR_MS - HOUR_MS
    starts = []
    while instant < end_ms:
        if datetime.fromtimestamp(instant / 1000, tz=zone).minute == 0:
            starts.append(instant)
        instant += _QUARTER_HOUR_MS
    return starts


def buckets(window: Window, interval: str) -> list[Bucket]:
    """Split the window into local hours, days or ISO weeks (Monday first).

    The first and last buckets are cut to the window, so a rolling period
    usually starts and ends with a partial bucket.
    """
    if interval not in INTERVALS:
        raise ValidationFailed(
            f"interval {interval!r} is not supported",
            field="interval",
            value=interval,
            expected=f"one of {', '.join(INTERVALS)}",
        )
    start, end, zone = window.start_ms, window.end_ms, window.zone
    if interval == "hour":
        if (end - start) // HOUR_MS > MAX_BUCKETS:
            raise ValidationFailed(
                f"interval=hour would return more than {MAX_BUCKETS} buckets",
                field="interval",
                value=interval,
                expected="interval=day or week for a range this long",
            )
        starts = _hour_starts(start, end, zone)
    else:
        starts = _day_starts(start, end, zone, weekly=interval == "week")

    edges = [start] + [edge for edge in starts if start < edge < end] + [end]
    return [Bucket(low, high) for low, high in zip(edges, edges[1:], strict=False)]
