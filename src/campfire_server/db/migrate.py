"""Alembic migrations run programmatically, on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


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


def upgrade(url: str) -> None:
    """Apply every migration that ``url`` has not had yet."""
    command.upgrade(alembic_config(url), "heads")
    log.info("database migrated", extra={"heads": sorted(expected_heads())})


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
