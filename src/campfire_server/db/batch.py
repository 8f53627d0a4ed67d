"""Merge statements sent without waiting into one PostgreSQL statement.

In PostgreSQL's pipelined writer a statement whose result is not read at
once (``Tx.send``, ``Tx.send_returning``, ``Tx.send_counted``) costs no round
trip, but each one still costs psycopg's Python work per statement, which
under load is most of the writer thread's CPU. A run of such statements is
therefore sent as one statement with each of them in a data-modifying
``WITH`` query:

    WITH s0 AS (INSERT ...), s1 AS (UPDATE ... RETURNING 1)
    SELECT (SELECT count(*) FROM s1) AS r1

Every query of a ``WITH`` statement reads the same snapshot, taken before
any of them runs. So a statement joins the run only when it names no table
that an earlier statement of the run writes, and then it reads the rows it
would have read on its own. A statement sent with a row key is the
exception for its own target table. Its caller promises that it reads and
writes only the rows of that table that the key names, so it joins a run
that wrote other keys of the table. That lets PostgreSQL's writer send the
event insert and the analytics update of many messages of a group, each
keyed by its event or conversation, as one statement. Each statement's
data-modifying query runs once and to completion whether or not the final
``SELECT`` reads it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from .parameters import NAMED_PARAMETER

if TYPE_CHECKING:
    from .tx import Deferred

# The part of a sent statement's result that its caller reads: nothing,
# its single returned column, its row count or its first row.
Reading = Literal["none", "value", "count", "row"]

_TARGET = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(\w+)", re.IGNORECASE)
_RETURNING = re.compile(r"\sRETURNING\s", re.IGNORECASE)
_RETURNING_ONE_COLUMN = re.compile(r"\sRETURNING\s+(\w+)\s*$", re.IGNORECASE)
_WORD = re.compile(r"\w+")
# Statements in one merged statement at most, which bounds its parameters
# and the number of distinct merged statements that get prepared.
MAX_MERGED = 32


@dataclass(frozen=True, slots=True)
class Shape:
    """The facts about one statement's SQL that the merge needs."""

    target: str | None
    words: frozenset[str]
    returned_column: str | None
    returning: bool


_shapes: dict[str, Shape] = {}


def shape_of(sql: str) -> Shape:
    shape = _shapes.get(sql)
    if shape is None:
        target = _TARGET.match(sql)
        returned = _RETURNING_ONE_COLUMN.search(sql)
        shape = Shape(
            target=target.group(1).lower() if target else None,
            words=frozenset(word.lower() for word in _WORD.findall(sql)),
            returned_column=returned.group(1) if returned else None,
            returning=_RETURNING.search(sql) is not None,
        )
        _shapes[sql] = shape
    return shape


def can_merge(shape: Shape, reading: Reading) -> bool:
    """Tell whether a statement can be one query of a merged ``WITH`` statement.

    Only ``INSERT``, ``UPDATE`` and ``DELETE`` can. A statement whose
    returned value is read must return exactly one named column, and one
    whose whole row is read cannot.
    """
    if shape.target is None or reading == "row":
        return False
    if reading == "value":
        return shape.returned_column is not None
    return True


class BatchResult:
    """The result row of a merged statement, fetched once for all its readers."""

    __slots__ = ("_cursor", "_row")

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._row: dict[str, Any] | None = None

    def column(self, name: str) -> Any:
        if self._row is None:
            self._row = dict(self._cursor.fetchone())
            self._cursor = None
        return self._row[name]


@dataclass(slots=True)
class _Pending:
    sql: str
    params: Mapping[str, Any]
    reading: Reading
    deferred: Deferred | None


class StatementBatch:
    """A run of sent statements that have not yet gone to the server."""

    __slots__ = ("_pending", "_written")

    def __init__(self) -> None:
        self._pending: list[_Pending] = []
        # Each table that the run writes, with the row keys of its writes, or
        # ``None`` once a statement without a row key wrote it.
        self._written: dict[str, set[str] | None] = {}

    def __bool__(self) -> bool:
        return bool(self._pending)

    def accepts(self, shape: Shape, row_key: str | None = None) -> bool:
        """Tell whether the statement reads the same rows inside the run as it would alone.

        ``row_key`` names the only rows of its target table that the
        statement reads or writes (see ``Tx.send``).
        """
        if len(self._pending) >= MAX_MERGED:
            return False
        if row_key is None:
            return self._written.keys().isdisjoint(shape.words)
        for table, keys in self._written.items():
            if table == shape.target:
                if keys is None or row_key in keys:
                    return False
            elif table in shape.words:
                return False
        return True

    def add(
        self,
        sql: str,
        params: Mapping[str, Any],
        shape: Shape,
        reading: Reading,
        deferred: Deferred | None,
        row_key: str | None = None,
    ) -> None:
        target = shape.target
        assert target is not None
        self._pending.append(_Pending(sql, params, reading, deferred))
        if row_key is None:
            self._written[target] = None
            return
        keys = self._written.setdefault(target, set())
        if keys is not None:
            keys.add(row_key)

    def take(self) -> list[_Pending]:
        pending, self._pending = self._pending, []
        self._written = {}
        return pending


# A merged statement in PostgreSQL's ``$n`` parameter style, with the
# statement index and parameter name that each ``$n`` refers to.
MergedSql = tuple[str, tuple[tuple[int, str], ...]]
_merged_sql: dict[tuple[tuple[str, Reading], ...], MergedSql] = {}
# Merged statements kept at most; the cache starts again when it is full.
_MERGED_SQL_CACHE = 1024


def merged_statement(pending: list[_Pending]) -> tuple[str, list[Any]]:
    """Return the merged statement with ``$n`` parameters, and its parameters in order.

    The result column of statement ``i`` is named ``r{i}``. The statement
    is for psycopg's ``RawCursor``, which sends it unparsed. psycopg 3.3
    parses a ``%(name)s`` statement of over 4096 characters or 50
    parameters again on every execution, without its cache, and for a
    merged statement of 32 event inserts and analytics updates that parse
    took about 0.8 ms (2-CPU Xeon, Python 3.11).
    """
    key = tuple((item.sql, item.reading) for item in pending)
    merged = _merged_sql.get(key)
    if merged is None:
        if len(_merged_sql) >= _MERGED_SQL_CACHE:
            _merged_sql.clear()
        merged = _merge(key)
        _merged_sql[key] = merged

    sql, slots = merged
    return sql, [pending[index].params[name] for index, name in slots]


def _merge(statements: tuple[tuple[str, Reading], ...]) -> MergedSql:
    queries = []
    columns = []
    numbers: dict[tuple[int, str], int] = {}

    for index, (sql, reading) in enumerate(statements):

        def number(match: re.Match[str], index: int = index) -> str:
            slot = (index, match.group(1))
            if slot not in numbers:
                numbers[slot] = len(numbers) + 1
            return f"${numbers[slot]}"

        body = NAMED_PARAMETER.sub(number, sql)
        if reading == "count":
            if not shape_of(sql).returning:
                body += " RETURNING 1"
            columns.append(f"(SELECT count(*) FROM s{index}) AS r{index}")
        elif reading == "value":
            column = shape_of(sql).returned_column
            columns.append(f"(SELECT {column} FROM s{index} LIMIT 1) AS r{index}")
        queries.append(f"s{index} AS ({body})")
    select = ", ".join(columns) if columns else "1 AS r"
    return f"WITH {', '.join(queries)} SELECT {select}", tuple(numbers)
