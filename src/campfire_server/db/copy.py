"""Copy every row from one Campfire database into another, such as SQLite to PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import warnings
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial

from sqlalchemy import (
    Column,
    ForeignKeyConstraint,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    create_engine,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError

from ..errors import ServiceUnavailable
from ..events.cursor import EMPTY_SNAPSHOT
from ..redaction import hide_password
from . import migrate

log = logging.getLogger(__name__)

BATCH_ROWS = 1000
# Columns that only mean something on the engine that wrote them: the id of
# the PostgreSQL transaction that wrote an event is rebuilt on the target.
ENGINE_COLUMNS = {"events": {"tx_id"}}
# Tables whose rows the migrations insert; the source's rows replace them.
SEEDED_TABLES = {"event_cursors", "webhook_revisions"}


# How many rows that PostgreSQL cannot store one error lists before it counts the rest.
MAX_LISTED_ROWS = 10


class CopyError(Exception):
    pass


class DatabaseFailed(Exception):
    """A connection to or statement on one database of the copy failed.

    ``role`` is ``"source"`` or ``"target"``, ``url`` that database's URL
    without its password and ``original`` the driver's or SQLAlchemy's error.
    """

    def __init__(self, role: str, url: str, original: BaseException) -> None:
        super().__init__(f"the {role} database {url} failed: {original}")
        self.role = role
        self.url = url
        self.original = original


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (DBAPIError, sqlite3.Error, ServiceUnavailable)
    try:
        import psycopg
    except ImportError:
        return errors
    return (*errors, psycopg.Error)


@contextmanager
def _on_database(role: str, url: str) -> Iterator[None]:
    """Raise a database error of the block as ``DatabaseFailed`` naming the ``role`` database."""
    try:
        yield
    except _driver_errors() as error:
        raise DatabaseFailed(role, hide_password(url), error) from error


def copy_database(
    source_url: str, target_url: str, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Migrate the target, copy every table in foreign-key order and return row counts.

    The target must be empty: copying into a database that already has
    conversations would mix two organizations' histories.
    """
    with _on_database("source", source_url):
        current = migrate.is_current(source_url)
    if not current:
        raise CopyError(
            "the source database is not at the current schema; run `campfire migrate` on it first"
        )
    with _on_database("target", target_url):
        migrate.upgrade(target_url)

    source = create_engine(migrate.sqlalchemy_url(source_url))
    target = create_engine(migrate.sqlalchemy_url(target_url))
    try:
        counts = _copy_rows(source, target, source_url, target_url, progress)
    finally:
        source.dispose()
        target.dispose()
    log.info("database copied", extra={"tables": len(counts), "rows": sum(counts.values())})

    # The analytics facts are copied with the rest. Any that the source
    # lacked, such as for conversations it imported directly, are derived.
    with _on_database("target", target_url):
        _rebuild_missing_facts(target_url)
    return counts


def _copy_rows(  # type: ignore[no-untyped-def]
    source,
    target,
    source_url: str,
    target_url: str,
    progress: Callable[[str, int], None] | None,
) -> dict[str, int]:
    """Copy every table from ``source`` into ``target`` in one transaction of the target."""
    counts: dict[str, int] = {}
    metadata = MetaData()
    with _on_database("source", source_url):
        _reflect(metadata, source)
    tables = [table for table in metadata.sorted_tables if table.name != "alembic_version"]

    with _on_database("target", target_url):
        with target.connect() as conn:
            target_meta = MetaData()
            _reflect(target_meta, conn)
            for table in tables:
                if table.name in SEEDED_TABLES:
                    continue
                existing = conn.execute(
                    select(func.count()).select_from(target_meta.tables[table.name])
                ).scalar_one()
                if existing:
                    raise CopyError(
                        f"the target table {table.name!r} already has {existing} rows; "
                        "copy into an empty database"
                    )

    if target.dialect.name == "postgresql":
        with _on_database("source", source_url), source.connect() as reader:
            _require_storable(reader, tables)

    # Each step names the database it reads or writes, so an error names that one.
    on_source = partial(_on_database, "source", source_url)
    on_target = partial(_on_database, "target", target_url)
    with on_source(), source.connect() as reader, on_target(), target.begin() as writer:
        for table in tables:
            destination = target_meta.tables[table.name]
            if table.name in SEEDED_TABLES:
                with on_target():
                    writer.execute(destination.delete())
            copied = 0
            skipped = ENGINE_COLUMNS.get(table.name, set())
            columns = [column for column in table.columns if column.name not in skipped]
            with on_source():
                result = reader.execution_options(yield_per=BATCH_ROWS).execute(select(*columns))
                batches = result.mappings().partitions(BATCH_ROWS)
            while True:
                with on_source():
                    batch = next(batches, None)
                if batch is None:
                    break
                with on_target():
                    writer.execute(insert(destination), [dict(row) for row in batch])
                copied += len(batch)
            counts[table.name] = copied
            if progress:
                progress(table.name, copied)
        if target.dialect.name == "postgresql":
            with on_target():
                _advance_sequences(writer, tables)
        with on_source():
            unread = _unread_positions(reader, source.dialect.name)
        with on_target():
            _rebase_event_cursors(writer, unread, target.dialect.name)

    with _on_database("target", target_url), target.connect() as conn:
        for table in tables:
            stored = conn.execute(
                select(func.count()).select_from(target_meta.tables[table.name])
            ).scalar_one()
            if stored != counts[table.name]:
                raise CopyError(
                    f"{table.name}: copied {counts[table.name]} rows but the target has {stored}"
                )
    return counts


def _nul_columns(row: Mapping[str, object]) -> list[str]:
    """Return the names of the text columns of ``row`` whose value contains NUL (U+0000)."""
    return [name for name, value in row.items() if isinstance(value, str) and "\x00" in value]


def _require_storable(reader, tables) -> None:  # type: ignore[no-untyped-def]
    """Raise ``CopyError`` naming each source row with text that PostgreSQL cannot store.

    PostgreSQL text cannot contain NUL (U+0000), which SQLite stores, so
    such a row would stop the copy with a driver error. Databases written
    before every input rejected NUL may hold such rows.
    """
    found: list[str] = []
    total = 0
    for table in tables:
        key = [column.name for column in table.primary_key.columns]
        result = reader.execution_options(yield_per=BATCH_ROWS).execute(select(*table.columns))
        for row in result.mappings():
            columns = _nul_columns(row)
            if not columns:
                continue
            total += 1
            if len(found) < MAX_LISTED_ROWS:
                ids = ", ".join(f"{name}={row[name]!r}" for name in key)
                found.append(f"{table.name} row {ids} ({', '.join(columns)})")
    if not found:
        return
    more = f" and {total - len(found)} more" if total > len(found) else ""
    rows = "1 row contains" if total == 1 else f"{total} rows contain"
    raise CopyError(
        f"{rows} NUL (U+0000) characters, which PostgreSQL text cannot store: "
        f"{'; '.join(found)}{more}. Remove the NUL characters from those columns in the "
        "source, for example with UPDATE table SET column = REPLACE(column, char(0), '') "
        "in sqlite3, and copy again"
    )


def _rebuild_missing_facts(url: str) -> int:
    # The copy may be called from a coroutine; the rebuild and the close of
    # its own database run on a thread without an event loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_rebuild_facts_of, url).result()


def _rebuild_facts_of(url: str) -> int:
    from ..analytics.backfill import rebuild_facts
    from .database import open_database

    db = open_database(url, pool_size=2)
    try:
        return rebuild_facts(db)
    finally:
        asyncio.run(db.close())


def _reflect(metadata: MetaData, bind) -> None:  # type: ignore[no-untyped-def]
    """Add each table of ``bind`` to ``metadata`` with its columns and keys, not its indexes.

    The copy needs only columns, primary keys and the foreign keys that
    order the tables. ``MetaData.reflect`` also reads indexes, and SQLAlchemy
    2.1 skips an expression index on SQLite (``ux_agents_org_email`` on
    ``LOWER(email)``) with an ``SAWarning`` that every copy printed.
    """
    inspector = inspect(bind)
    # SQLAlchemy has no type for PostgreSQL's xid8 (events.tx_id), which is
    # never copied, so its warning carries no information here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Did not recognize type 'xid8'")
        for name in inspector.get_table_names():
            columns = [_column(reflected) for reflected in inspector.get_columns(name)]
            primary_key = inspector.get_pk_constraint(name)["constrained_columns"]
            foreign_keys = [
                ForeignKeyConstraint(
                    key["constrained_columns"],
                    [f"{key['referred_table']}.{column}" for column in key["referred_columns"]],
                )
                for key in inspector.get_foreign_keys(name)
            ]
            Table(name, metadata, *columns, PrimaryKeyConstraint(*primary_key), *foreign_keys)


def _column(reflected: dict) -> Column:  # type: ignore[type-arg]
    """Build a column from one entry of ``Inspector.get_columns``."""
    options = {"nullable": reflected["nullable"]}
    if "autoincrement" in reflected:
        options["autoincrement"] = reflected["autoincrement"]
    return Column(reflected["name"], reflected["type"], **options)


def _advance_sequences(conn, tables) -> None:  # type: ignore[no-untyped-def]
    """Move each serial sequence past the copied ids so new rows do not collide."""
    for table in tables:
        for column in table.primary_key.columns:
            if not column.autoincrement or column.type.python_type is not int:
                continue
            sequence = conn.execute(
                text("SELECT pg_get_serial_sequence(:table, :column)"),
                {"table": table.name, "column": column.name},
            ).scalar()
            if sequence:
                conn.execute(
                    text(
                        f'SELECT setval(:sequence, COALESCE((SELECT MAX("{column.name}") '
                        f'FROM "{table.name}"), 0) + 1, false)'
                    ),
                    {"sequence": sequence},
                )


def _unread_positions(conn, dialect: str) -> list[int]:  # type: ignore[no-untyped-def]
    """Return the positions of the events that some event cursor of the source has not read."""
    if dialect == "postgresql":
        # An event in the middle of a range counts as unread. Reading it again
        # on the target inserts nothing twice.
        rows = conn.execute(
            text(
                "SELECT e.position FROM events e WHERE e.tx_id IS NOT NULL AND EXISTS ("
                "SELECT 1 FROM event_cursors c WHERE NOT pg_visible_in_snapshot(e.tx_id, "
                "CAST(COALESCE(c.consumed_snapshot, :empty) AS pg_snapshot))) ORDER BY e.position"
            ),
            {"empty": EMPTY_SNAPSHOT},
        )
    else:
        rows = conn.execute(
            text(
                "SELECT position FROM events WHERE position > "
                "(SELECT COALESCE(MIN(position), 0) FROM event_cursors) ORDER BY position"
            )
        )
    return [int(row[0]) for row in rows]


def _rebase_event_cursors(writer, unread: list[int], target: str) -> None:  # type: ignore[no-untyped-def]
    """Point the target's event cursors at the events the source had not read yet.

    PostgreSQL snapshots and transaction ids are local to one server, so
    they are never copied: on a PostgreSQL target the read events get no
    transaction id, the unread ones keep the copy's, and the cursor starts
    from the empty snapshot. A SQLite target's cursor goes just before the
    first unread position. ``unread`` contains the positions of the events
    that some cursor of the source has not read (``_unread_positions``).
    """
    if target == "postgresql":
        writer.execute(
            text(
                "UPDATE events SET tx_id = NULL "
                "WHERE NOT (position = ANY(CAST(:unread AS bigint[])))"
            ),
            {"unread": unread},
        )
        writer.execute(
            text(
                "UPDATE event_cursors SET position = 0, resume_tx_id = NULL, "
                "consumed_snapshot = NULL, target_snapshot = NULL"
            )
        )
        writer.execute(text("UPDATE webhooks SET start_snapshot = NULL"))
        # The disabled periods' snapshots are the source's too: a disabled
        # webhook stays disabled for every event, an enabled one for none.
        writer.execute(
            text(
                "UPDATE webhooks SET disabled_periods = CASE WHEN enabled THEN '[]' "
                "ELSE :always END"
            ),
            {"always": '[{"from":null,"to":null}]'},
        )
        return
    last = writer.execute(text("SELECT COALESCE(MAX(position), 0) FROM events")).scalar_one()
    position = unread[0] - 1 if unread else int(last)
    writer.execute(
        text(
            "UPDATE event_cursors SET position = :position, resume_tx_id = NULL, "
            "consumed_snapshot = NULL, target_snapshot = NULL"
        ),
        {"position": position},
    )
