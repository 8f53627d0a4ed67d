"""One writer thread per process that commits queued work in groups.

A group of queued works shares one transaction, one commit and with it one
disk flush, which is what lets many small requests write at the rate of a
few large transactions. A work that raises rolls back alone: the group then
runs again with a savepoint around each work.

A work may therefore run twice before it commits once, so it must touch
nothing but its ``Tx``; effects for after the commit go to
``Tx.after_commit`` and log lines to ``Tx.log``, which the writer emits
once the work's changes have committed. A write of a request with a write
journal (``journal.py``) records its result in its own transaction.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from .. import mock
from ..errors import ServiceUnavailable
from ..outage_log import OutageLog
from .batch import StatementBatch
from .grouped import RowGroup
from .journal import journal_for_this_task
from .tx import Dialect, LogEntry, Tx

log = logging.getLogger(__name__)

# Log messages of failures that repeat for every write during an outage, and their outage keys.
_WRITE_FAILED = "write group failed"
_RECONNECT_FAILED = "database reconnect failed"

MAX_GROUP = 64
# Runs of a group that PostgreSQL aborted for a deadlock or serialization
# failure, and the base of the random backoff between them.
GROUP_ATTEMPTS = 5
RETRY_BACKOFF_SECONDS = 0.01


class WriteConnection(Protocol):
    """The single write connection of an engine, as the writer uses it."""

    dialect: Dialect

    def cursor(self) -> Any: ...

    def begin(self, cursor: Any, queued_at: float) -> None:
        """Open the group's transaction. ``queued_at`` is when its oldest work was queued.

        An engine that waits for a lock bounds the wait from ``queued_at``
        (``time.monotonic``), so a request's total wait has one limit.
        """
        ...

    def commit(self, cursor: Any, queued_at: float) -> None: ...

    def rollback(self, cursor: Any) -> None: ...

    def pipeline(self) -> AbstractContextManager[Callable[[], None] | None]:
        """Open a scope in which statements may be sent without waiting for results.

        It yields a function that waits for every result sent so far, or
        ``None`` where the engine runs each statement at once.
        """
        ...

    def is_statement_error(self, error: BaseException) -> bool:
        """Tell whether ``error`` is a statement that failed, not a lost connection."""
        ...

    def is_retryable(self, error: BaseException) -> bool:
        """Tell whether a work that failed with ``error`` should simply run again."""
        ...

    def is_connection_error(self, error: BaseException) -> bool: ...

    def reconnect(self) -> None: ...

    def close(self) -> None: ...


Settle = Callable[[bool, Any, list[Callable[[], Any]]], None]

# A queued work: the function, how to settle its result, whether to roll it
# back (mock mode), when it was queued (time.monotonic()) and its lock order
# key ("" when it has none).
Queued = tuple[Callable[[Tx], Any], Settle, bool, float, str]

# A work's result: whether it succeeded, its value or error, its after-commit
# callbacks and its log lines.
Outcome = tuple[bool, Any, list[Callable[[], Any]], list[LogEntry]]


class GroupWriter:
    def __init__(self, connection: WriteConnection, name: str) -> None:
        self._connection = connection
        self._queue: queue.SimpleQueue[Queued | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._closed = False
        # Failed groups during a database outage, so each write does not log a line.
        self._outages = OutageLog(log)
        self._thread.start()

    # Called from any thread ---------------------------------------------------

    def submit(
        self,
        work: Callable[[Tx], Any],
        settle: Settle,
        *,
        rollback: bool = False,
        order_key: str | None = None,
    ) -> None:
        """Queue ``work``; with ``rollback`` (mock mode) it runs but its changes are undone.

        ``order_key`` names the row the work locks first (see ``lock_order``).
        A group whose works all have one runs them sorted by it, so groups
        of different processes lock those rows in one order.
        """
        if self._closed:
            settle(False, ServiceUnavailable("the server is shutting down; retry shortly"), [])
            return
        self._queue.put((work, settle, rollback, time.monotonic(), order_key or ""))

    async def run(self, work: Callable[[Tx], Any], order_key: str | None = None) -> Any:
        journal = journal_for_this_task()
        if journal is not None:
            done, result = journal.replayed()
            if done:
                return result
            work = journal.wrap(work)

        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        self.submit(
            work, _FutureSettle(loop, future), rollback=mock.is_active(), order_key=order_key
        )
        result = await future
        if journal is not None:
            journal.committed(result)
        return result

    def run_sync(self, work: Callable[[Tx], Any]) -> Any:
        done = threading.Event()
        box: dict[str, Any] = {}

        def settle(ok: bool, value: Any, callbacks: list[Callable[[], Any]]) -> None:
            box["ok"], box["value"] = ok, value
            done.set()

        self.submit(work, settle)
        done.wait()
        if not box["ok"]:
            raise box["value"]
        return box["value"]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()
            self._connection.close()

    # The writer thread -----------------------------------------------------------

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            group = [item]
            while len(group) < MAX_GROUP:
                try:
                    following = self._queue.get_nowait()
                except queue.Empty:
                    break
                if following is None:
                    self._queue.put(None)
                    break
                group.append(following)
            # Stable, so the works of one key keep their queue order. A work
            # without a key may touch any row, so such a group keeps its
            # queue order whole and leaves deadlocks to the retry.
            if all(item[4] for item in group):
                group.sort(key=lambda item: item[4])
            self._commit_group(group)

    def _run_one(
        self,
        cursor: Any,
        work: Callable[[Tx], Any],
        flush: Callable[[], None] | None,
        rows: RowGroup,
        *,
        savepoint: bool,
        rollback: bool,
    ) -> tuple[Outcome, Tx | None]:
        """Run one work, in a savepoint of its own when ``savepoint`` or ``rollback``.

        Without a savepoint a failure leaves the transaction to the caller,
        which rolls back the whole group, and the work's ``before_commit``
        callbacks are left to the caller too. ``rows`` is the group's shared
        ``RowGroup``. A work without a savepoint leaves its grouped rows
        queued there for the next works to join, and the caller sends them.
        Returns the outcome and, for a work that succeeded, its ``Tx``. A
        success's after-commit callbacks and log lines stay in that ``Tx``
        until the caller has committed, because a ``before_commit`` callback
        may still add to them.
        """
        savepoint = savepoint or rollback
        tx = Tx(cursor, self._connection.dialect, flush, defer_logs=True)
        tx.share_rows(rows)
        if savepoint:
            # The rows of earlier works belong before this work's savepoint.
            tx.send_batch()
            cursor.execute("SAVEPOINT work")
        try:
            result = work(tx)
            tx.send_batch(rows=savepoint)
            if savepoint and flush is not None:
                # A statement sent without waiting fails here, inside its
                # own work's savepoint, and so does a callback.
                flush()
                if tx.has_before_commit():
                    tx.run_before_commit()
                    flush()
        except BaseException as error:  # noqa: BLE001 - handed to the caller
            if flush is not None:
                self._drain(flush)
            if not savepoint:
                return (False, error, [], tx.take_logs("failed")), None
            if self._connection.is_retryable(error):
                # A deadlock victim still holds the locks of the works before
                # it, so running it again in place can deadlock again. The
                # whole group runs again instead (``_run_with_retries``).
                raise
            cursor.execute("ROLLBACK TO SAVEPOINT work")
            cursor.execute("RELEASE SAVEPOINT work")
            return (False, error, [], tx.take_logs("failed")), None
        if rollback:
            cursor.execute("ROLLBACK TO SAVEPOINT work")
            cursor.execute("RELEASE SAVEPOINT work")
            return (True, result, [], []), None
        if savepoint:
            cursor.execute("RELEASE SAVEPOINT work")
        return (True, result, [], []), tx

    def _drain(self, flush: Callable[[], None]) -> None:
        """Receive every result still pending after a statement failed.

        A pipelined statement's error can surface at the next ``execute``,
        before the writer sent a sync. Until one is sent, PostgreSQL skips
        every later statement, the rollback to the savepoint included.
        """
        try:
            flush()
        except Exception as error:
            if not self._connection.is_statement_error(error):
                raise

    def _run_group(self, group: list[Queued], *, savepoints: bool) -> list[Outcome]:
        """Run ``group`` in one transaction and commit it.

        Without savepoints the first failure rolls the transaction back, and
        the outcomes end with that failure. The works' ``before_commit``
        callbacks run after the last work, once one sync has brought every
        result in. A statement error that surfaces only at commit fails the
        last work, which sends the group round again. After the commit each
        committed work's outcome receives its after-commit callbacks and log
        lines.
        """
        cursor = self._connection.cursor()
        outcomes: list[Outcome] = []
        transactions: list[Tx | None] = []
        rows = RowGroup()
        failed = False
        try:
            with self._connection.pipeline() as flush:
                queued_at = min(item[3] for item in group)
                self._connection.begin(cursor, queued_at)
                for work, _settle, rollback, _queued_at, _order_key in group:
                    outcome, tx = self._run_one(
                        cursor, work, flush, rows, savepoint=savepoints, rollback=rollback
                    )
                    outcomes.append(outcome)
                    transactions.append(tx)
                    if not outcome[0] and not savepoints:
                        failed = True
                        break
                if not failed and rows:
                    # Rows that the last works grouped; a failure to send them
                    # fails the last work, like the commit's.
                    rows.send(cursor.connection)
                if not failed and not savepoints:
                    failed = self._run_before_commit(transactions, outcomes, flush)
                if not failed:
                    self._connection.commit(cursor, queued_at)
        except Exception as error:
            if savepoints or not outcomes or not self._connection.is_statement_error(error):
                raise
            last = transactions[len(outcomes) - 1]
            outcomes[-1] = (False, error, [], last.take_logs("failed") if last else [])
            failed = True
        if failed:
            self._connection.rollback(cursor)
            return outcomes

        for index, tx in enumerate(transactions):
            if tx is not None:
                tx.read_deferred()
                outcomes[index] = (
                    True,
                    outcomes[index][1],
                    tx.take_after_commit(),
                    tx.take_logs("committed"),
                )
        return outcomes

    @staticmethod
    def _run_before_commit(
        transactions: list[Tx | None],
        outcomes: list[Outcome],
        flush: Callable[[], None] | None,
    ) -> bool:
        """Run the works' ``before_commit`` callbacks; tell whether one failed.

        They run in rounds across the group: each round runs, work by work,
        the callbacks registered by the round before, after one sync that
        brings in every result sent so far. The statements that a round's
        callbacks send share one batch, so they go out merged where they can
        (``db/batch.py``). A failure truncates ``outcomes`` after the work it
        belongs to, as if that work had failed itself. An error of the
        round's last merged statement fails its last work, which is enough
        to send the group round again with a savepoint per work.
        """
        pending = [index for index, tx in enumerate(transactions) if tx and tx.has_before_commit()]
        shared = StatementBatch()
        while pending:
            if flush is not None:
                flush()
            for index in pending:
                tx = transactions[index]
                assert tx is not None
                try:
                    tx.share_batch(shared)
                    tx.run_before_commit_round(send=index == pending[-1])
                except Exception as error:  # noqa: BLE001 - handed to the caller
                    del outcomes[index:]
                    outcomes.append((False, error, [], tx.take_logs("failed")))
                    return True
            pending = [
                index
                for index in pending
                if transactions[index].has_before_commit()  # type: ignore[union-attr]
            ]
        return False

    def _commit_group(self, group: list[Queued]) -> None:
        outcomes = self._run_with_retries(group)
        # The results of a group's coroutine works reach each event loop in
        # one callback, because a wake-up per work costs the loop a callback
        # and the writer a call_soon_threadsafe each.
        on_loops: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Outcome]]] = {}
        for (_work, settle, _rollback, _queued_at, _order_key), outcome in zip(
            group, outcomes, strict=True
        ):
            for entry in outcome[3]:
                entry.write()
            if isinstance(settle, _FutureSettle):
                on_loops.setdefault(settle.loop, []).append((settle.future, outcome))
            else:
                settle(outcome[0], outcome[1], outcome[2])
        for loop, settled in on_loops.items():
            try:
                loop.call_soon_threadsafe(_settle_futures, settled)
            except RuntimeError:
                # The loop has closed, so no coroutine awaits these futures.
                pass

    def _run_with_retries(self, group: list[Queued]) -> list[Outcome]:
        """Run ``group`` until it commits, running it whole again after a deadlock.

        Groups of other processes can still lock rows in other orders (works
        without an ``order_key``, rows a work locks later), so PostgreSQL can
        abort one of two groups with a deadlock (40P01) or a
        serialization failure (40001). That group rolled back entirely, so
        running it again repeats no acknowledged write. After
        ``GROUP_ATTEMPTS`` tries every work of the group fails with a 503.
        """
        for attempt in range(1, GROUP_ATTEMPTS + 1):
            try:
                outcomes = self._run_group_once(group)
            except Exception as error:
                if attempt < GROUP_ATTEMPTS and self._connection.is_retryable(error):
                    self._retry_after(error, attempt, len(group))
                    continue
                self._recover(error)
                unavailable = (
                    error
                    if isinstance(error, ServiceUnavailable)
                    else ServiceUnavailable(
                        "the database is unavailable or busy; retry the request shortly",
                        headers={"Retry-After": "1"},
                    )
                )
                return [(False, unavailable, [], []) for _ in group]
            self._outages.recovery(_WRITE_FAILED, "write groups commit again")
            self._outages.recovery(_RECONNECT_FAILED, "database reconnected")
            return outcomes
        raise AssertionError("unreachable")

    def _run_group_once(self, group: list[Queued]) -> list[Outcome]:
        # Most works succeed, so a group first runs without a savepoint per
        # work, which saves two statements (two round trips on PostgreSQL)
        # each. A retryable failure there rolled the whole group back, so it
        # is raised for the caller to run the group again. Another failure
        # runs the group again with savepoints, so the failure is undone
        # alone. A lone work that failed for good is not run again.
        outcomes = self._run_group(group, savepoints=False)
        ok, failure, _, _ = outcomes[-1]
        if ok:
            return outcomes
        if self._connection.is_retryable(failure):
            raise failure
        if len(group) > 1:
            return self._run_group(group, savepoints=True)
        return outcomes

    def _retry_after(self, error: BaseException, attempt: int, size: int) -> None:
        log.warning(
            "write group retried after a conflict",
            extra={"attempt": attempt, "works": size, "error": str(error)[:300]},
        )
        # A fresh connection: after an error in pipeline mode psycopg 3.3 can
        # count a statement as prepared whose PREPARE the server skipped, and
        # the next run then fails with "prepared statement does not exist".
        self._connection.reconnect()
        # Random backoff, so the two aborted groups do not collide again in step.
        time.sleep(random.uniform(0.5, 1.5) * RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))

    def _recover(self, error: Exception) -> None:
        # A lost connection is an outage that passes, and its callers get a 503.
        outage = isinstance(error, ServiceUnavailable) or self._connection.is_connection_error(
            error
        )
        fields = {"error": str(error)[:300]}
        if outage:
            self._outages.failure(_WRITE_FAILED, _WRITE_FAILED, extra=fields)
        else:
            log.error(_WRITE_FAILED, extra=fields)
        try:
            self._connection.rollback(self._connection.cursor())
        except Exception:
            pass
        if self._connection.is_connection_error(error):
            try:
                self._connection.reconnect()
            except Exception as reconnect_error:
                self._outages.failure(
                    _RECONNECT_FAILED,
                    _RECONNECT_FAILED,
                    extra={"error": str(reconnect_error)[:300]},
                )


class _FutureSettle:
    """The settle function of a work that a coroutine awaits, with its event loop and future."""

    __slots__ = ("loop", "future")

    def __init__(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any]) -> None:
        self.loop = loop
        self.future = future

    def __call__(self, ok: bool, value: Any, callbacks: list[Callable[[], Any]]) -> None:
        self.loop.call_soon_threadsafe(_settle_futures, [(self.future, (ok, value, callbacks, []))])


def _settle_futures(settled: list[tuple[asyncio.Future[Any], Outcome]]) -> None:
    for future, (ok, value, callbacks, _logs) in settled:
        if future.done():
            continue
        if ok:
            future.set_result(value)
            run_callbacks(callbacks)
        else:
            future.set_exception(value)


def run_callbacks(callbacks: list[Callable[[], Any]]) -> None:
    import inspect

    for callback in callbacks:
        try:
            result = callback()
            if inspect.isawaitable(result):
                asyncio.ensure_future(result)
        except Exception:
            log.exception("after-commit callback failed")
