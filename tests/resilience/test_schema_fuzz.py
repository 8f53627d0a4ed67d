"""Property-based requests against every operation of the OpenAPI document.

Schemathesis sends a bounded number of generated requests, valid and
invalid, to each operation of a live server, and then follows the
document's links in its stateful phase. No response may be a 5xx, and every
response must match the status codes, content types and schemas the
document declares. Set CAMPFIRE_HEAVY_TESTS=1 for many more examples.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import start_server

HEAVY = os.environ.get("CAMPFIRE_HEAVY_TESTS") == "1"
EXAMPLES = 60 if HEAVY else 6
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


@pytest.fixture
def fuzz_server(tmp_path):
    server = start_server(
        f"sqlite:///{tmp_path / 'fuzz.db'}",
        tmp_path,
        env={
            "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
            "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000",
            "CAMPFIRE_WEBHOOK_WORKER": "false",
        },
    )
    yield server
    server.stop()


def test_every_operation_conforms(fuzz_server, tmp_path):
    schemathesis = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(schemathesis),
            "run",
            f"{fuzz_server.api}/openapi.json",
            "--checks",
            CHECKS,
            "--max-examples",
            str(EXAMPLES),
            "--header",
            "Authorization: Bearer test_sk_123456789",
            "--seed",
            "20241204",
            "--generation-deterministic",
            "--continue-on-failure",
            "--report-dir",
            str(tmp_path / "report"),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
