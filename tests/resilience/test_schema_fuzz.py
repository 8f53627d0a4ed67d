"""Property-based requests against every operation of the OpenAPI document.

Each operation gets a bounded number of generated requests (valid and
invalid). No response may be a 5xx, and every response must match the
status codes, content types and schemas the document declares. The
stateful pass follows the document's links (create, then read and change
what was created). Set CAMPFIRE_HEAVY_TESTS=1 for many more examples.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import start_server

HEAVY = os.environ.get("CAMPFIRE_HEAVY_TESTS") == "1"
EXAMPLES = 60 if HEAVY else 8
DEV = {"Authorization": "Bearer test_sk_123456789"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    server = start_server(
        f"sqlite:///{folder / 'fuzz.db'}",
        folder,
        env={
            "CAMPFIRE_RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
            "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "1000000",
            "CAMPFIRE_WEBHOOK_WORKER": "false",
        },
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_schema(fuzz_server):
    return schemathesis.openapi.from_url(f"{fuzz_server.api}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_operation_conforms(case):
    case.call_and_validate(headers=DEV, checks=CHECKS, timeout=30)
