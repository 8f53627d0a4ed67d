"""The campfire command line against a real SQLite file."""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import subprocess
import sys
import threading

import httpx
import pytest

from campfire_server.cli import build_parser, startup_banner
from campfire_server.db import migrate
from tests.conftest import (
    NO_DNS,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    start_server,
)


def campfire(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "campfire_server.cli", *args, "--database-url", database_url],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_admin_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert campfire("migrate", database_url=url).returncode == 0

    created = campfire("orgs", "create", "--name", "Acme", "--id", "org_acme", database_url=url)
    assert created.returncode == 0, created.stderr
    org = json.loads(created.stdout)
    assert org["id"] == "org_acme"
    assert org["apiKey"].startswith("sk_live_")
    assert "shown only once" in created.stderr

    key = json.loads(
        campfire("keys", "create", "--org", "org_acme", "--role", "viewer", database_url=url).stdout
    )
    assert key["role"] == "viewer"
    listed = json.loads(campfire("keys", "list", "--org", "org_acme", database_url=url).stdout)
    assert {row["id"] for row in listed} >= {key["id"]}
    assert key["key"] not in json.dumps(listed)

    revoked = campfire("keys", "revoke", "--org", "org_acme", key["id"], database_url=url)
    assert revoked.returncode == 0
    listed = json.loads(campfire("keys", "list", "--org", "org_acme", database_url=url).stdout)
    assert next(row for row in listed if row["id"] == key["id"])["revokedAt"] is not None

    mailbox = campfire(
        "mailboxes",
        "create",
        "--org",
        "org_acme",
        "--name",
        "Support",
        "--id",
        "support",
        "--auto-reply",
        database_url=url,
    )
    assert mailbox.returncode == 0, mailbox.stderr
    mailboxes = json.loads(
        campfire("mailboxes", "list", "--org", "org_acme", database_url=url).stdout
    )
    assert [item["id"] for item in mailboxes] == ["support"]
    assert mailboxes[0]["settings"]["autoReply"] is True

    missing = campfire("keys", "create", "--org", "org_none", database_url=url)
    assert missing.returncode == 1
    assert "org_none" in missing.stderr

    scoped = campfire(
        "keys", "create", "--org", "org_acme", "--mailbox", "support", database_url=url
    )
    assert scoped.returncode == 0, scoped.stderr
    unknown = campfire(
        "keys", "create", "--org", "org_acme", "--mailbox", "mbx_nowhere", database_url=url
    )
    assert unknown.returncode == 1
    assert "mbx_nowhere" in unknown.stderr
    listed = json.loads(campfire("keys", "list", "--org", "org_acme", database_url=url).stdout)
    assert "mbx_nowhere" not in json.dumps(listed)


def test_every_command_has_help():
    for command in (
        ["serve"],
        ["migrate"],
        ["orgs", "create"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
        ["mailboxes", "create"],
        ["mailboxes", "list"],
    ):
        result = subprocess.run(
            [sys.executable, "-m", "campfire_server.cli", *command, "--help"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0
        assert "--database-url" in result.stdout or command == ["keys", "revoke"]


def test_serve_refuses_stale_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'stale.db'}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "campfire_server.cli",
            "serve",
            "--env",
            "production",
            "--database-url",
            url,
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "CAMPFIRE_JWT_SECRET": "a-long-random-value-for-this-test-only",
            "PATH": "/usr/bin:/bin",
        },
    )
    assert result.returncode == 2
    assert "campfire migrate" in result.stderr
    assert not (tmp_path / "stale.db").exists()


def test_commands_before_migrate_create_nothing(tmp_path):
    path = tmp_path / "never-migrated.db"
    url = f"sqlite:///{path}"
    article = tmp_path / "article.md"
    article.write_text("# Refunds\n\nRefunds take five days.\n", encoding="utf-8")
    commands = [
        ("orgs", "create", "--name", "Acme"),
        ("orgs", "list"),
        ("keys", "list", "--org", "org_acme"),
        ("analytics", "rebuild"),
        ("kb", "import", str(article), "--org", "org_acme"),
        ("kb", "search", "refunds", "--org", "org_acme"),
    ]
    for command in commands:
        result = campfire(*command, database_url=url)

        assert result.returncode != 0, command
        assert "run `campfire migrate`" in result.stderr, (command, result.stderr)
        assert "Traceback" not in result.stderr, command
        assert result.stdout == "", command
        assert not path.exists(), command


def test_db_copy_moves_every_row(tmp_path, postgres_available):
    import httpx  # noqa: F401

    from tests.conftest import create_postgres_database, drop_postgres_database

    if not postgres_available:
        import pytest

        pytest.skip("PostgreSQL is not reachable")
    source = f"sqlite:///{tmp_path / 'source.db'}"
    campfire("migrate", database_url=source)
    org = json.loads(
        campfire("orgs", "create", "--name", "Copy", "--id", "org_copy", database_url=source).stdout
    )
    campfire("mailboxes", "create", "--org", "org_copy", "--name", "Support", database_url=source)

    import asyncio

    from campfire_server import clock
    from campfire_server.analytics import wait_bins
    from campfire_server.auth.principal import Principal
    from campfire_server.conversations import actions
    from campfire_server.conversations.schemas import ConversationCreate, MessageCreate
    from campfire_server.db.database import open_database

    principal = Principal(org_id="org_copy", role="admin", kind="secret", subject="test")

    async def seed() -> None:
        db = open_database(source)
        conversation = await db.write(
            lambda tx: actions.create_conversation(
                tx, principal, ConversationCreate(customer_id="c")
            )
        )
        for n in range(3):
            await db.write(
                lambda tx: actions.send_message(
                    tx,
                    principal,
                    conversation.id,
                    MessageCreate(content=f"m{n} 👋"),  # noqa: B023
                )
            )
        # The AI replies 2.5 s after the last customer message, so the copy holds one wait.
        previous = clock.set_clock(clock.FrozenClock(clock.now_ms() + 2_500))
        try:
            await db.write(
                lambda tx: actions.send_message(
                    tx,
                    principal,
                    conversation.id,
                    MessageCreate(content="answer", author_type="ai"),
                )
            )
        finally:
            clock.set_clock(previous)
        await db.close()

    asyncio.run(seed())
    target = create_postgres_database()
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "campfire_server.cli",
                "db",
                "copy",
                "--from",
                source,
                "--to",
                target,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert "messages: 4 rows" in result.stdout
        # Reading the schema prints no warning, such as SQLAlchemy's about an expression index.
        assert "Warning" not in result.stderr, result.stderr

        async def check() -> None:
            db = open_database(target)
            contents = await db.read(
                lambda tx: [
                    row["content"]
                    for row in tx.all("SELECT content FROM messages ORDER BY created_at, id")
                ]
            )
            # Messages written within one millisecond tie on created_at.
            assert sorted(contents) == ["answer", "m0 👋", "m1 👋", "m2 👋"]
            keys = await db.read(lambda tx: tx.value("SELECT COUNT(*) AS n FROM api_keys"))
            assert keys == 1
            # The analytics facts arrive with the rows, copied or derived again.
            wait_start = await db.read(
                lambda tx: tx.value("SELECT reply_wait_from AS t FROM analytics_facts")
            )
            assert wait_start is None
            wait = await db.read(
                lambda tx: tx.one("SELECT ms, bin FROM analytics_waits WHERE series = 0")
            )
            assert wait["ms"] >= 2_500
            assert wait["bin"] == wait_bins.wait_bin(wait["ms"])
            counted = await db.read(
                lambda tx: tx.one(
                    "SELECT bin, n_reply, n_first, n_ai, n_human FROM analytics_wait_bins"
                )
            )
            assert counted == {
                "bin": wait["bin"],
                "n_reply": 1,
                "n_first": 1,
                "n_ai": 1,
                "n_human": 0,
            }
            first_message = await db.read(
                lambda tx: tx.value("SELECT MIN(created_at) AS t FROM messages")
            )
            answer_at = await db.read(lambda tx: tx.value("SELECT ai_at AS t FROM analytics_facts"))
            assert wait["ms"] == answer_at - first_message
            # New events get positions after the copied ones.
            conversation_id = await db.read(lambda tx: tx.value("SELECT id FROM conversations"))
            await db.write(
                lambda tx: actions.send_message(
                    tx, principal, conversation_id, MessageCreate(content="new")
                )
            )
            positions = await db.read(
                lambda tx: [
                    row["position"]
                    for row in tx.all("SELECT position FROM events ORDER BY position")
                ]
            )
            assert positions == sorted(set(positions))
            assert len(positions) == 6
            await db.close()

        asyncio.run(check())
        assert org["apiKey"].startswith("sk_live_")

        again = subprocess.run(
            [
                sys.executable,
                "-m",
                "campfire_server.cli",
                "db",
                "copy",
                "--from",
                source,
                "--to",
                target,
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 1
        assert "already has" in again.stderr
    finally:
        drop_postgres_database(target)


def test_agents_create_and_set_password(tmp_path):
    from campfire_server.auth.passwords import verify_password
    from campfire_server.db.database import open_database

    url = acme_database(f"sqlite:///{tmp_path / 'agents.db'}")

    created = campfire(
        "agents",
        "create",
        "--org",
        "org_acme",
        "--name",
        "Robin",
        "--email",
        "robin@acme.test",
        "--password",
        "first passphrase",
        "--id",
        "agent_robin",
        "--skill",
        "Billing",
        database_url=url,
    )
    assert created.returncode == 0, created.stderr
    agent = json.loads(created.stdout)
    assert agent["id"] == "agent_robin"
    assert agent["hasPassword"] is True
    assert agent["skills"] == ["billing"]
    assert "first passphrase" not in created.stdout

    short = campfire(
        "agents",
        "create",
        "--org",
        "org_acme",
        "--name",
        "Sam",
        "--email",
        "sam@acme.test",
        "--password",
        "short",
        database_url=url,
    )
    assert short.returncode == 2

    changed = campfire(
        "agents",
        "set-password",
        "--org",
        "org_acme",
        "agent_robin",
        "--password",
        "second passphrase",
        database_url=url,
    )
    assert changed.returncode == 0, changed.stderr

    database = open_database(url, pool_size=1)
    try:
        stored = database.read_sync(
            lambda tx: tx.value("SELECT password_hash FROM agents WHERE id = 'agent_robin'")
        )
    finally:
        import asyncio

        asyncio.run(database.close())
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "second passphrase")[0] is True
    assert verify_password(stored, "first passphrase")[0] is False


def test_banner_names_bound_address(tmp_path):
    server = start_server(f"sqlite:///{tmp_path / 'banner.db'}", tmp_path)
    try:
        log = server.log_path.read_text()
        api_lines = [line for line in log.splitlines() if line.startswith("  API:")]

        assert f"Campfire is listening on 127.0.0.1 port {server.port}" in log
        assert len(api_lines) == 1
        assert api_lines[0].split()[1] == f"http://127.0.0.1:{server.port}/api/v2"
        assert f"(or http://localhost:{server.port}/api/v2)" in api_lines[0]
        for base in (f"http://127.0.0.1:{server.port}", f"http://localhost:{server.port}"):
            assert httpx.get(f"{base}/api/v2/openapi.json", timeout=10).status_code == 200
    finally:
        server.stop()


def test_banner_for_every_interface():
    lines = startup_banner("0.0.0.0", 3000)

    assert lines[0] == (
        "Campfire is listening on 0.0.0.0 port 3000 (every interface of this machine)"
    )
    assert (
        lines[1] == "  API:        http://127.0.0.1:3000/api/v2 (or http://localhost:3000/api/v2)"
    )


def test_banner_for_ipv6_address():
    lines = startup_banner("::1", 8080)

    assert lines[0] == "Campfire is listening on ::1 port 8080"
    assert lines[1] == "  API:        http://[::1]:8080/api/v2"
    assert lines[4] == "  Demo page:  http://[::1]:8080/"


def migrate_concurrently(database_url: str, runs: int) -> list[subprocess.CompletedProcess[str]]:
    """Start ``runs`` ``campfire migrate`` processes at once and wait for each."""
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "campfire_server.cli",
                "migrate",
                "--database-url",
                database_url,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(runs)
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        results.append(
            subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
        )
    return results


def test_concurrent_migrate_on_postgres(postgres_available):
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = create_postgres_database()
    try:
        results = migrate_concurrently(url, 3)
        heads = migrate.current_heads(url)
    finally:
        drop_postgres_database(url)

    for result in results:
        assert result.returncode == 0, result.stderr
        assert "duplicate key" not in result.stderr
    assert heads == migrate.expected_heads()


def test_concurrent_migrate_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'campfire.db'}"

    results = migrate_concurrently(url, 3)

    for result in results:
        assert result.returncode == 0, result.stderr
    assert migrate.current_heads(url) == migrate.expected_heads()


def acme_database(url: str) -> str:
    """Migrate the database at ``url``, add the organization org_acme and return ``url``."""
    assert campfire("migrate", database_url=url).returncode == 0
    created = campfire("orgs", "create", "--name", "Acme", "--id", "org_acme", database_url=url)
    assert created.returncode == 0, created.stderr
    return url


def kb_database(tmp_path) -> str:
    """Return the URL of a migrated SQLite database with the organization org_acme."""
    return acme_database(f"sqlite:///{tmp_path / 'kb.db'}")


def test_kb_import_skips_invalid_rows(tmp_path):
    url = kb_database(tmp_path)
    rows = tmp_path / "articles.jsonl"
    lines = [
        {"id": "a1", "title": "Refunds", "text": "Refunds take five days."},
        {"id": "a2", "title": None, "text": "\n\n  Time series library \n\nA time series is data."},
        {"id": "a3", "title": "", "text": "Exports run nightly. They take an hour."},
        {"id": "a4", "title": "Empty", "text": ""},
    ]
    rows.write_text(
        "\n".join(json.dumps(line) for line in lines) + "\n{not json\n", encoding="utf-8"
    )

    first = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)

    assert first.returncode == 0, first.stderr
    output = json.loads(first.stdout)
    assert output["created"] == 3
    assert [row["line"] for row in output["skipped"]] == [4, 5]
    assert "skipped line 4" in first.stderr
    assert "content" in output["skipped"][0]["reason"]
    assert "not valid JSON" in output["skipped"][1]["reason"]
    assert "imported 3 rows" in first.stderr
    search = campfire("kb", "search", "time series", "--org", "org_acme", database_url=url)
    assert "Time series library" in search.stdout
    search = campfire("kb", "search", "exports nightly", "--org", "org_acme", database_url=url)
    assert "Exports run nightly." in search.stdout

    again = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["created"] == 0
    assert json.loads(again.stdout)["unchanged"] == 3


def test_kb_import_without_valid_rows_fails(tmp_path):
    url = kb_database(tmp_path)
    rows = tmp_path / "articles.jsonl"
    rows.write_text(json.dumps({"id": "a1", "title": "T", "text": ""}) + "\n", encoding="utf-8")

    result = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)

    assert result.returncode == 2
    assert "skipped line 1" in result.stderr
    assert "nothing imported" in result.stderr
    assert result.stdout == ""


def test_kb_import_names_file_lines(tmp_path):
    url = kb_database(tmp_path)
    rows = tmp_path / "articles.jsonl"
    lines = [
        {"content": "Same first sentence. A"},
        {"content": "Same first sentence. B"},
        {"title": "Same first sentence.", "content": "Repeated title."},
    ]
    rows.write_text(
        "{not json\n" + "".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8"
    )

    result = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["created"] == 2
    assert [row["line"] for row in output["skipped"]] == [1, 4]
    assert "of line 2" in output["skipped"][1]["reason"]

    rows.write_text(
        "{not json\n"
        + json.dumps({"title": "A", "content": "A.", "mailboxIds": ["mbx_missing"]})
        + "\n",
        encoding="utf-8",
    )
    failed = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)

    assert failed.returncode == 2
    assert "skipped line 2 of" in failed.stderr
    assert "mailbox 'mbx_missing' in mailboxIds was not found" in failed.stderr
    assert "articles[0]" not in failed.stderr


def test_kb_import_skips_invalid_files(tmp_path):
    url = kb_database(tmp_path)
    folder = tmp_path / "articles"
    (folder / "sub").mkdir(parents=True)
    (folder / "refunds.md").write_text("# Refunds\n\nRefunds take five days.\n")
    (folder / "empty.md").write_text("")
    (folder / "bom.txt").write_bytes(b"\xef\xbb\xbf")
    (folder / "blank.html").write_text("")
    (folder / "sub" / "latin1.md").write_bytes("# Caf\xe9\n\nOpen daily.\n".encode("latin-1"))

    result = campfire("kb", "import", str(folder), "--org", "org_acme", database_url=url)

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["created"] == 1
    files = [row["file"] for row in output["skipped"]]
    assert files == ["blank.html", "bom.txt", "empty.md", "sub/latin1.md"]
    reasons = [row["reason"] for row in output["skipped"]]
    assert reasons[0].startswith("content is empty")
    assert reasons[1].startswith("content is empty")
    assert reasons[2].startswith("content is empty")
    assert reasons[3].startswith("not UTF-8 text: byte 0xe9")
    assert "too short" not in result.stderr
    assert "skipped file 'sub/latin1.md' of " in result.stderr
    assert "imported 1 files" in result.stderr
    search = campfire("kb", "search", "refunds", "--org", "org_acme", database_url=url)
    assert "Refunds" in search.stdout


def test_kb_import_without_valid_files_fails(tmp_path):
    url = kb_database(tmp_path)
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "empty.md").write_text("")

    result = campfire("kb", "import", str(folder), "--org", "org_acme", database_url=url)

    assert result.returncode == 2
    assert "skipped file 'empty.md'" in result.stderr
    assert "nothing imported: all 1 files" in result.stderr
    assert result.stdout == ""


def test_kb_import_checks_arguments_first(tmp_path):
    url = kb_database(tmp_path)
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "empty.md").write_text("")
    (folder / "refunds.md").write_text("# Refunds\n\nRefunds take five days.\n")
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"title": "No content"}\n')

    for path in (folder, rows):
        result = campfire("kb", "import", str(path), "--org", "org_nope", database_url=url)

        assert result.returncode != 0, path
        assert result.stderr.startswith("error: organization org_nope not found"), result.stderr
        assert "skipped" not in result.stderr, result.stderr
        assert result.stdout == "", path

    missing = tmp_path / "missing"
    result = campfire("kb", "import", str(missing), "--org", "org_nope", database_url=url)

    assert result.returncode != 0
    assert "no such file or folder" in result.stderr
    assert "org_nope" not in result.stderr
    listed = campfire("kb", "search", "refunds", "--org", "org_acme", database_url=url)
    assert listed.stdout == "no article matches the query\n"


def test_migrate_reports_one_outcome(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"

    first = campfire("migrate", database_url=url)
    second = campfire("migrate", database_url=url)

    assert first.returncode == 0, first.stderr
    assert first.stdout == "database migrated to the current schema\n"
    assert first.stderr == ""
    assert second.returncode == 0, second.stderr
    assert second.stdout == "database is already up to date; no migration to apply\n"
    assert second.stderr == ""


def _subcommand_options() -> list[tuple[str, argparse.Action]]:
    """Return every option of every ``campfire`` subcommand with the command's name."""
    options = []
    pending = [("campfire", build_parser())]
    while pending:
        name, parser = pending.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub_name, sub_parser in action.choices.items():
                    pending.append((f"{name} {sub_name}", sub_parser))
            elif action.option_strings and action.dest != "help":
                options.append((name, action))
    return options


def test_help_states_repeats_and_defaults():
    options = _subcommand_options()
    assert len(options) > 30

    for command, action in options:
        label = f"{command} {action.option_strings[0]}"
        text = action.help or ""
        if isinstance(action, argparse._AppendAction):
            assert "repeat" in text, label
        if action.default not in (None, False, [], argparse.SUPPRESS):
            assert "default" in text, label
        if action.dest == "env":
            for value in action.choices:
                assert value in text, (label, value)
            assert "default production" in text, label


def test_keys_create_help_explains_test_keys():
    [test_option] = [
        action
        for command, action in _subcommand_options()
        if command == "campfire keys create" and action.dest == "test"
    ]

    assert "same access" in test_option.help
    assert "prefix" in test_option.help


def test_kb_import_skips_symbolic_links(tmp_path):
    url = kb_database(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.txt"
    secret.write_text("Private notes\nThe vault code is 4321.\n")
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "refunds.md").write_text("# Refunds\n\nRefunds take five days.\n")
    (folder / "link.txt").symlink_to(secret)
    (folder / "linked").symlink_to(outside, target_is_directory=True)

    result = campfire("kb", "import", str(folder), "--org", "org_acme", database_url=url)

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["created"] == 1
    assert [row["file"] for row in output["skipped"]] == ["link.txt", "linked"]
    for row in output["skipped"]:
        assert "symbolic link" in row["reason"]
    assert "skipped file 'link.txt' of " in result.stderr
    assert "skipped file 'linked' of " in result.stderr
    search = campfire("kb", "search", "vault code", "--org", "org_acme", database_url=url)
    assert "Private notes" not in search.stdout


def test_kb_import_rejects_unknown_fields(tmp_path):
    url = kb_database(tmp_path)
    rows = tmp_path / "articles.jsonl"
    rows.write_text(
        json.dumps({"externalID": "kb-1", "title": "Refunds", "content": "Five days."}) + "\n"
    )

    result = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)

    assert result.returncode == 2, result.stderr
    assert "skipped line 1 of " in result.stderr
    assert "'externalID' (did you mean externalId?)" in result.stderr
    assert "nothing imported: all 1 rows" in result.stderr
    assert "fix the rows listed above" in result.stderr


def test_kb_import_ignores_extra_fields(tmp_path):
    url = kb_database(tmp_path)
    rows = tmp_path / "articles.jsonl"
    lines = [
        {"id": "d1-0", "doc_id": "d1", "domain": "cloud", "title": None, "text": "Time series."},
        {"id": "d2-0", "doc_id": "d2", "domain": "cloud", "title": "Exports", "text": "Nightly."},
        {"id": "d3-0", "doc_id": "d3", "title": "Typo", "contnet": "Never imported."},
    ]
    rows.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")

    result = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["created"] == 2
    assert output["ignoredFields"] == ["doc_id", "domain"]
    assert [row["line"] for row in output["skipped"]] == [3]
    assert "'contnet' (did you mean content?)" in output["skipped"][0]["reason"]
    assert result.stderr.count("ignored fields") == 1
    assert "'doc_id' (in 2 rows), 'domain' (in 2 rows)" in result.stderr


def test_kb_import_skips_nul_on_postgres(tmp_path, postgres_available):
    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    url = create_postgres_database()
    try:
        acme_database(url)
        rows = tmp_path / "articles.jsonl"
        rows.write_text(
            '{"title":"H","content":"h\\u0000x"}\n{"title":"ok","content":"fine"}\n',
            encoding="utf-8",
        )

        result = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)

        assert result.returncode == 0, result.stderr
        output = json.loads(result.stdout)
        assert output["created"] == 1
        assert [row["line"] for row in output["skipped"]] == [1]
        assert "NUL" in output["skipped"][0]["reason"]
        assert "skipped line 1" in result.stderr
    finally:
        drop_postgres_database(url)


def test_db_copy_names_rows_with_nul(tmp_path, postgres_available):
    import sqlite3

    if not postgres_available:
        pytest.skip("PostgreSQL is not reachable")
    source = acme_database(f"sqlite:///{tmp_path / 'source.db'}")
    rows = tmp_path / "articles.jsonl"
    rows.write_text('{"title":"ok","content":"fine","externalId":"k1"}\n', encoding="utf-8")
    imported = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=source)
    assert imported.returncode == 0, imported.stderr
    # A database written before imports rejected NUL may hold it.
    with sqlite3.connect(tmp_path / "source.db") as connection:
        connection.execute("UPDATE kb_articles SET content = 'a' || char(0) || 'b'")
        article_id = connection.execute("SELECT id FROM kb_articles").fetchone()[0]
    target = create_postgres_database()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "campfire_server.cli", "db", "copy"]
            + ["--from", source, "--to", target],
            capture_output=True,
            text=True,
            timeout=120,
        )

        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert "1 row contains NUL (U+0000)" in result.stderr
        assert f"kb_articles row org_id='org_acme', id='{article_id}' (content)" in result.stderr
    finally:
        drop_postgres_database(target)


def test_kb_import_skips_unknown_mailbox(tmp_path):
    url = kb_database(tmp_path)
    mailbox = campfire(
        "mailboxes",
        "create",
        "--org",
        "org_acme",
        "--name",
        "Support",
        "--id",
        "mbx_1",
        database_url=url,
    )
    assert mailbox.returncode == 0, mailbox.stderr
    rows = tmp_path / "articles.jsonl"
    lines = [
        {"title": "Refunds", "content": "Refunds take five days.", "mailboxIds": ["mbx_1"]},
        {"title": "Nope", "content": "No such mailbox.", "mailboxIds": ["mbx_1", "mbx_nope"]},
        {"title": "Exports", "content": "Exports run nightly."},
    ]
    rows.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")

    result = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)

    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["created"] == 2
    assert [row["line"] for row in output["skipped"]] == [2]
    assert "mailbox 'mbx_nope' in mailboxIds was not found" in output["skipped"][0]["reason"]
    assert "skipped line 2" in result.stderr
    assert "imported 2 rows" in result.stderr


def test_kb_import_all_unknown_mailboxes_fails(tmp_path):
    url = kb_database(tmp_path)
    rows = tmp_path / "articles.jsonl"
    rows.write_text(
        json.dumps({"title": "Nope", "content": "x", "mailboxIds": ["mbx_nope"]}) + "\n",
        encoding="utf-8",
    )

    result = campfire("kb", "import", str(rows), "--org", "org_acme", database_url=url)

    assert result.returncode == 2
    assert "skipped line 1" in result.stderr
    assert "nothing imported: all 1 rows" in result.stderr
    search = campfire("kb", "search", "nope", "--org", "org_acme", database_url=url)
    assert "no article matches" in search.stdout


def test_single_worker_banner_after_listen(tmp_path):
    """The banner's first line appears only once the port accepts connections."""
    port = free_port()
    environment = {
        **os.environ,
        "CAMPFIRE_ENV": "development",
        "CAMPFIRE_DATABASE_URL": f"sqlite:///{tmp_path / 'banner.db'}",
        "CAMPFIRE_LOG_LEVEL": "WARNING",
        "CAMPFIRE_WORKERS": "1",
        **NO_DNS,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "campfire_server.cli", "serve", "--host", "127.0.0.1"]
        + ["--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.put(line)

    threading.Thread(target=read_stderr, daemon=True).start()
    try:
        seen = []
        while True:
            # Generous, because several processes may share a loaded machine.
            line = lines.get(timeout=90)
            seen.append(line)
            if line.startswith("Campfire is listening"):
                break

        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        response = httpx.get(f"http://127.0.0.1:{port}/api/v2/openapi.json", timeout=10)

        assert response.status_code == 200, "".join(seen)
    finally:
        process.terminate()
        process.wait(10)
