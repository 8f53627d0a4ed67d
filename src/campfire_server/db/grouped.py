"""Send one statement for the like rows that consecutive works of a write group send.

In PostgreSQL's pipelined writer each statement costs psycopg's Python
work for its ``execute``, and the backend binds and executes each one. A
statement written for many rows at once, which takes each parameter as an
array with one element per row, does that work once for the rows of many
works. ``Tx.send_grouped`` queues a row for such a statement, and the
writer shares one ``RowGroup`` among the works of a group, so the rows of
consecutive works go out as one statement.

A row joins the queued rows only when they are for the same statement and
merge key, and no queued row has its row key. The caller promises that a
row reads and writes only what its row key names, so rows of distinct keys
give the same results in one statement as one after another. Any other
statement on the connection sends the queued rows first, so statements
still run in the order the works sent them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from .parameters import to_pyformat

if TYPE_CHECKING:
    from .tx import Deferred

# Build the statement for a list of rows: return its SQL, with ``:name``
# parameters, and its parameters. Each result row carries the 1-based
# index of the row it belongs to in an ``item`` column.
MergeRows = Callable[[list[Mapping[str, Any]]], tuple[str, dict[str, Any]]]

# Rows in one statement at most, which bounds the locks and the work that
# one statement holds. The writer's groups have at most 64 works.
MAX_ROWS = 64


class GroupResult:
    """The result rows of one grouped statement, fetched once for all its rows' readers."""

    __slots__ = ("_cursor", "_rows")

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor
        self._rows: dict[int, dict[str, Any]] | None = None

    def row(self, item: int) -> dict[str, Any] | None:
        """Return the result row of the ``item``-th row sent, counting from 1, or ``None``.

        The row is a dict without its ``item`` column.
        """
        if self._rows is None:
            rows = {}
            for fetched in self._cursor.fetchall():
                row = dict(fetched)
                rows[row.pop("item")] = row
            self._rows = rows
            self._cursor = None
        return self._rows.get(item)


class RowGroup:
    """Rows for one grouped statement that have not yet gone to the server."""

    __slots__ = ("_merge", "_key", "_row_keys", "_params", "_deferred")

    def __init__(self) -> None:
        self._merge: MergeRows | None = None
        self._key: Hashable = None
        self._row_keys: set[Hashable] = set()
        self._params: list[Mapping[str, Any]] = []
        self._deferred: list[Deferred] = []

    def __bool__(self) -> bool:
        return bool(self._params)

    def accepts(self, merge: MergeRows, key: Hashable, row_key: Hashable) -> bool:
        """Tell whether a row can join the queued ones in one statement."""
        if not self._params:
            return True
        return (
            merge is self._merge
            and key == self._key
            and row_key not in self._row_keys
            and len(self._params) < MAX_ROWS
        )

    def add(
        self,
        merge: MergeRows,
        key: Hashable,
        row_key: Hashable,
        params: Mapping[str, Any],
        deferred: Deferred,
    ) -> None:
        assert self.accepts(merge, key, row_key)
        self._merge = merge
        self._key = key
        self._row_keys.add(row_key)
        self._params.append(params)
        self._deferred.append(deferred)

    def send(self, connection: Any) -> None:
        """Send the queued rows as one statement on ``connection``, a psycopg connection.

        Each row's ``Deferred`` then reads its own result row.
        """
        if not self._params:
            return
        assert self._merge is not None
        sql, params = self._merge(self._params)
        deferred = self._deferred
        self._merge = None
        self._key = None
        self._row_keys = set()
        self._params = []
        self._deferred = []
        # A cursor of its own keeps the result in place while later
        # statements run on the writer's cursor.
        cursor = connection.cursor()
        # Binary parameters, because psycopg 3.3 dumps a list in text format
        # in Python with a regular expression per element. For the six text
        # arrays of 30 messages that took about 1 ms, and in binary format
        # 0.1 ms (psycopg 3.3.9, Python 3.11, 2-core machine).
        cursor.execute(to_pyformat(sql, binary=True), params)
        result = GroupResult(cursor)
        for index, waiting in enumerate(deferred, start=1):
            waiting.bind(partial(result.row, index))
