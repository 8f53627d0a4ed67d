"""`campfire serve` with several workers: the banner waits for them, and failures are logged."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

from campfire_server.worker_pool import exit_reason
from tests.conftest import free_port


@pytest.mark.parametrize(
    ("exit_code", "reason"),
    [
        (-9, "it was killed by SIGKILL"),
        (-15, "it was killed by SIGTERM"),
        (1, "it exited with code 1"),
        (3, "its start-up failed (exit code 3)"),
    ],
)
def test_exit_reason_names_signal(exit_code, reason) -> None:
    assert exit_reason(exit_code).startswith(reason)


def _wait_for(path, pattern: str, seconds: float) -> re.Match[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        match = re.search(pattern, path.read_text())
        if match:
            return match
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not logged within {seconds} s:\n{path.read_text()[-3000:]}")


def test_workers_banner_and_killed_worker(tmp_path) -> None:
    port = free_port()
    log_path = tmp_path / "serve.log"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("CAMPFIRE_")
    }
    environment.update(
        CAMPFIRE_ENV="development",
        CAMPFIRE_WORKERS="2",
        CAMPFIRE_LOG_FORMAT="text",
        CAMPFIRE_DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
    )
    with log_path.open("w") as log_file:
        server = subprocess.Popen(
            [sys.executable, "-m", "campfire_server.cli", "serve", "--port", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=environment,
        )
    try:
        _wait_for(log_path, "Campfire is starting 2 worker processes", 60)
        _wait_for(log_path, "Campfire is listening", 180)

        # Once the banner shows, the workers serve.
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        text = log_path.read_text()
        pids = re.findall(r"worker process ready pid=(\d+)", text)
        assert len(pids) == 2
        assert text.index("worker process ready") < text.index("Campfire is listening")

        os.kill(int(pids[0]), signal.SIGKILL)

        stopped = _wait_for(log_path, r"WARNING \S+: worker process stopped.*", 30)
        assert f"pid={pids[0]}" in stopped.group()
        assert "killed by SIGKILL" in stopped.group()
        _wait_for(
            log_path, r"worker process ready pid=(?!" + pids[0] + r")(?!" + pids[1] + ")", 180
        )
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
