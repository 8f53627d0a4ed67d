"""The inbox's realtime client in Node against live servers: long replays and lost frames."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from campfire_server.auth.keys import DEVELOPMENT_KEY, DEVELOPMENT_PUBLISHABLE_KEY
from campfire_server.db import migrate
from campfire_server.development import DEVELOPMENT_AGENT_ID
from tests.conftest import start_server
from tests.resilience.services import PrivateRedis

ROOT = Path(__file__).resolve().parents[2]
DRIVER = Path(__file__).with_name("realtime_driver.mjs")
HEADERS = {"Authorization": f"Bearer {DEVELOPMENT_KEY}"}
MAILBOX_ID = "mailbox_456"


class InboxRealtime:
    """The inbox's Realtime class in a Node process, subscribed to one channel."""

    def __init__(self, host: str, channel: str, token: str = DEVELOPMENT_KEY) -> None:
        self.process = subprocess.Popen(
            ["node", str(DRIVER), host, token, channel],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.frames: queue.Queue[dict] = queue.Queue()
        self.messages: list[tuple[int, str]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.frames.put(json.loads(line))

    def command(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_subscribed(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while (
            self.frames.get(timeout=max(0.0, deadline - time.monotonic()))["type"] != "subscribed"
        ):
            pass

    def wait_for(self, content: str, timeout: float) -> bool:
        """Collect delivered messages until one has ``content``; False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                frame = self.frames.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return False
            if frame.get("type") == "message":
                self.messages.append((frame["sequence"], frame["data"]["content"]))
                if frame["data"]["content"] == content:
                    return True
        return False

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(5)


@pytest.fixture(autouse=True)
def _node_and_ws() -> None:
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (ROOT / "sdk/js/node_modules/ws").is_dir():
        pytest.skip("run `npm ci` in sdk/js for the ws package")


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def _post(
    http: httpx.Client, api: str, conversation_id: str, content: str, private: bool = False
) -> None:
    response = http.post(
        f"{api}/conversations/{conversation_id}/messages",
        json={
            "content": content,
            "authorType": "agent",
            "authorId": DEVELOPMENT_AGENT_ID,
            "private": private,
        },
    )
    assert response.status_code == 201, response.text


def test_inbox_continues_past_replay_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'campfire.db'}"
    migrate.upgrade(url)
    server = start_server(url, tmp_path, env={"CAMPFIRE_REALTIME_REPLAY_LIMIT": "20"})
    client = InboxRealtime(f"127.0.0.1:{server.port}", f"mailbox:{MAILBOX_ID}")
    missed = [f"missed {number}" for number in range(45)]
    try:
        with httpx.Client(headers=HEADERS, timeout=15) as http:
            created = http.post(
                f"{server.api}/conversations",
                json={"customerId": "c_inbox_replay", "mailboxId": MAILBOX_ID},
            )
            conversation_id = created.json()["id"]
            client.wait_subscribed()
            _post(http, server.api, conversation_id, "before")
            assert client.wait_for("before", 10)

            # 45 events missed while away need three replays of at most 20.
            client.command("drop")
            for content in missed:
                _post(http, server.api, conversation_id, content)
            client.command("resume")
            client.wait_for(missed[-1], 20)
    finally:
        client.stop()
        server.stop()

    contents = [content for _, content in client.messages]
    assert [content for content in contents if content.startswith("missed ")] == missed


def test_inbox_continues_past_hidden_events(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'campfire.db'}"
    migrate.upgrade(url)
    env = {
        "CAMPFIRE_REALTIME_REPLAY_LIMIT": "20",
        # The test posts more than the default 60 messages a minute.
        "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
    }
    server = start_server(url, tmp_path, env=env)
    missed = ["missed 0", "missed 1", "missed 2"]
    client = None
    try:
        with httpx.Client(headers=HEADERS, timeout=15) as http:
            customer_id = "c_inbox_hidden"
            session = http.post(
                f"{server.api}/widget/session",
                json={"mailboxId": MAILBOX_ID, "customerId": customer_id},
                headers={"Authorization": f"Bearer {DEVELOPMENT_PUBLISHABLE_KEY}"},
            )
            assert session.status_code == 201, session.text
            created = http.post(
                f"{server.api}/conversations",
                json={"customerId": customer_id, "mailboxId": MAILBOX_ID},
            )
            conversation_id = created.json()["id"]
            # A customer token, because its socket is never sent internal notes.
            client = InboxRealtime(
                f"127.0.0.1:{server.port}",
                f"conversation:{conversation_id}",
                token=session.json()["token"],
            )
            client.wait_subscribed()
            _post(http, server.api, conversation_id, "before")
            assert client.wait_for("before", 10)

            # Each run of 41 internal notes fills at least one replay of 20
            # log events with nothing this socket is sent.
            client.command("drop")
            for content in missed:
                for note in range(41):
                    _post(http, server.api, conversation_id, f"note {note}", private=True)
                _post(http, server.api, conversation_id, content)
            client.command("resume")
            client.wait_for(missed[-1], 30)
    finally:
        if client is not None:
            client.stop()
        server.stop()

    assert [content for _, content in client.messages] == ["before", *missed]


def test_inbox_replays_redis_outage_gap(tmp_path: Path, private_redis: PrivateRedis) -> None:
    url = f"sqlite:///{tmp_path / 'campfire.db'}"
    migrate.upgrade(url)
    env = {"CAMPFIRE_REDIS_URL": private_redis.url}
    first = start_server(url, tmp_path, env=env)
    second = start_server(url, tmp_path, env=env)
    posted: list[str] = []
    client = None
    try:
        with httpx.Client(headers=HEADERS, timeout=15) as http:
            created = http.post(f"{first.api}/conversations", json={"customerId": "c_inbox_gap"})
            conversation_id = created.json()["id"]
            client = InboxRealtime(f"127.0.0.1:{first.port}", f"conversation:{conversation_id}")
            client.wait_subscribed()

            def post(content: str) -> None:
                _post(http, second.api, conversation_id, content)
                posted.append(content)

            post("before the outage")
            assert client.wait_for("before the outage", 10)

            private_redis.stop()
            for number in range(3):
                post(f"during the outage {number}")

            # The second server publishes again once it has reconnected to Redis.
            private_redis.start()
            recovered = False
            deadline = time.monotonic() + 30
            attempt = 0
            while time.monotonic() < deadline and not recovered:
                attempt += 1
                post(f"after the outage {attempt}")
                recovered = client.wait_for(f"after the outage {attempt}", 2)
            assert recovered, "events from the other server never came back"
            for number in range(2):
                post(f"after recovery {number}")
            assert client.wait_for("after recovery 1", 10)
    finally:
        if client is not None:
            client.stop()
        first.stop()
        second.stop()

    assert [content for _, content in client.messages] == posted
    sequences = [sequence for sequence, _ in client.messages]
    assert sequences == sorted(set(sequences))


def test_inbox_names_socket_limit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'campfire.db'}"
    migrate.upgrade(url)
    server = start_server(url, tmp_path, env={"CAMPFIRE_RATE_LIMIT_WEBSOCKET_CONNECTIONS": "1"})
    host = f"127.0.0.1:{server.port}"
    holder = InboxRealtime(host, f"mailbox:{MAILBOX_ID}")
    rejected = None
    try:
        holder.wait_subscribed()
        rejected = InboxRealtime(host, f"mailbox:{MAILBOX_ID}")
        state = rejected.frames.get(timeout=10)
        while state.get("type") != "state":
            state = rejected.frames.get(timeout=10)
    finally:
        holder.stop()
        if rejected is not None:
            rejected.stop()
        server.stop()

    assert state["state"] == "limited"
    assert state["detail"]["limit"] == 1
    assert 1 <= state["detail"]["retryInSeconds"] <= 15
