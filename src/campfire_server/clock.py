"""The one source of the current time, so tests can freeze and advance it."""

from __future__ import annotations

import functools
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


# Maximum number of seconds whose text ``to_iso`` caches. A full cache is emptied.
MAX_CACHED_SECONDS = 4096

# Epoch second -> its UTC date and time up to the seconds' dot.
_second_texts: dict[int, str] = {}


@functools.lru_cache(maxsize=1024)
def _day_prefix(day: int) -> str:
    """Format the UTC date of ``day`` (days since the Unix epoch) as ``YYYY-MM-DDT``."""
    return datetime.fromtimestamp(day * 86_400, tz=UTC).strftime("%Y-%m-%dT")


def _format_second(second: int) -> str:
    day, second_of_day = divmod(second, 86_400)
    minute_of_day, second_of_minute = divmod(second_of_day, 60)
    hour, minute = divmod(minute_of_day, 60)
    return f"{_day_prefix(day)}{hour:02d}:{minute:02d}:{second_of_minute:02d}."


def to_iso(ms: int | None) -> str | None:
    """Format epoch milliseconds as UTC ISO 8601 with millisecond precision and ``Z``.

    A response mixes the current second with the seconds of older rows, so
    the text of each second is cached, and only the date goes through
    ``strftime`` (cached per day), which is most of the cost of a miss.
    """
    if ms is None:
        return None
    second, millis = divmod(ms, 1000)
    text = _second_texts.get(second)
    if text is None:
        text = _format_second(second)
        if len(_second_texts) >= MAX_CACHED_SECONDS:
            _second_texts.clear()
        _second_texts[second] = text
    return f"{text}{millis:03d}Z"


def from_iso(value: str) -> int:
    """Parse an ISO 8601 timestamp (a naive one counts as UTC) into epoch milliseconds."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)
