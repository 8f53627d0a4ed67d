"""Rate-limited logging of a failure that repeats for as long as an outage lasts.

A background loop that fails the same way on every round, or a delivery
worker whose receiver is down, would write one line per round or per
attempt. ``OutageLog`` writes the first failure of an outage in full. After
that it writes at most one summary line per ``summary_seconds``, with the
latest failure's fields and the number of failures since the previous line.
When the outage ends it writes one INFO line with the outage's totals.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SUMMARY_SECONDS = 60.0
# An outage with no failure for this long is forgotten, so keys that never
# recover (a deleted webhook, a step that stopped running) do not pile up.
IDLE_SECONDS = 3600.0


@dataclass
class _Outage:
    started_at: float
    last_failure_at: float
    last_line_at: float
    failures: int = 1
    failures_since_line: int = 0


class OutageLog:
    """Log repeated failures per key: the first in full, then summaries, then the recovery.

    Keys name what fails, such as a webhook id or a worker step. The clock
    is ``time.monotonic`` unless a test passes another. Safe to call from
    several threads.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        summary_seconds: float = SUMMARY_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.summary_seconds = summary_seconds
        self.idle_seconds = idle_seconds
        self._monotonic = monotonic
        self._outages: dict[str, _Outage] = {}
        self._lock = threading.Lock()
        self._pruned_at = monotonic()

    def failure(
        self,
        key: str,
        message: str,
        *,
        level: int = logging.WARNING,
        exc_info: BaseException | None = None,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        """Record a failure of ``key`` and log it when it starts an outage or a summary is due.

        The first line of an outage carries ``exc_info``. A summary line
        leaves the traceback out, so callers put the error text in ``extra``.
        Returns whether a line was written.
        """
        now = self._monotonic()
        fields = dict(extra or {})
        with self._lock:
            self._prune(now)
            outage = self._outages.get(key)
            if outage is None:
                self._outages[key] = _Outage(started_at=now, last_failure_at=now, last_line_at=now)
                summary = None
            else:
                outage.failures += 1
                outage.failures_since_line += 1
                outage.last_failure_at = now
                if now - outage.last_line_at < self.summary_seconds:
                    return False
                summary = (outage.failures_since_line, now - outage.last_line_at, outage)
                outage.failures_since_line = 0
                outage.last_line_at = now
        if summary is None:
            self.logger.log(level, "%s", message, exc_info=exc_info, extra=fields)
            return True
        repeats, interval, outage = summary
        fields["failures"] = outage.failures
        fields["outage_seconds"] = round(now - outage.started_at, 1)
        self.logger.log(
            level,
            "%s (%d failures in the last %.0f s)",
            message,
            repeats,
            interval,
            extra=fields,
        )
        return True

    def recovery(self, key: str, message: str, *, extra: dict[str, Any] | None = None) -> bool:
        """End the outage of ``key``, if any, with one INFO line and return whether it had one."""
        if key not in self._outages:
            # The common case, a success outside any outage, takes no lock.
            return False
        now = self._monotonic()
        with self._lock:
            outage = self._outages.pop(key, None)
        if outage is None:
            return False
        fields = dict(extra or {})
        fields["failures"] = outage.failures
        fields["outage_seconds"] = round(now - outage.started_at, 1)
        self.logger.info("%s", message, extra=fields)
        return True

    def _prune(self, now: float) -> None:
        if now - self._pruned_at < self.summary_seconds:
            return
        self._pruned_at = now
        idle = [
            key
            for key, outage in self._outages.items()
            if now - outage.last_failure_at >= self.idle_seconds
        ]
        for key in idle:
            del self._outages[key]
