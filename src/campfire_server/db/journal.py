"""Write journals: a request's record of what each of its writes committed.

An idempotent request must not run its writes twice, even when the process
dies between a write's commit and the moment its response is stored. A
journal bound to the request's task intercepts every ``Database.write`` of that
task: it adds a statement to the work that records the work's result in the
same transaction, and on a retry it hands back the recorded results in
order instead of running those writes again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, Protocol

from .tx import Tx


class WriteJournal(Protocol):
    def applies(self) -> bool:
        """Tell whether the running task is the request the journal belongs to."""
        ...

    def replayed(self) -> tuple[bool, Any]:
        """Return ``(True, result)`` for a write that a previous attempt committed."""
        ...

    def wrap(self, work: Callable[[Tx], Any]) -> Callable[[Tx], Any]:
        """Return ``work`` extended to record its result in its own transaction."""
        ...

    def committed(self, result: Any) -> None:
        """Note that a wrapped work committed with ``result``."""
        ...


current_journal: ContextVar[WriteJournal | None] = ContextVar("write_journal", default=None)


def journal_for_this_task() -> WriteJournal | None:
    journal = current_journal.get()
    if journal is None or not journal.applies():
        return None
    return journal


def owned_by_current_task(task: asyncio.Task[Any] | None) -> bool:
    try:
        return task is not None and asyncio.current_task() is task
    except RuntimeError:  # no running event loop
        return False
