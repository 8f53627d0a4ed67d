"""Every error of the campfire command line is one line naming the value and the fix."""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from campfire_server.cli import _warn_about_workers, build_parser, main
from campfire_server.config import Settings
from tests.conftest import POSTGRES_URL, free_port
from tests.test_cli import kb_database

USAGE, RUNTIME = 2, 1


def campfire(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    # Settings of the test run itself must not leak into the command under test.
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("CAMPFIRE_")
    }
    return subprocess.run(
        [sys.executable, "-m", "campfire_server.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environment, **(env or {})},
    )


def assert_one_line(result: subprocess.CompletedProcess[str], exit_code: int, *parts: str) -> None:
    assert result.returncode == exit_code, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "pydantic" not in result.stderr
    for part in parts:
        assert part in result.stderr


@pytest.fixture
def migrated(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert campfire("migrate", "--database-url", url).returncode == 0
    return url


USAGE_ERRORS = [
    (
        ["migrate", "--database-url", "mysql://root:hunter2@127.0.0.1/x"],
        ["--database-url mysql://root:***@127.0.0.1/x", "sqlite:///", "postgresql://"],
    ),
    (["migrate", "--database-url", "campfire.db"], ["--database-url campfire.db", "sqlite:///"]),
    (["serve", "--port", "70000"], ["--port 70000", "at most 65535"]),
    (["serve", "--port", "0"], ["--port 0", "at least 1"]),
    (["serve", "--workers", "0"], ["--workers 0", "at least 1"]),
    (["serve", "--workers", "65"], ["--workers 65", "at most 64"]),
    (
        ["serve", "--early-error-discard-bytes", "-1"],
        ["--early-error-discard-bytes -1", "from 0 to 1073741824", "0 closes"],
    ),
    (
        ["serve", "--early-error-discard-seconds", "90"],
        ["--early-error-discard-seconds 90.0", "from 0 to 60"],
    ),
    (
        ["db", "copy", "--from", "mysql://a", "--to", "sqlite:///copy.db"],
        ["--from mysql://a", "sqlite:///"],
    ),
]


@pytest.mark.parametrize(("args", "parts"), USAGE_ERRORS)
def test_invalid_option_is_usage_error(args, parts) -> None:
    assert_one_line(campfire(*args), USAGE, *parts)


# argparse's own errors: (arguments, the whole message after "error: ").
SYNTAX_ERRORS = [
    (
        [],
        "COMMAND is required by `campfire`; add one of serve, worker, migrate, db, analytics, "
        "orgs, keys, mailboxes, agents, kb, eval",
    ),
    (["keys"], "ACTION is required by `campfire keys`; add one of create, list, revoke"),
    (["kb"], "COMMAND is required by `campfire kb`; add one of import, search"),
    (
        ["keys", "create"],
        "--org is required by `campfire keys create`; add --org ORG_ID (organization id)",
    ),
    (
        ["agents", "create", "--org", "org_1"],
        "--name and --email are required by `campfire agents create`; add --name NAME "
        "(display name), --email EMAIL (sign-in email address)",
    ),
    (
        ["keys", "revoke", "--org", "org_1"],
        "KEY_ID is required by `campfire keys revoke`; add KEY_ID (the key's id)",
    ),
    (
        ["bogus"],
        "bogus is not a command of `campfire`; use one of serve, worker, migrate, db, "
        "analytics, orgs, keys, mailboxes, agents, kb, eval",
    ),
    (
        ["keys", "rotate"],
        "rotate is not a command of `campfire keys`; use one of create, list, revoke",
    ),
    (
        ["keys", "create", "--org", "org_1", "--role", "boss"],
        "--role boss is invalid: it must be one of admin, agent, viewer",
    ),
    (
        ["serve", "--env", "prod"],
        "--env prod is invalid: it must be one of development, test, production",
    ),
    (
        ["kb", "search", "q", "--org", "org_1", "--retriever", "bm25"],
        "--retriever bm25 is invalid: it must be one of lexical, semantic, fused",
    ),
    (["serve", "--port", "abc"], "--port abc is invalid: it must be a whole number (TCP port)"),
    (["serve", "--port="], "--port '' is invalid: it must be a whole number (TCP port)"),
    (
        ["agents", "create", "--capacity", "2.5"],
        "--capacity 2.5 is invalid: it must be a whole number (open conversations the agent "
        "can hold)",
    ),
    (
        ["eval", "data", "--threshold", "high"],
        "--threshold high is invalid: it must be a number (handoff threshold on confidence, "
        "0 to 1)",
    ),
    (
        ["serve", "--port"],
        "--port needs a value; add it after the option, as in --port PORT (TCP port)",
    ),
    (
        ["serve", "--bogus", "1"],
        "--bogus 1: unknown arguments for `campfire serve`; remove them, or run "
        "`campfire serve --help`",
    ),
    (
        ["keys", "list", "--org", "org_1", "two words"],
        "'two words': unknown argument for `campfire keys list`; remove it, or run "
        "`campfire keys list --help`",
    ),
    (
        ["db", "copy"],
        "--from and --to are required by `campfire db copy`; add --from URL (database to "
        "read, e.g. sqlite:///campfire.db), --to URL (empty database to fill, e.g. "
        "postgresql://user@host:5432/campfire)",
    ),
]


@pytest.mark.parametrize(("args", "expected"), SYNTAX_ERRORS)
def test_syntax_error_is_one_line(args, expected, capsys) -> None:
    exit_code = main(args)

    captured = capsys.readouterr()
    assert exit_code == USAGE
    assert captured.out == ""
    assert captured.err == f"error: {expected}\n"


def _all_actions(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    found = []
    for action in parser._actions:
        found.append((parser.prog, action))
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.extend(_all_actions(child))
    return found


def test_option_purpose_not_cut_at_abbreviation() -> None:
    from campfire_server.cli_errors import _purpose
    from campfire_server.sentences import ABBREVIATIONS

    for prog, action in _all_actions(build_parser()):
        words = _purpose(action).split()

        assert not words or words[-1].lower() not in ABBREVIATIONS, (prog, action.dest, words)


@pytest.mark.parametrize(
    ("text", "clause"),
    [
        ("database to read, e.g. sqlite:///x.db", "database to read, e.g. sqlite:///x.db"),
        ("a port, i.e. a number. Later text", "a port, i.e. a number"),
        ("set by Dr. Who; more", "set by Dr. Who"),
        ("first. second", "first"),
    ],
)
def test_first_clause_skips_abbreviations(text, clause) -> None:
    from campfire_server.sentences import first_clause

    assert first_clause(text) == clause


@pytest.mark.parametrize(
    "args", [["keys", "create"], ["serve", "--port", "abc"], ["bogus"], ["serve", "-x"]]
)
def test_syntax_error_exits_2(args) -> None:
    result = campfire(*args)

    assert_one_line(result, USAGE)
    assert "usage:" not in result.stderr


def test_help_still_prints_usage() -> None:
    result = campfire("keys", "create", "--help")

    assert result.returncode == 0
    assert result.stdout.startswith("usage: campfire keys create")
    assert result.stderr == ""


def test_invalid_environment_value_names_variable() -> None:
    result = campfire("migrate", env={"CAMPFIRE_DATABASE_URL": "mysql://x"})
    assert_one_line(result, USAGE, "CAMPFIRE_DATABASE_URL mysql://x")


def test_invalid_discard_environment_names_variable() -> None:
    result = campfire("migrate", env={"CAMPFIRE_EARLY_ERROR_DISCARD_SECONDS": "-2"})
    assert_one_line(
        result, USAGE, "CAMPFIRE_EARLY_ERROR_DISCARD_SECONDS -2", "seconds from 0 to 60"
    )


def test_model_values_are_usage_errors(migrated) -> None:
    base = ["--org", "org_development", "--database-url", migrated]
    cases = [
        (
            ["mailboxes", "create", "--name", "n", "--handoff-threshold", "1.5", *base],
            ["--handoff-threshold 1.5", "at most 1"],
        ),
        (
            ["agents", "create", "--name", "n", "--email", "a@b.c", "--password", "short", *base],
            ["--password is invalid", "at least 8 characters"],
        ),
        (
            ["agents", "create", "--name", "n", "--email", "abc", "--password", "x" * 10, *base],
            ["--email abc", "email address"],
        ),
        (
            ["orgs", "create", "--name", "\u200b", "--database-url", migrated],
            ["--name '\\u200b' is invalid: it must be text with at least one visible character"],
        ),
        (
            ["agents", "create", "--name", "\u200b", "--email", "a@b.c", "--password", "x" * 10]
            + base,
            ["--name", "is invalid: it must be text with at least one visible character"],
        ),
    ]
    for args, parts in cases:
        result = campfire(*args)
        assert_one_line(result, USAGE, *parts)
    assert "short" not in campfire(*cases[1][0]).stderr


def test_unmigrated_database_says_migrate(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    result = campfire("orgs", "list", "--database-url", url)
    assert_one_line(result, RUNTIME, url, "campfire migrate")


def test_missing_sqlite_directory_is_runtime_error(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'missing' / 'x.db'}"
    result = campfire("migrate", "--database-url", url)
    assert_one_line(result, RUNTIME, url, "directory exists")


def test_unknown_postgres_database_hides_password(postgres_available) -> None:
    if not postgres_available:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    base, _, _ = POSTGRES_URL.rpartition("/")
    scheme, _, rest = base.partition("://")
    user, _, host = rest.rpartition("@")
    url = f"{scheme}://{user or 'postgres'}:hunter2@{host}/campfire_no_such_database"

    result = campfire("migrate", "--database-url", url)

    assert_one_line(result, RUNTIME, "campfire_no_such_database", "does not exist")
    assert "hunter2" not in result.stderr


def test_unreachable_postgres_is_runtime_error() -> None:
    port = free_port()
    result = campfire("orgs", "list", "--database-url", f"postgresql://postgres@127.0.0.1:{port}/x")
    assert_one_line(result, RUNTIME, f"127.0.0.1:{port}/x", "--database-url")


def test_taken_port_is_one_line(migrated) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = campfire(
            "serve", "--env", "development", "--port", str(port), "--database-url", migrated
        )

    assert_one_line(result, RUNTIME, f"127.0.0.1:{port}", "--port")
    assert "starting" not in result.stderr


def test_workers_help_names_redis() -> None:
    result = campfire("serve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--workers N" in text
    assert "CAMPFIRE_REDIS_URL" in text
    assert "N times the limits" in text


def test_workers_warning_only_without_redis(caplog) -> None:
    caplog.set_level(logging.WARNING, logger="campfire_server.cli")

    _warn_about_workers(Settings(workers=1))
    _warn_about_workers(Settings(workers=4, redis_url="redis://127.0.0.1:6379/0"))
    assert not caplog.records

    _warn_about_workers(Settings(workers=4))
    assert len(caplog.records) == 1
    assert "CAMPFIRE_REDIS_URL" in caplog.records[0].getMessage()
    assert caplog.records[0].workers == 4


def start_two_workers(migrated: str, port: int, log_path, log_format: str) -> subprocess.Popen:
    """Start `campfire serve --workers 2` without Redis, logging to ``log_path``."""
    with open(log_path, "wb") as log_file:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "campfire_server.cli",
                "serve",
                "--env",
                "development",
                "--port",
                str(port),
                "--workers",
                "2",
                "--database-url",
                migrated,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            env={**os.environ, "CAMPFIRE_REDIS_URL": "", "CAMPFIRE_LOG_FORMAT": log_format},
        )


def test_serve_logs_workers_warning(migrated, tmp_path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    process = start_two_workers(migrated, port, log_path, "text")
    try:
        deadline = time.monotonic() + 60
        while "CAMPFIRE_REDIS_URL" not in log_path.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(30)
    text = log_path.read_text()
    assert "WARNING" in text
    assert "several worker processes without CAMPFIRE_REDIS_URL" in text


def test_workers_log_requests_as_json(migrated, tmp_path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    process = start_two_workers(migrated, port, log_path, "json")
    try:
        request_id = "workers-log-check"
        deadline = time.monotonic() + 60
        while request_id not in log_path.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()
            try:
                httpx.get(
                    f"http://127.0.0.1:{port}/api/v2/conversations",
                    headers={"X-Request-ID": request_id},
                    timeout=2,
                )
            except httpx.TransportError:
                pass
            time.sleep(0.3)
    finally:
        process.terminate()
        process.wait(30)

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    request_lines = [line for line in lines if line.get("request_id") == request_id]
    assert request_lines, log_path.read_text()
    assert request_lines[0]["status"] == 401
    assert request_lines[0]["route"] == "/api/v2/conversations"
    assert any(line.get("message") == "server started" for line in lines)


# One valid call of each command that takes --org, apart from its organization.
ORG_COMMANDS = {
    ("keys", "create"): [],
    ("keys", "list"): [],
    ("keys", "revoke"): ["key_missing"],
    ("mailboxes", "create"): ["--name", "Support"],
    ("mailboxes", "list"): [],
    ("agents", "create"): ["--name", "R", "--email", "r@example.com", "--password", "x" * 10],
    ("agents", "set-password"): ["agent_missing", "--password", "x" * 10],
    ("kb", "import"): ["ARTICLES"],
    ("kb", "search"): ["refunds"],
}


def _commands_with_org_option() -> set[tuple[str, ...]]:
    """Return every command path of the parser that takes ``--org``."""
    found = set()

    def walk(parser: argparse.ArgumentParser, path: tuple[str, ...]) -> None:
        for action in parser._actions:
            if "--org" in action.option_strings:
                found.add(path)
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk(child, (*path, name))

    walk(build_parser(), ())
    return found


def test_org_table_covers_every_command() -> None:
    assert set(ORG_COMMANDS) == _commands_with_org_option()


@pytest.mark.parametrize("command", list(ORG_COMMANDS), ids=" ".join)
def test_unknown_org_is_named(migrated, tmp_path, command) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "refunds.md").write_text("# Refunds\n\nRefunds take five days.\n")
    arguments = [str(articles) if value == "ARTICLES" else value for value in ORG_COMMANDS[command]]
    result = campfire(*command, *arguments, "--org", "org_nope", "--database-url", migrated)

    assert_one_line(
        result,
        1,
        "organization org_nope not found (--org)",
        "list them with `campfire orgs list`",
        "`campfire orgs create`",
    )
    assert result.stdout == ""
    path = migrated.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        for table in ("organizations", "kb_articles", "api_keys", "mailboxes", "agents"):
            count = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            assert count == 0, table


def test_kb_import_names_non_utf8_file(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "latin1.md").write_bytes("# Caf\xe9\n\nOpen daily.\n".encode("latin-1"))

    url = kb_database(tmp_path)

    result = campfire("kb", "import", str(folder), "--org", "org_acme", "--database-url", url)

    assert result.returncode == USAGE, result.stderr
    skipped, error = result.stderr.splitlines()
    assert skipped.startswith("skipped file 'latin1.md' of ")
    assert "not UTF-8 text: byte 0xe9" in skipped
    assert "save the file" in skipped
    assert error.startswith("error: nothing imported: all 1 files of ")
    assert "codec" not in result.stderr
    assert result.stdout == ""


def test_kb_import_names_non_utf8_line(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_bytes(b'{"title": "a", "content": "b"}\n{"title": "\xff", "content": "c"}\n')

    url = kb_database(tmp_path)

    result = campfire("kb", "import", str(rows), "--org", "org_acme", "--database-url", url)

    assert_one_line(result, USAGE, str(rows), "line 2", "0xff", "UTF-8")


@pytest.mark.parametrize("relative", [False, True])
def test_kb_import_missing_path_named_whole(tmp_path, relative):
    missing = tmp_path / "nowhere" / "articles"
    argument = os.path.relpath(missing) if relative else str(missing)

    result = campfire("kb", "import", argument, "--org", "org_1")

    assert_one_line(result, USAGE, repr(argument), "no such file or folder")
    if relative:
        assert repr(os.getcwd()) in result.stderr


@pytest.mark.parametrize("query", ["", "   "])
def test_kb_search_empty_query_is_usage(query):
    result = campfire("kb", "search", query, "--org", "org_1")

    assert_one_line(result, USAGE, "is empty", "campfire kb search")
    assert result.stdout == ""


def test_kb_search_limit_below_one_is_usage():
    result = campfire("kb", "search", "refunds", "--org", "org_1", "--limit", "0")

    assert_one_line(result, USAGE, "--limit 0", "below 1")


def test_statement_error_has_no_connection_hint(postgres_available) -> None:
    if not postgres_available:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}")
    import psycopg

    from campfire_server.cli_errors import describe_database

    with psycopg.connect(POSTGRES_URL) as connection:
        connection.execute("CREATE TEMPORARY TABLE taken (id integer PRIMARY KEY)")
        connection.execute("INSERT INTO taken VALUES (1)")
        with pytest.raises(psycopg.errors.UniqueViolation) as raised:
            connection.execute("INSERT INTO taken VALUES (1)")
    args = build_parser().parse_args(["migrate", "--database-url", POSTGRES_URL])

    message = describe_database(raised.value, args)

    assert "duplicate key" in message
    assert "check the host" not in message
    assert "--database-url" not in message


def test_db_copy_error_names_target(migrated, tmp_path) -> None:
    target = f"sqlite:///{tmp_path / 'target.db'}"
    assert campfire("migrate", "--database-url", target).returncode == 0
    with sqlite3.connect(tmp_path / "target.db") as connection:
        connection.execute(
            "CREATE TRIGGER reject_orgs BEFORE INSERT ON organizations "
            "BEGIN SELECT RAISE(ABORT, 'organizations are read-only'); END"
        )
    created = campfire("orgs", "create", "--name", "Copy", "--database-url", migrated)
    assert created.returncode == 0, created.stderr

    result = campfire("db", "copy", "--from", migrated, "--to", target)

    assert_one_line(
        result,
        RUNTIME,
        f"the database {target} rejected a statement",
        "organizations are read-only",
    )
    assert "campfire.db" not in result.stderr


def test_db_copy_error_hides_target_password(migrated) -> None:
    # Nothing listens on a free port, so the connection is refused.
    port = free_port()
    target = f"postgresql://campfire:hunter2@127.0.0.1:{port}/campfire"

    result = campfire("db", "copy", "--from", migrated, "--to", target)

    assert_one_line(
        result, RUNTIME, f"postgresql://campfire:***@127.0.0.1:{port}/campfire", "(--to)"
    )
    assert "hunter2" not in result.stderr
    assert "campfire.db" not in result.stderr


@pytest.mark.parametrize(
    ("org_id", "words"),
    [("", "--org is empty"), ("   ", "--org is empty"), (" org_nope", "' org_nope'")],
)
def test_blank_or_padded_org_is_named(migrated, org_id, words) -> None:
    result = campfire("mailboxes", "list", "--org", org_id, "--database-url", migrated)

    assert_one_line(result, 1, words, "`campfire orgs list`")
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("command", "extra"),
    [(["orgs", "create"], []), (["mailboxes", "create"], ["--org", "org_development"])],
    ids=["orgs", "mailboxes"],
)
def test_long_name_shown_as_length(migrated, command, extra) -> None:
    result = campfire(*command, "--name", "x" * 100_000, *extra, "--database-url", migrated)

    assert_one_line(result, USAGE, "--name <100000 characters> is invalid", "at most 200")
    assert len(result.stderr) < 300


def test_long_org_shown_as_length(migrated) -> None:
    result = campfire("mailboxes", "list", "--org", "o" * 100_000, "--database-url", migrated)

    assert_one_line(result, RUNTIME, "organization <100000 characters> not found (--org)")
    assert len(result.stderr) < 300


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Sup\x07port", "'Sup\\x07port'"),
        ("Sup\tport", "'Sup\\tport'"),
        ("\u200bAcme", "'\\u200bAcme'"),
    ],
    ids=["bell", "tab", "leading zero-width space"],
)
def test_org_name_with_control_character_rejected(migrated, name, shown) -> None:
    result = campfire("orgs", "create", "--name", name, "--database-url", migrated)

    assert_one_line(result, USAGE, f"--name {shown} is invalid", "without control characters")
    assert "\x07" not in result.stderr
    path = migrated.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM organizations").fetchone()[0] == 0


def test_org_name_stored_trimmed(migrated) -> None:
    result = campfire("orgs", "create", "--name", "  Acme  ", "--database-url", migrated)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["name"] == "Acme"
    path = migrated.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT name FROM organizations").fetchall() == [("Acme",)]


@pytest.mark.parametrize(
    "org_id",
    ["o" * 65, "org one", "org/one", "org_\u00e9", " org_one"],
    ids=["too long", "space", "slash", "non-ASCII", "leading space"],
)
def test_org_id_outside_the_id_pattern_rejected(migrated, org_id) -> None:
    result = campfire(
        "orgs", "create", "--name", "Acme", "--id", org_id, "--database-url", migrated
    )

    assert_one_line(result, USAGE, "--id", "is invalid")
    path = migrated.removeprefix("sqlite:///")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT COUNT(*) FROM organizations").fetchone()[0] == 0


def test_org_id_of_the_pattern_kept(migrated) -> None:
    result = campfire(
        "orgs", "create", "--name", "Acme", "--id", "org_acme-1", "--database-url", migrated
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["id"] == "org_acme-1"
