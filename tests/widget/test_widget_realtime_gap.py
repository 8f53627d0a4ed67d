"""Message frames that never reached the widget's open socket are replayed in order."""

from __future__ import annotations

from typing import Any

from campfire_server.development import DEVELOPMENT_AGENT_ID
from tests.conftest import LiveServer

from .conftest import (
    QUIET_MAILBOX_ID,
    HostSite,
    api_client,
    events_named,
    require_realtime,
)
from .test_widget_missed_handoffs import DEAF_SOCKETS, open_widget, send


def post_agent_message(server: LiveServer, conversation_id: str, content: str) -> None:
    with api_client(server) as api:
        response = api.post(
            f"/conversations/{conversation_id}/messages",
            json={"content": content, "authorType": "agent", "authorId": DEVELOPMENT_AGENT_ID},
        )
    assert response.status_code == 201, response.text


async def received_contents(page: Any) -> list[str]:
    return [data["content"] for data in await events_named(page, "message:received")]


async def open_deaf_widget(
    context: Any, server: LiveServer, host_site: HostSite, key: str, customer_id: str
) -> tuple[Any, str]:
    """Open a widget whose sockets can be made deaf, with one agent reply received."""
    await context.add_init_script(DEAF_SOCKETS)
    config = {"customerId": customer_id, "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, server, key, config)
    conversation_id = await send(page, "Hello")
    post_agent_message(server, conversation_id, "first")
    await page.wait_for_function(
        "window.__events.some(e => e.name === 'message:received' && e.data.content === 'first')"
    )
    return page, conversation_id


async def hear_again(
    page: Any, server: LiveServer, conversation_id: str, missed: list[str], later: list[str]
) -> None:
    """Make the deaf sockets hear again, post ``later`` live, and check what the widget received.

    The first live frame skips the missed sequences, so the widget replays
    them. Every reply must arrive once and in order, on the one socket.
    """
    await page.evaluate("window.__deaf = false")
    for content in later:
        post_agent_message(server, conversation_id, content)

    await page.wait_for_function(
        "last => window.__events.some("
        "e => e.name === 'message:received' && e.data.content === last)",
        arg=later[-1],
        timeout=30_000,
    )
    await page.wait_for_timeout(500)
    assert await received_contents(page) == ["first", *missed, *later]
    assert await page.evaluate("window.__sockets.length") == 1


async def test_widget_replays_lost_frames(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    realtime_available: bool,
    quiet_key: str,
) -> None:
    require_realtime(realtime_available, "a lost frame cannot be tested")
    page, conversation_id = await open_deaf_widget(
        context, widget_server, host_site, quiet_key, "c_lost_frames"
    )

    # The open socket misses three frames, as it does while Redis is down
    # between the server process that posts and the one with the socket.
    await page.evaluate("window.__deaf = true")
    missed = [f"missed {number}" for number in range(3)]
    for content in missed:
        post_agent_message(widget_server, conversation_id, content)
    await page.wait_for_timeout(500)

    await hear_again(page, widget_server, conversation_id, missed, ["later 0", "later 1"])
