"""One-line messages for the errors that end a ``campfire`` command, with their exit codes.

Exit code 2 means that the command line or the settings contain an invalid
value. Exit code 1 means that a valid command failed while it ran, for
example on a database that cannot be reached or an organization that does
not exist. An error that is not described here is a bug, and its traceback
is kept.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from typing import Any

from pydantic import ValidationError

from .db.migrate import MigrationBlocked
from .errors import ServiceError, ServiceUnavailable, ValidationFailed

USAGE = 2
RUNTIME = 1

DEFAULT_DATABASE_URL = "sqlite:///campfire.db"

# Fields whose values are never echoed back.
SECRET_FIELDS = frozenset(
    {"password", "identity_secret", "jwt_secret", "jwt_public_key", "metrics_token", "secret"}
)
# Options whose name is not the field name with dashes.
OPTION_NAMES = {"skills": "--skill"}


class CommandError(Exception):
    """An error that ends a command with ``message`` and ``exit_code``."""

    def __init__(self, message: str, exit_code: int = RUNTIME) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def hide_password(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url.split("@")[-1] if "@" in url else url


def database_url_of(args: argparse.Namespace) -> str:
    """Return the database URL a command used: its option, the environment or the default."""
    url = getattr(args, "database_url", None) or os.environ.get("CAMPFIRE_DATABASE_URL")
    return hide_password(url or DEFAULT_DATABASE_URL)


def _constraint(error: dict[str, Any], field: str) -> str:
    """Describe in words what the value must be, from one pydantic error."""
    kind = error.get("type", "")
    if field == "email" and kind == "string_pattern_mismatch":
        return "must be an email address such as robin@example.com"
    ctx = error.get("ctx") or {}
    described = {
        "less_than_equal": lambda: f"must be at most {ctx.get('le')}",
        "greater_than_equal": lambda: f"must be at least {ctx.get('ge')}",
        "less_than": lambda: f"must be less than {ctx.get('lt')}",
        "greater_than": lambda: f"must be greater than {ctx.get('gt')}",
        "string_too_short": lambda: f"must have at least {ctx.get('min_length')} characters",
        "string_too_long": lambda: f"must have at most {ctx.get('max_length')} characters",
        "string_pattern_mismatch": lambda: f"must match {ctx.get('pattern')}",
        "literal_error": lambda: f"must be one of {ctx.get('expected')}",
        "int_parsing": lambda: "must be a whole number",
        "int_type": lambda: "must be a whole number",
        "float_parsing": lambda: "must be a number",
        "bool_parsing": lambda: "must be true or false",
        "missing": lambda: "is required",
    }
    if kind in described:
        return described[kind]()
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    message = message.replace("Input should be ", "must be ", 1)
    if message.startswith(("must ", "is ", "has ")):
        return message
    return f"must be {message}"


def _option(model: str, field: str, args: argparse.Namespace) -> str:
    """Name the place a value came from: the command-line option or the environment variable."""
    if model == "Settings" and getattr(args, field, None) is None:
        return f"CAMPFIRE_{field.upper()}"
    return OPTION_NAMES.get(field, "--" + field.replace("_", "-"))


def describe_validation(error: ValidationError, args: argparse.Namespace) -> str:
    """Describe the first invalid value of a settings or request model in one line."""
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ()) if not isinstance(part, int)]
    field = location[-1] if location else "value"
    where = _option(error.title, field, args)
    value = first.get("input")
    shown = ""
    if field not in SECRET_FIELDS and isinstance(value, str | int | float) and value != "":
        text = hide_password(value) if field == "database_url" else str(value)
        shown = f" {text!r}" if isinstance(value, str) and " " in value else f" {text}"
    count = len(error.errors())
    more = f" (and {count - 1} more invalid values)" if count > 1 else ""
    return f"{where}{shown} is invalid: it {_constraint(first, field)}{more}"


def _driver_message(error: BaseException) -> str:
    """Return the first line of a database driver's message, without SQLAlchemy's wrapping."""
    original = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(original).splitlines() if line.strip()]
    text = " ".join(lines[0].split()) if lines else type(original).__name__
    return text.removeprefix("connection failed: ")


def _is_database_error(error: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    if isinstance(error, DBAPIError | sqlite3.Error):
        return True
    try:
        import psycopg
    except ImportError:
        return False
    return isinstance(error, psycopg.Error)


def describe_database(error: BaseException, args: argparse.Namespace) -> str:
    url = database_url_of(args)
    reason = _driver_message(error)
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        return (
            f"the database {url} has no Campfire tables ({reason}); "
            "run `campfire migrate` with the same --database-url first"
        )
    hint = (
        "check that its directory exists and is writable"
        if url.startswith("sqlite")
        else "check the host, port, user, password and database name, and that the server runs"
    )
    return f"cannot use the database {url}: {reason}; {hint} (--database-url)"


def describe(error: BaseException, args: argparse.Namespace) -> tuple[str, int] | None:
    """Return the one-line message and exit code for ``error``, or None for a bug."""
    if isinstance(error, CommandError):
        return error.message, error.exit_code
    if isinstance(error, ValidationError):
        return describe_validation(error, args), USAGE
    if isinstance(error, MigrationBlocked):
        return f"the migration stopped: {error}", RUNTIME
    if isinstance(error, ServiceUnavailable):
        return (
            f"cannot reach the database {database_url_of(args)}; check the host, port, user, "
            "password and database name, and that the server runs (--database-url)",
            RUNTIME,
        )
    if isinstance(error, ValidationFailed):
        return error.message, USAGE
    if isinstance(error, ServiceError):
        return error.message, RUNTIME
    if _is_database_error(error):
        return describe_database(error, args), RUNTIME
    if isinstance(error, ValueError):
        return str(error), USAGE
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}", RUNTIME
    return None
