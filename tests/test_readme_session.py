"""The README's first session, run as pasted against a development server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import start_server

README = Path(__file__).parents[1] / "README.md"


def first_session() -> str:
    """Return the shell block under the README's "A first session" heading."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## A first session", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match, "the README's first session has no bash block"
    return match.group(1)


def test_readme_session_runs_as_pasted(tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed, and the session is a curl session")
    script = first_session()
    assert "http://localhost:3000/api/v2" in script
    server = start_server(f"sqlite:///{tmp_path / 'readme.db'}", tmp_path)
    try:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace(":3000", f":{server.port}")],
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.stop()

    assert result.returncode == 0, result.stderr
    conversation_id, responses = result.stdout.split("\n", 1)
    # curl prints each body without a final newline, so the two run together.
    decoder = json.JSONDecoder()
    message, end = decoder.raw_decode(responses)
    listed, _ = decoder.raw_decode(responses, end)
    assert conversation_id.startswith("conv_")
    assert message["conversationId"] == conversation_id
    assert message["authorType"] == "customer"
    assert conversation_id in [item["id"] for item in listed["data"]]


def test_readme_idempotency_example_replays(tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed, and the example is a curl command")
    text = README.read_text(encoding="utf-8")
    section = text.split("## Retrying a POST safely", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match, "the README's idempotency section has no bash block"
    server = start_server(f"sqlite:///{tmp_path / 'readme.db'}", tmp_path)
    try:
        created = subprocess.run(
            [
                "curl",
                "-s",
                "-X",
                "POST",
                f"{server.api}/conversations",
                "-H",
                "Authorization: Bearer test_sk_123456789",
                "-H",
                "Content-Type: application/json",
                "-d",
                '{"customerId": "customer_readme"}',
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        conversation_id = json.loads(created.stdout)["id"]
        script = match.group(1).replace(":3000", f":{server.port}")
        runs = [
            subprocess.run(
                ["bash", "-euo", "pipefail", "-c", script],
                capture_output=True,
                text=True,
                timeout=60,
                env={"PATH": "/usr/bin:/bin", "CONVERSATION": conversation_id},
            )
            for _ in range(2)
        ]
    finally:
        server.stop()

    for run in runs:
        assert run.returncode == 0, run.stderr
    first, second = (json.loads(run.stdout) for run in runs)
    assert first["conversationId"] == conversation_id
    assert second["id"] == first["id"]
