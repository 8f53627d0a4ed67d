"""The one source of the current time, so tests can freeze and advance it."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """Wall-clock time in milliseconds since the Unix epoch."""

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000, tz=UTC)


class FrozenClock(Clock):
    """A clock that moves only when told to."""

    def __init__(self, start_ms: int | None = None) -> None:
        self._now_ms = start_ms if start_ms is not None else time.time_ns() // 1_000_000

    def now_ms(self) -> int:
        return self._now_ms

    def set(self, when: datetime | int) -> None:
        self._now_ms = when if isinstance(when, int) else int(when.timestamp() * 1000)

    def advance(self, seconds: float) -> None:
        self._now_ms += int(seconds * 1000)


clock: Clock = Clock()


def now_ms() -> int:
    return clock.now_ms()


def set_clock(new_clock: Clock) -> Clock:
    """Install ``new_clock`` for the whole process and return the previous one."""
    global clock
    previous, clock = clock, new_clock
    return previous


# The formatted date and time of the last second that ``to_iso`` formatted, as
# (epoch second, text up to the seconds' dot). Most calls fall in the same
# second as the one before, and ``strftime`` is most of the cost of a call.
_last_second: tuple[int, str] = (0, "1970-01-01T00:00:00.")


def to_iso(ms: int | None) -> str | None:
    """Format epoch milliseconds as UTC ISO 8601 with millisecond precision and ``Z``."""
    global _last_second
    if ms is None:
        return None
    second, millis = divmod(ms, 1000)
    cached = _last_second
    if cached[0] != second:
        text = datetime.fromtimestamp(second, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        cached = _last_second = (second, text)
    return f"{cached[1]}{millis:03d}Z"


def from_iso(value: str) -> int:
    """Parse an ISO 8601 timestamp (a naive one counts as UTC) into epoch milliseconds."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
