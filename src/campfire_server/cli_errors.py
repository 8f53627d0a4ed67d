"""One-line messages for the errors that end a ``campfire`` command, with their exit codes.

Exit code 2 means that the command line or the settings contain an invalid
value. Exit code 1 means that a valid command failed while it ran, for
example on a database that cannot be reached or an organization that does
not exist. An error that is not described here is a bug, and its traceback
is kept. argparse's own errors (a missing or unknown argument, an invalid
choice or number) are one line too, without the usage that argparse prints.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from pydantic import ValidationError

from .db import migrate
from .db.migrate import MigrationBlocked
from .db.tx import Tx
from .errors import SHOWN_TEXT_LIMIT, ServiceError, ServiceUnavailable, ValidationFailed
from .knowledge.semantic import SemanticUnavailable
from .organizations import service as org_service
from .redaction import hide_password
from .sentences import first_clause

USAGE = 2
RUNTIME = 1

DEFAULT_DATABASE_URL = "sqlite:///campfire.db"

# Fields whose values are never echoed back.
SECRET_FIELDS = frozenset(
    {"password", "identity_secret", "jwt_secret", "jwt_public_key", "metrics_token", "secret"}
)
# Options whose name is not the field name with dashes.
OPTION_NAMES = {"skills": "--skill", "mailbox_ids": "--mailbox", "allowed_origins": "--origin"}
# The environment variable prefix of each settings model, by its class name.
SETTINGS_PREFIXES = {"Settings": "CAMPFIRE_", "AssistantSettings": "CAMPFIRE_AI_"}


class CommandError(Exception):
    """An error that ends a command with ``message`` and ``exit_code``."""

    def __init__(self, message: str, exit_code: int = RUNTIME) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


def require_migrated(database_url: str) -> None:
    """Raise ``CommandError`` before a command opens a database that was never migrated.

    Opening a SQLite file creates it, so without this check a command run
    before ``campfire migrate`` would leave an empty database file behind.
    """
    if not migrate.is_current(database_url):
        safe_url = hide_password(database_url)
        missing = missing_sqlite_file(database_url)
        if missing is not None:
            raise CommandError(
                f"the database file {str(missing)!r} of {safe_url} does not exist; check the "
                "path, or run `campfire migrate` with the same --database-url to create it"
            )
        raise CommandError(
            f"the database {safe_url} has an old schema or none; "
            "run `campfire migrate` with the same --database-url first"
        )


def missing_sqlite_file(database_url: str) -> Path | None:
    """Return the absolute path of a SQLite database file that does not exist, else None."""
    if not database_url.startswith("sqlite:///"):
        return None
    path = Path(database_url[len("sqlite:///") :])
    if str(path) in ("", ":memory:") or path.is_file():
        return None
    return path.absolute()


def require_organization(tx: Tx, org_id: str) -> None:
    """Raise ``CommandError`` unless the organization of ``--org`` exists.

    Every command with ``--org`` calls this before its work, so none fails
    on a foreign key or reports an empty result for a mistyped id.
    """
    if not org_id.strip():
        raise CommandError(
            "--org is empty; pass an organization id, which `campfire orgs list` lists"
        )
    if not org_service.organization_exists(tx, org_id):
        raise CommandError(
            f"organization {shown_argument(org_id)} not found (--org); list them with "
            "`campfire orgs list`, or create one with `campfire orgs create`"
        )


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
        "string_too_short": lambda: f"must have at least {_characters(ctx.get('min_length'))}",
        "string_too_long": lambda: f"must have at most {_characters(ctx.get('max_length'))}",
        "string_pattern_mismatch": lambda: f"must match {ctx.get('pattern')}",
        "literal_error": lambda: f"must be {ctx.get('expected')}",
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


def _characters(count: object) -> str:
    return "1 character" if count == 1 else f"{count} characters"


def _option(model: str, field: str, args: argparse.Namespace) -> str:
    """Name the place a value came from: the command-line option or the environment variable."""
    if model == "Settings" and getattr(args, field, None) is not None:
        return OPTION_NAMES.get(field, "--" + field.replace("_", "-"))
    prefix = SETTINGS_PREFIXES.get(model)
    if prefix is not None:
        return f"{prefix}{field.upper()}"
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
        shown = f" {shown_argument(text)}"
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


def describe_database(
    error: BaseException,
    args: argparse.Namespace,
    *,
    url: str | None = None,
    option: str = "--database-url",
) -> str:
    """Describe a database error of a command in one line that names the database.

    ``url`` (without its password) and ``option`` name the database of a
    command that uses several, such as ``db copy``. Without them the
    database is the one of ``--database-url``, the environment or the default.
    """
    url = url or database_url_of(args)
    reason = _driver_message(error)
    if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
        return (
            f"the database {url} has no Campfire tables ({reason}); "
            f"run `campfire migrate` with the same {option} first"
        )
    if not _is_connection_error(error):
        return f"the database {url} rejected a statement: {reason}"
    hint = (
        "check that its directory exists and is writable"
        if url.startswith("sqlite")
        else "check the host, port, user, password and database name, and that the server runs"
    )
    return f"cannot use the database {url}: {reason}; {hint} ({option})"


# SQLSTATE classes of a connection that failed or was refused: connection
# exceptions (08), invalid authorization (28) and a missing database (3D).
CONNECTION_SQLSTATE_CLASSES = ("08", "28", "3D")


def _is_connection_error(error: BaseException) -> bool:
    """Tell whether ``error`` means the database could not be opened or reached.

    A statement that fails on a reachable database (a constraint, a lock
    timeout) is no reason to check the URL.
    """
    original = getattr(error, "orig", None) or error
    if isinstance(original, ServiceUnavailable):
        return True
    if isinstance(original, sqlite3.Error):
        return "unable to open" in str(original)
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is None:
        # psycopg gives errors raised while connecting no SQLSTATE.
        return type(original).__name__ == "OperationalError"
    return sqlstate[:2] in CONNECTION_SQLSTATE_CLASSES


def describe(error: BaseException, args: argparse.Namespace) -> tuple[str, int] | None:
    """Return the one-line message and exit code for ``error``, or None for a bug."""
    if isinstance(error, CommandError):
        return error.message, error.exit_code
    if isinstance(error, ValidationError):
        return describe_validation(error, args), USAGE
    if isinstance(error, SemanticUnavailable):
        return str(error), USAGE
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


# Command-line syntax -------------------------------------------------------------

# The messages that argparse passes to ``ArgumentParser.error``, as worded by
# Python 3.11. NOTE: a wording of another version that these miss still gives
# one line, through the fallback at the end of ``describe_usage``.
_REQUIRED = re.compile(r"^the following arguments are required: (?P<names>.+)$")
_INVALID_CHOICE = re.compile(
    r"^argument (?P<name>[^:]+): invalid choice: (?P<value>.*?) \(choose from (?P<choices>.*)\)$"
)
_INVALID_VALUE = re.compile(
    r"^argument (?P<name>[^:]+): invalid (?P<kind>\w+) value: (?P<value>.*)$"
)
_EXPECTED_VALUE = re.compile(r"^argument (?P<name>[^:]+): expected (?:one|at least one) argument")
_UNRECOGNIZED = re.compile(r"^unrecognized arguments: (?P<arguments>.*)$")
_OTHER = re.compile(r"^argument (?P<name>[^:]+): (?P<reason>.*)$")

_KINDS = {"int": "a whole number", "float": "a number"}

# The namespace attribute that names the innermost command parsed, for errors.
_COMMAND_KEY = "_command_prog"


def shown_argument(argument: str) -> str:
    """Return an argument for an error message, as a shell would take it back.

    It is quoted when it is empty, contains a space or contains a character
    that does not print, such as a control character. An argument of more
    than ``SHOWN_TEXT_LIMIT`` characters shows as its length, as in
    ``<100000 characters>``, the rule of ``details.value`` in API errors.
    """
    if len(argument) > SHOWN_TEXT_LIMIT:
        return f"<{len(argument)} characters>"
    if not argument or " " in argument or not argument.isprintable():
        return repr(argument)
    return argument


def _as_typed(text: str) -> str:
    """Return an argument as the user typed it, from argparse's quoted spelling."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = text
    return shown_argument(str(value))


def _choices(text: str) -> str:
    return ", ".join(_as_typed(part.strip()) for part in text.split(","))


def _find_action(parser: argparse.ArgumentParser, name: str) -> argparse.Action | None:
    """Return the argument that argparse calls ``name``: an option, metavar or destination."""
    for action in parser._actions:
        # argparse joins the option strings of one option with "/", as in "-h/--help".
        names = {*action.option_strings, "/".join(action.option_strings), action.dest}
        if name in names or name == action.metavar:
            return action
    return None


def _purpose(action: argparse.Action | None) -> str:
    """Return the first clause of an argument's help, without its notes in brackets."""
    if action is None or not action.help:
        return ""
    text = re.sub(r"\s*\([^()]*\)", "", action.help)
    return first_clause(text).strip()


def _display_name(action: argparse.Action | None, name: str) -> str:
    """Return an option's name, or a positional argument's metavar as the usage shows it."""
    if action is None or action.option_strings:
        return name
    if isinstance(action, argparse._SubParsersAction):
        return str(action.metavar or name)
    return str(action.metavar or action.dest.upper())


def _example(action: argparse.Action | None, name: str) -> str:
    """Return how to give the argument ``name``, as in ``--org ORG_ID (organization id)``."""
    if action is None:
        return name
    if isinstance(action, argparse._SubParsersAction):
        return f"one of {', '.join(action.choices)}"
    metavar = action.metavar or action.dest.upper()
    example = f"{name} {metavar}" if action.option_strings else str(metavar)
    purpose = _purpose(action)
    return f"{example} ({purpose})" if purpose else example


def describe_usage(parser: argparse.ArgumentParser, message: str) -> str:
    """Describe an argparse error in one line that names the argument, the value and the fix."""
    command = f"`{parser.prog}`"
    help_hint = f"run `{parser.prog} --help` for its arguments"

    if match := _REQUIRED.match(message):
        names = [name.strip() for name in match["names"].split(",")]
        actions = [_find_action(parser, name) for name in names]
        shown = [_display_name(action, name) for action, name in zip(actions, names, strict=True)]
        missing = " and ".join(shown)
        verb = "are" if len(names) > 1 else "is"
        examples = ", ".join(
            _example(action, name) for action, name in zip(actions, shown, strict=True)
        )
        return f"{missing} {verb} required by {command}; add {examples}"

    if match := _INVALID_CHOICE.match(message):
        value = _as_typed(match["value"])
        choices = _choices(match["choices"])
        action = _find_action(parser, match["name"])
        if isinstance(action, argparse._SubParsersAction):
            return f"{value} is not a command of {command}; use one of {choices}"
        return f"{match['name']} {value} is invalid: it must be one of {choices}"

    if match := _INVALID_VALUE.match(message):
        value = _as_typed(match["value"])
        kind = _KINDS.get(match["kind"], f"a {match['kind']} value")
        purpose = _purpose(_find_action(parser, match["name"]))
        described = f" ({purpose})" if purpose else ""
        return f"{match['name']} {value} is invalid: it must be {kind}{described}"

    if match := _EXPECTED_VALUE.match(message):
        name = match["name"]
        example = _example(_find_action(parser, name), name)
        return f"{name} needs a value; add it after the option, as in {example}"

    if match := _UNRECOGNIZED.match(message):
        return describe_unrecognized(match["arguments"].split(" "), parser.prog)

    if match := _OTHER.match(message):
        return f"{match['name']}: {match['reason']}; {help_hint}"
    return f"{message} ({command}); {help_hint}"


def describe_unrecognized(arguments: Sequence[str], prog: str) -> str:
    """Describe arguments that no parser of the command took."""
    shown = " ".join(shown_argument(argument) for argument in arguments)
    if len(arguments) == 1:
        return f"{shown}: unknown argument for `{prog}`; remove it, or run `{prog} --help`"
    return f"{shown}: unknown arguments for `{prog}`; remove them, or run `{prog} --help`"


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser whose errors raise ``CommandError`` with one line and exit code 2.

    argparse would print the usage and its own message. Subcommand parsers
    made by ``add_subparsers`` are of this class too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_defaults(**{_COMMAND_KEY: self.prog})

    def error(self, message: str) -> NoReturn:
        raise CommandError(describe_usage(self, message), USAGE)

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            raise CommandError(
                describe_unrecognized(extras, getattr(parsed, _COMMAND_KEY, self.prog)), USAGE
            )
        return parsed
