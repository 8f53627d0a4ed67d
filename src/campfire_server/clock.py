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


def to_iso(ms: int | None) -> str | None:
    """Format epoch milliseconds as UTC ISO 8601 with millisecond precision and ``Z``."""
    if ms is None:
        return None
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def from_iso(value: str) -> int:
    """Parse an ISO 8601 timestamp (a naive one counts as UTC) into epoch milliseconds."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
