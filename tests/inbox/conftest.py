"""Browser fixtures of the inbox tests: one live server and one Chromium per module.

The Chromium launch and the per-test browser context come from the widget
tests, so both suites drive the browser the same way.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from campfire_server.auth.keys import DEVELOPMENT_KEY, DEVELOPMENT_PUBLISHABLE_KEY
from campfire_server.db import migrate
from tests.conftest import LiveServer, start_server
from tests.widget.conftest import (  # noqa: F401 - fixtures used by the tests
    BrowserErrors,
    browser,
    browser_errors,
    context,
)

MAILBOX_ID = "mailbox_456"
ADMIN_HEADERS = {"Authorization": f"Bearer {DEVELOPMENT_KEY}"}
BUILT_PAGE = Path(__file__).resolve().parents[2] / "src/campfire_server/static/inbox/index.html"


@dataclass
class InboxServer:
    server: LiveServer
    database_url: str

    @property
    def api(self) -> str:
        return self.server.api

    @property
    def inbox_url(self) -> str:
        return f"{self.server.base_url}/inbox/"

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.api, headers=ADMIN_HEADERS, timeout=15)

    def cli(self, *args: str) -> dict[str, Any]:
        """Run ``campfire`` against the server's database and return its JSON output."""
        command = [sys.executable, "-m", "campfire_server.cli", *args]
        completed = subprocess.run(
            [*command, "--database-url", self.database_url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert completed.returncode == 0, completed.stderr
        return json.loads(completed.stdout)


@pytest.fixture(scope="module")
def inbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InboxServer]:
    if not BUILT_PAGE.is_file():
        pytest.fail("the inbox is not built; run `make inbox`")
    directory = tmp_path_factory.mktemp("inbox-server")
    url = f"sqlite:///{directory / 'campfire.db'}"
    migrate.upgrade(url)
    server = start_server(url, directory)
    yield InboxServer(server, url)
    server.stop()


@dataclass
class Customer:
    """A widget visitor: a customer token and its realtime socket's frames."""

    token: str
    customer_id: str
    frames: list[dict[str, Any]] = field(default_factory=list)
    socket: Any = None
    reader: asyncio.Task | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def listen(self, api: str, conversation_id: str) -> None:
        from websockets.asyncio.client import connect

        self.socket = await connect(api.replace("http", "ws", 1) + "/realtime")
        await self.socket.send(json.dumps({"type": "auth", "token": self.token}))
        await self.socket.send(
            json.dumps({"type": "subscribe", "channel": f"conversation:{conversation_id}"})
        )

        async def read() -> None:
            async for raw in self.socket:
                self.frames.append(json.loads(raw))

        self.reader = asyncio.create_task(read())
        await self.wait_for(lambda frame: frame["type"] == "subscribed")

    async def wait_for(self, matches: Any, timeout: float = 10.0) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            for frame in self.frames:
                if matches(frame):
                    return frame
            await asyncio.sleep(0.05)
        raise AssertionError(f"no matching frame within {timeout} s; got {self.frames[-10:]}")

    async def typing(self, conversation_id: str, is_typing: bool) -> None:
        await self.socket.send(
            json.dumps(
                {
                    "type": "typing",
                    "channel": f"conversation:{conversation_id}",
                    "data": {"isTyping": is_typing},
                }
            )
        )

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
        if self.reader is not None:
            self.reader.cancel()


def open_widget_session(server: InboxServer, customer_id: str, **identity: str) -> Customer:
    """Open a widget session with the development publishable key, and ``name`` or ``email``."""
    response = httpx.post(
        f"{server.api}/widget/session",
        json={"mailboxId": MAILBOX_ID, "customerId": customer_id, **identity},
        headers={"Authorization": f"Bearer {DEVELOPMENT_PUBLISHABLE_KEY}"},
        timeout=15,
    )
    assert response.status_code == 201, response.text
    return Customer(response.json()["token"], response.json()["customerId"])


async def sign_in(page: Any, server: InboxServer, email: str, password: str) -> None:
    await page.goto(server.inbox_url)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
