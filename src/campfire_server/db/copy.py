"""Copy every row from one Campfire database into another, such as SQLite to PostgreSQL."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import MetaData, create_engine, func, insert, select, text

from . import migrate

log = logging.getLogger(__name__)

BATCH_ROWS = 1000


class CopyError(Exception):
    pass


def copy_database(
    source_url: str, target_url: str, *, progress: Callable[[str, int], None] | None = None
) -> dict[str, int]:
    """Migrate the target, copy every table in foreign-key order and return row counts.

    The target must be empty: copying into a database that already has
    conversations would mix two organizations' histories.
    """
    if not migrate.is_current(source_url):
        raise CopyError(
            "the source database is not at the current schema; run `campfire migrate` on it first"
        )
    migrate.upgrade(target_url)

    source = create_engine(migrate.sqlalchemy_url(source_url))
    target = create_engine(migrate.sqlalchemy_url(target_url))
    counts: dict[str, int] = {}
    try:
        metadata = MetaData()
        metadata.reflect(bind=source)
        tables = [table for table in metadata.sorted_tables if table.name != "alembic_version"]

        with target.connect() as conn:
            target_meta = MetaData()
            target_meta.reflect(bind=conn)
            for table in tables:
                existing = conn.execute(
                    select(func.count()).select_from(target_meta.tables[table.name])
                ).scalar_one()
                if existing:
                    raise CopyError(
                        f"the target table {table.name!r} already has {existing} rows; "
                        "copy into an empty database"
                    )

        with source.connect() as reader, target.begin() as writer:
            for table in tables:
                destination = target_meta.tables[table.name]
                copied = 0
                result = reader.execution_options(yield_per=BATCH_ROWS).execute(select(table))
                for batch in result.mappings().partitions(BATCH_ROWS):
                    writer.execute(insert(destination), [dict(row) for row in batch])
                    copied += len(batch)
                counts[table.name] = copied
                if progress:
                    progress(table.name, copied)
            if target.dialect.name == "postgresql":
                _advance_sequences(writer, tables)

        with target.connect() as conn:
            for table in tables:
                stored = conn.execute(
                    select(func.count()).select_from(target_meta.tables[table.name])
                ).scalar_one()
                if stored != counts[table.name]:
                    raise CopyError(
                        f"{table.name}: copied {counts[table.name]} rows "
                        f"but the target has {stored}"
                    )
    finally:
        source.dispose()
        target.dispose()
    log.info("database copied", extra={"tables": len(counts), "rows": sum(counts.values())})

    # The analytics facts are copied with the rest. Any that the source
    # lacked, such as for conversations it imported directly, are derived.
    _rebuild_missing_facts(target_url)
    return counts


def _rebuild_missing_facts(url: str) -> int:
    import asyncio

    from ..analytics.backfill import rebuild_facts
    from .database import open_database

    db = open_database(url, pool_size=2)
    try:
        return rebuild_facts(db)
    finally:
        asyncio.run(db.close())


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
