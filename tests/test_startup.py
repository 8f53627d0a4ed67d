"""Start-up of `campfire serve`: the settings it rejects, its seed data and its workers.

Each test runs the real command line on 127.0.0.1 against a SQLite file.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from campfire_server.auth.keys import DEVELOPMENT_KEY
from campfire_server.config import DEVELOPMENT_JWT_SECRET, Settings, check_secret_length
from campfire_server.development import DEVELOPMENT_AGENT_ID, DEVELOPMENT_MAILBOX_ID
from campfire_server.knowledge.semantic import SEMANTIC_INSTALL_COMMAND, semantic_available
from tests.conftest import NO_DNS, free_port, start_server
from tests.test_cli_errors import USAGE, assert_one_line, campfire

README = Path(__file__).resolve().parents[1] / "README.md"
LONG_SECRET = "0123456789abcdef0123456789abcdef"
SHORT_SECRET = "short-secret-123"
DEVELOPMENT_HEADERS = {"Authorization": f"Bearer {DEVELOPMENT_KEY}"}
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

needs_missing_extra = pytest.mark.skipif(
    semantic_available(), reason="the semantic extra is installed, so it cannot be missing"
)


@pytest.fixture
def migrated(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'startup.db'}"
    result = campfire("migrate", "--database-url", url)
    assert result.returncode == 0, result.stderr
    return url


def serve(url: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run `campfire serve` that is expected to stop before it listens."""
    return campfire(
        "serve", "--port", str(free_port()), "--database-url", url, *args, env={**NO_DNS, **env}
    )


# Secrets ---------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["production", "test"])
@pytest.mark.parametrize("variable", ["CAMPFIRE_JWT_SECRET", "CAMPFIRE_METRICS_TOKEN"])
def test_short_secret_stops_serve(migrated, environment, variable):
    env = {"CAMPFIRE_ENV": environment, "CAMPFIRE_JWT_SECRET": LONG_SECRET, variable: SHORT_SECRET}

    result = serve(migrated, env)

    assert_one_line(
        result, USAGE, f"{variable} is invalid", "16 bytes", "at least 32", "openssl rand -hex 32"
    )
    assert SHORT_SECRET not in result.stderr


def test_one_byte_secret_stops_serve(migrated):
    result = serve(migrated, {"CAMPFIRE_ENV": "production", "CAMPFIRE_JWT_SECRET": "x"})

    assert_one_line(result, USAGE, "CAMPFIRE_JWT_SECRET is invalid", "has 1 byte and")


def test_secret_length_counts_utf8_bytes():
    with pytest.raises(ValueError, match="has 31 bytes"):
        check_secret_length("CAMPFIRE_JWT_SECRET", "a" * 31)
    check_secret_length("CAMPFIRE_JWT_SECRET", "a" * 32)
    # 16 two-byte characters are 32 bytes.
    check_secret_length("CAMPFIRE_JWT_SECRET", "é" * 16)
    with pytest.raises(ValueError, match="has 30 bytes"):
        check_secret_length("CAMPFIRE_JWT_SECRET", "é" * 15)


def test_development_keeps_default_secret():
    settings = Settings(env="development", metrics_token="dev")

    settings.check_serving_secrets()

    assert settings.jwt_secret == DEVELOPMENT_JWT_SECRET


def test_long_secret_serves_in_production(migrated, tmp_path):
    server = start_server(
        migrated,
        tmp_path,
        env={
            "CAMPFIRE_ENV": "production",
            "CAMPFIRE_JWT_SECRET": LONG_SECRET,
            "CAMPFIRE_METRICS_TOKEN": LONG_SECRET,
        },
    )
    try:
        metrics = httpx.get(f"{server.base_url}/metrics", timeout=10)
        allowed = httpx.get(
            f"{server.base_url}/metrics",
            headers={"Authorization": f"Bearer {LONG_SECRET}"},
            timeout=10,
        )
    finally:
        server.stop()
    assert metrics.status_code == 401
    assert allowed.status_code == 200


# AI settings -------------------------------------------------------------------


@needs_missing_extra
@pytest.mark.parametrize("retriever", ["semantic", "fused"])
def test_semantic_retriever_without_extra_stops_serve(migrated, retriever):
    result = serve(migrated, {"CAMPFIRE_ENV": "development", "CAMPFIRE_AI_RETRIEVER": retriever})

    assert_one_line(
        result,
        USAGE,
        f"CAMPFIRE_AI_RETRIEVER {retriever} is invalid",
        "semantic extra is not installed",
        SEMANTIC_INSTALL_COMMAND,
    )


@needs_missing_extra
def test_auto_retriever_without_extra_answers(migrated, tmp_path):
    server = start_server(migrated, tmp_path, env={"CAMPFIRE_AI_RETRIEVER": "auto"})
    try:
        search = httpx.get(
            f"{server.api}/knowledge/search",
            params={"q": "cancel my subscription"},
            headers=DEVELOPMENT_HEADERS,
            timeout=30,
        )
        conversation = httpx.post(
            f"{server.api}/conversations",
            json={"customerId": "customer_1", "mailboxId": DEVELOPMENT_MAILBOX_ID},
            headers=DEVELOPMENT_HEADERS,
            timeout=30,
        )
        answer = httpx.post(
            f"{server.api}/ai/generate-response",
            json={
                "conversationId": conversation.json()["id"],
                "messageContent": "How do I cancel my subscription?",
            },
            headers=DEVELOPMENT_HEADERS,
            timeout=30,
        )
    finally:
        server.stop()
    assert search.status_code == 200, search.text
    assert search.json()["data"], search.text
    assert conversation.status_code == 201, conversation.text
    assert answer.status_code == 200, answer.text
    assert answer.json()["content"]


def test_readme_gives_semantic_install_command():
    assert SEMANTIC_INSTALL_COMMAND in README.read_text(encoding="utf-8")


@needs_missing_extra
@pytest.mark.parametrize(
    "args",
    [
        ["eval", "DATASET", "--retriever", "semantic"],
        ["kb", "search", "refunds", "--org", "org_1", "--retriever", "fused"],
    ],
)
def test_semantic_command_without_extra_is_usage(tmp_path, args):
    dataset = tmp_path / "set"
    dataset.mkdir()
    (dataset / "articles.jsonl").write_text('{"id": "a1", "title": "Refunds", "text": "x"}\n')
    (dataset / "questions.jsonl").write_text('{"id": "q1", "question": "refund?"}\n')
    args = [str(dataset) if arg == "DATASET" else arg for arg in args]

    result = campfire(*args)

    assert_one_line(result, USAGE, "--retriever", SEMANTIC_INSTALL_COMMAND)


@pytest.mark.parametrize(
    ("env", "parts", "absent"),
    [
        (
            {"CAMPFIRE_AI_PROVIDER": "bogus"},
            ["CAMPFIRE_AI_PROVIDER bogus is invalid", "'extractive' or 'openai'"],
            [],
        ),
        (
            {"CAMPFIRE_AI_PROVIDER": "openai"},
            [
                "CAMPFIRE_AI_PROVIDER openai is invalid",
                "CAMPFIRE_AI_BASE_URL and CAMPFIRE_AI_MODEL",
                "CAMPFIRE_AI_PROVIDER=extractive",
            ],
            [],
        ),
        (
            {"CAMPFIRE_AI_PROVIDER": "openai", "CAMPFIRE_AI_BASE_URL": "http://127.0.0.1:9/v1"},
            ["CAMPFIRE_AI_PROVIDER openai is invalid", "needs CAMPFIRE_AI_MODEL, which is unset"],
            ["CAMPFIRE_AI_BASE_URL and"],
        ),
        (
            {
                "CAMPFIRE_AI_PROVIDER": "openai",
                "CAMPFIRE_AI_BASE_URL": "notaurl",
                "CAMPFIRE_AI_MODEL": "m",
            },
            ["CAMPFIRE_AI_BASE_URL notaurl is invalid", "http:// or https:// URL with a host"],
            [],
        ),
        (
            {
                "CAMPFIRE_AI_PROVIDER": "openai",
                "CAMPFIRE_AI_BASE_URL": "ftp://127.0.0.1/v1",
                "CAMPFIRE_AI_MODEL": "m",
            },
            ["CAMPFIRE_AI_BASE_URL ftp://127.0.0.1/v1 is invalid", "http:// or https://"],
            [],
        ),
        (
            {"CAMPFIRE_AI_RETRIEVER": "bm25"},
            ["CAMPFIRE_AI_RETRIEVER bm25 is invalid", "'lexical'"],
            [],
        ),
        (
            {"CAMPFIRE_AI_TIMEOUT_S": "0"},
            ["CAMPFIRE_AI_TIMEOUT_S 0 is invalid", "greater than 0"],
            [],
        ),
    ],
)
def test_bad_ai_setting_stops_serve(migrated, env, parts, absent):
    result = serve(migrated, {"CAMPFIRE_ENV": "development", **env})

    assert_one_line(result, USAGE, *parts)
    assert "startup failed" not in result.stderr
    for text in absent:
        assert text not in result.stderr


# Setting errors read as one template ---------------------------------------------

# "VAR value is invalid: it <constraint>", where the constraint does not name
# the setting again in its own spelling.
TEMPLATE = re.compile(
    r"^error: (?P<var>CAMPFIRE_[A-Z_]+) (?P<value>\S+) is invalid: it (?P<rest>.+)$"
)

SETTING_ERRORS = [
    ("CAMPFIRE_GC_THRESHOLDS", "a,b", "three comma-separated whole numbers"),
    ("CAMPFIRE_GC_THRESHOLDS", "1,2", "three comma-separated counts"),
    ("CAMPFIRE_TRUSTED_PROXIES", "proxy.internal", "IP addresses or CIDR networks"),
    ("CAMPFIRE_REDIS_PREFIX", "a:b", "1 to 64 letters"),
    ("CAMPFIRE_LOG_LEVEL", "bogus", "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    ("CAMPFIRE_LOG_FORMAT", "xml", "'json' or 'text'"),
    ("CAMPFIRE_WORKERS", "many", "whole number"),
]


@pytest.mark.parametrize(("variable", "value", "fix"), SETTING_ERRORS)
def test_setting_error_follows_template(migrated, variable, value, fix):
    result = serve(migrated, {"CAMPFIRE_ENV": "development", variable: value})

    assert_one_line(result, USAGE, fix)
    match = TEMPLATE.match(result.stderr.strip())
    assert match, result.stderr
    assert match["var"] == variable
    assert value in match["value"]
    field = variable.removeprefix("CAMPFIRE_").lower()
    assert field not in match["rest"], result.stderr
    assert not match["rest"].startswith("must be must"), result.stderr


@pytest.mark.parametrize("host", ["999.1.1.1", "192.0.2.77"])
def test_host_not_of_this_machine_names_host(migrated, host):
    result = serve(migrated, {"CAMPFIRE_ENV": "development", "CAMPFIRE_HOST": host})

    assert_one_line(result, USAGE, f"CAMPFIRE_HOST {host} is invalid", "127.0.0.1")
    assert "--port" not in result.stderr


def test_host_option_named_when_given(migrated):
    result = serve(migrated, {"CAMPFIRE_ENV": "development"}, "--host", "999.1.1.1")

    assert_one_line(result, USAGE, "--host 999.1.1.1 is invalid")


# Other command errors ----------------------------------------------------------


def test_eval_missing_folder_does_not_exist(tmp_path):
    missing = tmp_path / "nowhere"

    result = campfire("eval", str(missing))

    assert_one_line(result, USAGE, repr(str(missing)), "does not exist")


def test_eval_folder_without_set_names_file(tmp_path):
    result = campfire("eval", str(tmp_path))

    assert_one_line(result, USAGE, "has no articles.jsonl")


@pytest.mark.parametrize("threshold", ["2", "-1", "1.01"])
def test_eval_threshold_outside_range_is_usage(tmp_path, threshold):
    result = campfire("eval", str(tmp_path), "--threshold", threshold)

    assert_one_line(result, USAGE, f"--threshold {threshold} is invalid", "from 0 to 1")


@pytest.mark.parametrize("threshold", ["0", "1"])
def test_eval_threshold_bounds_run(tmp_path, threshold):
    dataset = tmp_path / "tiny"
    dataset.mkdir()
    articles = [
        {"id": "a1", "title": "Refunds", "text": "Refunds reach your card within five days."},
        {"id": "a2", "title": "Passwords", "text": "Reset your password from the sign-in page."},
    ]
    questions = [
        {"id": "q1", "question": "When do refunds reach my card?", "gold_article_ids": ["a1"]}
    ]
    (dataset / "articles.jsonl").write_text("".join(json.dumps(row) + "\n" for row in articles))
    (dataset / "questions.jsonl").write_text("".join(json.dumps(row) + "\n" for row in questions))

    result = campfire("eval", str(dataset), "--threshold", threshold, "--json")

    assert result.returncode == 0, result.stderr
    assert "tiny" in json.loads(result.stdout)


def test_db_copy_missing_source_does_not_exist(tmp_path):
    missing = tmp_path / "missing.db"
    target = tmp_path / "target.db"

    result = campfire("db", "copy", "--from", f"sqlite:///{missing}", "--to", f"sqlite:///{target}")

    assert_one_line(result, USAGE, repr(str(missing)), "does not exist")
    assert not missing.exists()
    assert not target.exists()


def test_missing_database_file_does_not_exist(tmp_path):
    missing = tmp_path / "missing.db"

    result = campfire("orgs", "list", "--database-url", f"sqlite:///{missing}")

    assert_one_line(result, 1, repr(str(missing)), "does not exist", "campfire migrate")
    assert not missing.exists()


def test_length_error_says_one_character(migrated):
    created = campfire(
        "orgs", "create", "--name", "Acme", "--id", "org_a", "--database-url", migrated
    )
    assert created.returncode == 0, created.stderr

    result = campfire(
        "mailboxes", "create", "--org", "org_a", "--name", "", "--database-url", migrated
    )

    assert_one_line(result, USAGE, "--name is invalid: it must have at least 1 character")
    assert "1 characters" not in result.stderr


def test_keys_create_rejects_what_api_rejects(migrated):
    created = campfire(
        "orgs", "create", "--name", "Acme", "--id", "org_a", "--database-url", migrated
    )
    assert created.returncode == 0, created.stderr

    result = campfire("keys", "create", "--org", "org_a", "--name", "", "--database-url", migrated)

    assert_one_line(result, USAGE, "--name is invalid", "at least 1 character")
    listed = json.loads(
        campfire("keys", "list", "--org", "org_a", "--database-url", migrated).stdout
    )
    assert [key["name"] for key in listed] == ["default admin key"]


# Listings in the API's shapes --------------------------------------------------------


def test_cli_lists_match_api(migrated, tmp_path):
    created = campfire(
        "orgs", "create", "--name", "Acme", "--id", "org_acme", "--database-url", migrated
    )
    assert created.returncode == 0, created.stderr
    admin_key = json.loads(created.stdout)["apiKey"]
    base = ["--org", "org_acme", "--database-url", migrated]
    mailbox = campfire("mailboxes", "create", "--name", "Support", "--id", "support", *base)
    assert mailbox.returncode == 0, mailbox.stderr
    widget = campfire(
        "keys", "create", "--publishable", "--mailbox", "support",
        "--origin", "https://shop.example", *base,
    )  # fmt: skip
    assert widget.returncode == 0, widget.stderr

    server = start_server(migrated, tmp_path)
    try:
        response = httpx.get(
            f"{server.api}/keys", headers={"Authorization": f"Bearer {admin_key}"}, timeout=30
        )
    finally:
        server.stop()
    assert response.status_code == 200, response.text
    from_api = {key["id"]: key for key in response.json()["data"]}

    listed = campfire("keys", "list", *base)
    assert listed.returncode == 0, listed.stderr
    from_cli = {key["id"]: key for key in json.loads(listed.stdout)}

    assert from_cli.keys() == from_api.keys()
    for key_id, key in from_cli.items():
        # The API request itself stamps lastUsedAt on the admin key.
        assert {**key, "lastUsedAt": None} == {**from_api[key_id], "lastUsedAt": None}
        assert ISO_UTC.match(key["createdAt"]), key
    publishable = next(key for key in from_cli.values() if key["kind"] == "publishable")
    assert publishable["mailboxIds"] == ["support"]
    assert publishable["allowedOrigins"] == ["https://shop.example"]

    orgs = campfire("orgs", "list", "--database-url", migrated)
    assert orgs.returncode == 0, orgs.stderr
    acme = next(org for org in json.loads(orgs.stdout) if org["id"] == "org_acme")
    assert acme["name"] == "Acme"
    assert ISO_UTC.match(acme["createdAt"]), acme
    created_at = datetime.fromisoformat(acme["createdAt"])
    assert created_at.utcoffset().total_seconds() == 0
    assert abs(time.time() - created_at.timestamp()) < 600


# Development seed ----------------------------------------------------------------


def test_development_seed_runs_once(migrated, tmp_path):
    server = start_server(migrated, tmp_path)
    try:
        articles = httpx.get(
            f"{server.api}/knowledge/articles",
            params={"limit": 100},
            headers=DEVELOPMENT_HEADERS,
            timeout=30,
        ).json()["data"]
        assert len(articles) >= 2
        edited, deleted = articles[0]["id"], articles[1]["id"]
        patched = httpx.patch(
            f"{server.api}/knowledge/articles/{edited}",
            json={"title": "Edited by a developer"},
            headers=DEVELOPMENT_HEADERS,
            timeout=30,
        )
        assert patched.status_code == 200, patched.text
        removed = httpx.delete(
            f"{server.api}/knowledge/articles/{deleted}", headers=DEVELOPMENT_HEADERS, timeout=30
        )
        assert removed.status_code == 204, removed.text
        agent = httpx.delete(
            f"{server.api}/agents/{DEVELOPMENT_AGENT_ID}", headers=DEVELOPMENT_HEADERS, timeout=30
        )
        assert agent.status_code == 204, agent.text
    finally:
        server.stop()

    restarted = start_server(migrated, tmp_path)
    try:
        after = httpx.get(
            f"{restarted.api}/knowledge/articles",
            params={"limit": 100},
            headers=DEVELOPMENT_HEADERS,
            timeout=30,
        ).json()["data"]
        deleted_again = httpx.get(
            f"{restarted.api}/knowledge/articles/{deleted}", headers=DEVELOPMENT_HEADERS, timeout=30
        )
        agent_again = httpx.get(
            f"{restarted.api}/agents/{DEVELOPMENT_AGENT_ID}",
            headers=DEVELOPMENT_HEADERS,
            timeout=30,
        )
        mailbox = httpx.get(
            f"{restarted.api}/mailboxes/{DEVELOPMENT_MAILBOX_ID}",
            headers=DEVELOPMENT_HEADERS,
            timeout=30,
        )
    finally:
        restarted.stop()
    titles = {article["id"]: article["title"] for article in after}
    assert len(after) == len(articles) - 1
    assert titles[edited] == "Edited by a developer"
    assert deleted not in titles
    assert deleted_again.status_code == 404
    assert agent_again.status_code == 404
    assert mailbox.status_code == 200


# Workers ---------------------------------------------------------------------


def children_of(pid: int) -> list[int]:
    """Return the ids of the live, non-zombie processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in brackets and may contain spaces.
        state, parent = stat.rpartition(")")[2].split()[:2]
        if int(parent) == pid and state != "Z":
            found.append(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_exit_when_parent_killed(migrated, tmp_path):
    port = free_port()
    log_path = tmp_path / "workers.log"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("CAMPFIRE_")
    }
    with open(log_path, "wb") as log_file:
        parent = subprocess.Popen(
            [
                sys.executable, "-m", "campfire_server.cli", "serve", "--env", "development",
                "--port", str(port), "--workers", "2", "--database-url", migrated,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            env={**environment, **NO_DNS, "CAMPFIRE_LOG_FORMAT": "text"},
        )  # fmt: skip
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert parent.poll() is None, log_path.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        workers = children_of(parent.pid)
        assert len(workers) >= 2, log_path.read_text()

        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        killed_at = time.monotonic()
        while not port_is_free(port) and time.monotonic() - killed_at < 15:
            time.sleep(0.1)
        freed_after = time.monotonic() - killed_at
        while any(is_running(pid) for pid in workers) and time.monotonic() - killed_at < 15:
            time.sleep(0.1)
        running = [pid for pid in workers if is_running(pid)]
    finally:
        for pid in workers:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
            parent.wait(10)

    assert port_is_free(port), log_path.read_text()
    assert freed_after < 10, freed_after
    assert running == [], log_path.read_text()

    replacement = start_server(migrated, tmp_path, port=port)
    try:
        health = httpx.get(f"{replacement.base_url}/healthz", timeout=10)
    finally:
        replacement.stop()
    assert health.status_code == 200


EVAL_ARTICLES = [
    {"id": "a1", "title": "Refunds", "text": "Refunds reach your card within five days."},
    {"id": "a2", "title": "Passwords", "text": "Reset your password from the sign-in page."},
]
GOOD_QUESTION = {"id": "q1", "question": "When do refunds arrive?", "gold_article_ids": ["a1"]}


@pytest.mark.parametrize(
    ("line", "parts"),
    [
        (
            json.dumps({"question": "Refunds?", "gold_article_ids": ["a1"]}),
            ["line 2: id is missing", "expected a non-empty string"],
        ),
        ("{not json", ["line 2: invalid JSON at column 2", "one JSON object per line"]),
        (
            json.dumps({"id": "q2", "question": "Refunds?", "gold_article_ids": "a1"}),
            ['line 2: gold_article_ids is "a1" (string)', 'such as ["a1"]'],
        ),
        (
            json.dumps(
                {"id": "q2", "question": "Refunds?", "gold_article_ids": [], "answerable": "yes"}
            ),
            ['line 2: answerable is "yes" (string)', "JSON boolean"],
        ),
        (
            json.dumps({"id": "q2", "question": "Refunds?", "gold_article_ids": ["a9"]}),
            ['line 2: gold_article_ids contains "a9", which is no id in articles.jsonl'],
        ),
        (
            json.dumps({"id": "q1", "question": "Refunds?", "gold_article_ids": []}),
            ["line 2: id 'q1' repeats line 1"],
        ),
        (
            json.dumps(
                {
                    "id": "q2",
                    "question": "Refunds?",
                    "gold_article_ids": ["a1"],
                    "expected_action": "reply",
                }
            ),
            ['line 2: expected_action is "reply" (string)', "one of answer, answer_partial"],
        ),
        (
            json.dumps(
                {
                    "id": "q2",
                    "question": "Refunds?",
                    "gold_article_ids": ["a1"],
                    "history": [{"speaker": "user", "text": 5}],
                }
            ),
            ["line 2: history[0].text is 5 (number)", "expected a string"],
        ),
    ],
)
def test_eval_rejects_invalid_question_rows(tmp_path, line, parts):
    dataset = tmp_path / "tiny"
    dataset.mkdir()
    (dataset / "articles.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in EVAL_ARTICLES)
    )
    questions = dataset / "questions.jsonl"
    questions.write_text(json.dumps(GOOD_QUESTION) + "\n" + line + "\n")

    result = campfire("eval", str(dataset))

    assert_one_line(result, USAGE, str(questions), *parts)


def test_eval_rejects_article_without_id(tmp_path):
    dataset = tmp_path / "tiny"
    dataset.mkdir()
    articles = dataset / "articles.jsonl"
    articles.write_text(json.dumps({"title": "Refunds", "text": "Five days."}) + "\n")
    (dataset / "questions.jsonl").write_text(json.dumps(GOOD_QUESTION) + "\n")

    result = campfire("eval", str(dataset))

    assert_one_line(result, USAGE, f"{articles} line 1: id is missing")


def test_development_tokens_log_no_key_warning(migrated, tmp_path):
    server = start_server(migrated, tmp_path)
    try:
        response = httpx.post(
            f"{server.api}/widget/session",
            headers={"Authorization": "Bearer pk_test_development"},
            json={"mailboxId": DEVELOPMENT_MAILBOX_ID, "customerId": "cus_warning_check"},
            timeout=10,
        )
        token = response.json().get("token")
        conversations = httpx.get(
            f"{server.api}/conversations",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
    finally:
        server.stop()
    log = server.log_path.read_text()

    assert response.status_code == 201, response.text
    assert conversations.status_code == 200, conversations.text
    assert "InsecureKeyLengthWarning" not in log
    assert "HMAC key" not in log
    assert DEVELOPMENT_JWT_SECRET not in log


def test_python_warning_is_one_json_line():
    script = (
        "import warnings\n"
        "from campfire_server.logs import configure_logging\n"
        "configure_logging('INFO', 'json')\n"
        "warnings.warn('first line\\nsecond line', UserWarning)\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    record = json.loads(lines[0])
    assert record["logger"] == "py.warnings"
    assert "first line\nsecond line" in record["message"]
