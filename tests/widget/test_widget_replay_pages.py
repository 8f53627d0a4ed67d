"""A widget replay longer than the replay limit, over internal notes it is never sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from campfire_server.db import migrate
from campfire_server.development import DEVELOPMENT_AGENT_ID
from tests.conftest import LiveServer, start_server

from .conftest import HostSite, api_client, require_realtime
from .test_widget_realtime_gap import hear_again, open_deaf_widget, post_agent_message


@pytest.fixture(scope="module")
def widget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A development server whose replays send at most 20 events."""
    directory = tmp_path_factory.mktemp("widget-replay-server")
    url = f"sqlite:///{directory / 'campfire.db'}"
    migrate.upgrade(url)
    env = {
        "CAMPFIRE_REALTIME_REPLAY_LIMIT": "20",
        # The test posts more than the default 60 messages a minute.
        "CAMPFIRE_RATE_LIMIT_MESSAGES_PER_MINUTE": "100000",
    }
    server = start_server(url, directory, env=env)
    yield server
    server.stop()


def post_internal_note(server: LiveServer, conversation_id: str, content: str) -> None:
    with api_client(server) as api:
        response = api.post(
            f"/conversations/{conversation_id}/messages",
            json={
                "content": content,
                "authorType": "agent",
                "authorId": DEVELOPMENT_AGENT_ID,
                "private": True,
            },
        )
    assert response.status_code == 201, response.text


async def test_widget_replay_continues_past_notes(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    realtime_available: bool,
    quiet_key: str,
) -> None:
    require_realtime(realtime_available, "a replay cannot be tested")
    page, conversation_id = await open_deaf_widget(
        context, widget_server, host_site, quiet_key, "c_replay_notes"
    )

    # The open socket misses every frame while each run of 41 internal notes
    # fills at least one replay of 20 log events with nothing a customer is sent.
    await page.evaluate("window.__deaf = true")
    missed = [f"missed {number}" for number in range(3)]
    for content in missed:
        for note in range(41):
            post_internal_note(widget_server, conversation_id, f"note {note}")
        post_agent_message(widget_server, conversation_id, content)
    await page.wait_for_timeout(500)

    await hear_again(page, widget_server, conversation_id, missed, ["later"])


# Records the data of every "subscribed" reply that the widget's sockets
# receive while they are not deaf, to show which replays ran.
SUBSCRIBED_TAP = """
(() => {
  window.__subscribed = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        if (window.__deaf) return;
        const frame = JSON.parse(event.data);
        if (frame.type === 'subscribed') window.__subscribed.push(frame.data || {});
      });
    }
  };
})();
"""


async def test_widget_replays_more_than_limit(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    realtime_available: bool,
    quiet_key: str,
) -> None:
    require_realtime(realtime_available, "a replay cannot be tested")
    await context.add_init_script(SUBSCRIBED_TAP)
    page, conversation_id = await open_deaf_widget(
        context, widget_server, host_site, quiet_key, "c_replay_many"
    )

    # The open socket misses 45 agent replies, more than two replays of 20 events.
    await page.evaluate("window.__deaf = true")
    missed = [f"missed {number}" for number in range(45)]
    for content in missed:
        post_agent_message(widget_server, conversation_id, content)
    await page.wait_for_timeout(500)
    replies_before = await page.evaluate("window.__subscribed.length")

    await hear_again(page, widget_server, conversation_id, missed, ["later"])
    replies = (await page.evaluate("window.__subscribed"))[replies_before:]
    # Two full replays continued from their nextSince, then the rest.
    assert [reply["replayed"] for reply in replies[:2]] == [20, 20]
    assert [reply["hasMore"] for reply in replies] == [True, True, False]
    assert replies[1]["nextSince"] > replies[0]["nextSince"]
    assert sum(reply["replayed"] for reply in replies) >= len(missed)
    shown = await page.locator(".msg.agent .body").all_inner_texts()
    assert shown == ["first", *missed, "later"]
