"""Fixtures of the SDK tests: one development server on 127.0.0.1 with a scratch SQLite file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from campfire import AsyncCampfireClient, CampfireClient

TEST_KEY = "test_sk_123456789"
MAILBOX_ID = "mailbox_456"
# The development organization's agent, which an API key's agent messages name as author.
AGENT_ID = "agent_123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DevServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2"

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def start_dev_server(directory: Path, env: dict[str, str] | None = None) -> DevServer:
    """Start ``campfire_server.cli serve --env development`` and wait until it answers.

    ``env`` adds settings to the server's environment.
    """
    port = free_port()
    log_path = directory / f"server-{port}.log"
    environment = {
        **os.environ,
        "CAMPFIRE_ENV": "development",
        "CAMPFIRE_LOG_LEVEL": "WARNING",
        # Webhook URLs in these tests point at 127.0.0.1, and no DNS query may leave the machine.
        "CAMPFIRE_WEBHOOK_DNS_LOOKUPS": "false",
        **(env or {}),
    }
    command = [
        os.environ.get("CAMPFIRE_PYTHON") or sys.executable,
        "-m",
        "campfire_server.cli",
        "serve",
        "--env",
        "development",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        f"sqlite:///{directory / 'campfire.db'}",
    ]
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            command, env=environment, stdout=log_file, stderr=subprocess.STDOUT
        )
    server = DevServer(process, port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the development server exited early:\n{server.log_tail()}")
        try:
            if httpx.get(f"{server.api}/openapi.json", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the development server did not start within 60 s:\n{server.log_tail()}")


def stop_dev_server(server: DevServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(5)


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    server = start_dev_server(tmp_path_factory.mktemp("sdk-server"))
    yield server
    stop_dev_server(server)


@pytest.fixture(scope="session")
def openapi(dev_server: DevServer) -> dict:
    return httpx.get(f"{dev_server.api}/openapi.json", timeout=10).json()


@pytest.fixture
def client(dev_server: DevServer) -> Iterator[CampfireClient]:
    with CampfireClient(api_key=TEST_KEY, base_url=dev_server.api) as sdk:
        yield sdk


@pytest.fixture
async def async_client(dev_server: DevServer) -> AsyncIterator[AsyncCampfireClient]:
    async with AsyncCampfireClient(api_key=TEST_KEY, base_url=dev_server.api) as sdk:
        yield sdk


@pytest.fixture
def customer_id() -> str:
    """A customer id no other test uses, so list filters see only this test's data."""
    return f"customer_{uuid.uuid4().hex[:12]}"


def has_operation(openapi: dict, method: str, path: str) -> bool:
    """Whether the server under test implements ``method path`` (path under /api/v2)."""
    return method.lower() in openapi.get("paths", {}).get("/api/v2" + path, {})
