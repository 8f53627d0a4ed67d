"""Alembic migrations run programmatically, on SQLite and on PostgreSQL."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")

# The PostgreSQL advisory lock key that serializes migrations of one
# database: the first eight bytes of "campfire" read as a signed integer.
MIGRATION_LOCK_KEY = int.from_bytes(b"campfire", "big", signed=True)


class MigrationBlocked(Exception):
    """A migration that cannot run on the stored data; the message states what to change."""


def sqlalchemy_url(url: str) -> str:
    """Map a Campfire database URL onto the synchronous SQLAlchemy driver that migrates it."""
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return config


def upgrade(url: str) -> bool:
    """Apply every migration that ``url`` has not had yet.

    Returns True when a migration was applied, and False when the schema was
    already current. Concurrent upgrades of one database (two ``campfire
    migrate`` runs, or several development servers starting together) take
    turns: the second waits for the first and then finds nothing left to apply.
    """
    heads = expected_heads()
    with migration_lock(url):
        before = current_heads(url)
        if before == heads:
            return False
        command.upgrade(alembic_config(url), "heads")
    log.info("database migrated", extra={"from": sorted(before), "heads": sorted(heads)})
    return True


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """Hold a lock that only one migration of ``url`` at a time can take.

    PostgreSQL gets a session advisory lock on a connection of its own.
    SQLite gets an exclusive ``flock`` on the database file, which SQLite's
    own byte-range locks do not conflict with.
    """
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///") :])
        if str(path) in ("", ":memory:") or not path.parent.is_dir():
            # An in-memory database needs no lock, and SQLite reports a missing directory itself.
            yield
            return
        with open(path, "ab") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return

    engine = create_engine(sqlalchemy_url(url), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")
            # Commit the implicit transaction, so that the wait does not keep
            # a snapshot open while the upgrade runs on its own connection.
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")
                conn.commit()
    finally:
        engine.dispose()


def expected_heads() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config("sqlite:///unused.db")).get_heads())


def current_heads(url: str) -> set[str]:
    """Return the migration heads that ``url`` has had, with no effect on the database.

    A SQLite file that does not exist has none, and is not created, as
    connecting to it would.
    """
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///") :]).is_file():
        return set()
    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())
    finally:
        engine.dispose()


def is_current(url: str) -> bool:
    return current_heads(url) == expected_heads()
