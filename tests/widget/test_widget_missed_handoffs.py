"""Handoff events for changes the widget missed while its socket was down or it was polling.

Each handoff event fires once: a refresh announces what changed while the
page was away, and never repeats an event the page already fired.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer

from .conftest import (
    QUIET_MAILBOX_ID,
    HostSite,
    api_client,
    events_named,
    host_page,
    queue_handoff,
    require_operation,
    require_realtime,
    wait_for_event,
)

# Wraps WebSocket so a test can make the page miss frames. While
# window.__deaf is true, incoming frames are dropped before the widget's handler.
DEAF_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.__deaf = false;
  class Tapped extends Native {
    constructor(...args) {
      super(...args);
      window.__sockets.push(this);
    }
    get onmessage() {
      return super.onmessage;
    }
    set onmessage(handler) {
      super.onmessage = handler
        ? (event) => { if (!window.__deaf) handler.call(this, event); }
        : null;
    }
  }
  window.WebSocket = Tapped;
})();
"""


async def open_widget(
    context: Any, site: HostSite, server: LiveServer, key: str, config: dict[str, Any]
) -> Any:
    page = await context.new_page()
    await page.goto(site.add(host_page(server, config, key=key)))
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    return page


async def send(page: Any, text: str) -> str:
    """Send ``text`` from the composer and return the conversation id."""
    await page.locator("textarea[aria-label='Message']").fill(text)
    await page.keyboard.press("Enter")
    sent = await wait_for_event(page, "message:sent")
    return sent["conversationId"]


def create_agent(server: LiveServer, agent_id: str) -> None:
    with api_client(server) as api:
        # The agent is offline, so routing assigns it nothing and only the PATCH does.
        response = api.post("/agents", json={"id": agent_id, "name": "Robin", "status": "offline"})
    assert response.status_code == 201, response.text


def assign(server: LiveServer, conversation_id: str, agent_id: str) -> None:
    with api_client(server) as api:
        response = api.patch(
            f"/conversations/{conversation_id}", json={"assignedAgentId": agent_id}
        )
    assert response.status_code == 200, response.text


async def handoff_names(page: Any) -> list[str]:
    events = await page.evaluate("window.__events")
    return [event["name"] for event in events if event["name"].startswith("handoff:")]


async def test_polling_announces_missed_assignment(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    quiet_key: str,
) -> None:
    require_operation(api_paths, "POST /api/v2/conversations/{}/handoff", "handoff")
    # Without WebSocket the widget polls the conversation every 4 s.
    await context.add_init_script("window.WebSocket = undefined;")
    agent_id = "agent_missed_polling"
    create_agent(widget_server, agent_id)
    config = {"customerId": "c_missed_polling", "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, widget_server, quiet_key, config)
    conversation_id = await send(page, "Can a person look at this?")

    with api_client(widget_server) as api:
        handoff = queue_handoff(api, conversation_id, "missed-polling-skill", reason="asked")
    requested = await wait_for_event(page, "handoff:requested")
    assert requested["conversationId"] == conversation_id
    assert requested["status"] == "queued"

    # Both the conversation and its handoff now name the agent. Polling reads
    # the conversation first, which must not use up the handoff's event.
    assign(widget_server, conversation_id, agent_id)
    assigned = await wait_for_event(page, "handoff:assigned")
    assert assigned["agentId"] == agent_id
    assert assigned["agentName"] == "Robin"
    assert assigned["status"] == "assigned"

    # Two more polls find the same state and fire nothing again.
    await page.wait_for_timeout(9_000)
    assert await handoff_names(page) == ["handoff:requested", "handoff:assigned"]
    with api_client(widget_server) as api:
        current = api.get(f"/conversations/{conversation_id}/handoff").json()
    assert current["id"] == handoff["id"]
    assert current["status"] == "assigned"


async def test_reconnect_announces_missed_assignment(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    realtime_available: bool,
    quiet_key: str,
) -> None:
    require_operation(api_paths, "POST /api/v2/conversations/{}/handoff", "handoff")
    require_realtime(realtime_available, "a reconnect cannot be tested")
    await context.add_init_script(DEAF_SOCKETS)
    agent_id = "agent_missed_socket"
    create_agent(widget_server, agent_id)
    config = {"customerId": "c_missed_socket", "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, widget_server, quiet_key, config)
    conversation_id = await send(page, "Can a person look at this?")
    with api_client(widget_server) as api:
        queue_handoff(api, conversation_id, "missed-socket-skill", reason="asked")
    await wait_for_event(page, "handoff:requested")

    # After a reload the widget restores the queued handoff without events,
    # and subscribes without a sequence to resume from.
    await page.reload()
    await page.locator(".launcher").click()
    status = page.locator(".status[role='status']")
    await status.wait_for(state="visible")
    await page.wait_for_function(
        "window.__sockets.length === 1 && window.__sockets[0].readyState === 1"
    )
    await page.wait_for_timeout(500)
    assert await handoff_names(page) == []

    # The page misses the frames of the assignment, then its socket drops.
    await page.evaluate("window.__deaf = true")
    assign(widget_server, conversation_id, agent_id)
    await page.wait_for_timeout(500)
    assert await handoff_names(page) == []
    await page.evaluate("window.__deaf = false; window.__sockets[0].close()")

    assigned = await wait_for_event(page, "handoff:assigned")
    assert assigned["agentId"] == agent_id
    assert assigned["conversationId"] == conversation_id
    await page.wait_for_function(
        "window.__sockets.length === 2 && window.__sockets[1].readyState === 1"
    )
    await page.wait_for_timeout(1_000)
    # The queued handoff was seen before the reload, so it is not requested again.
    assert await handoff_names(page) == ["handoff:assigned"]
    assert await status.inner_text() == "Robin has joined the conversation."
    assert len(await events_named(page, "handoff:assigned")) == 1
