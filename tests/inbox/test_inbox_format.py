"""The inbox's formatting helpers, run in Node from the inbox's source."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

FORMAT = Path(__file__).resolve().parents[2] / "inbox" / "src" / "format.js"


def socket_labels(states: list[dict]) -> list[str]:
    """Return ``socketLabel`` of each state, computed by Node from format.js."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    script = (
        f"const {{ socketLabel }} = await import({json.dumps(FORMAT.as_uri())});\n"
        f"const states = {json.dumps(states)};\n"
        "process.stdout.write(JSON.stringify(states.map(socketLabel)));\n"
    )
    result = subprocess.run(
        ["node", "--input-type=module", "-e", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(result.stdout)


def test_socket_limit_label_plural_forms() -> None:
    one, two, unknown = socket_labels(
        [
            {"state": "limited", "limit": 1, "retryInSeconds": 30},
            {"state": "limited", "limit": 2, "retryInSeconds": 30},
            {"state": "limited", "limit": None, "retryInSeconds": 30},
        ]
    )

    assert "already has 1 open connection, its limit" in one
    assert "already has 2 open connections, its limit" in two
    assert "is at its limit of open connections" in unknown
