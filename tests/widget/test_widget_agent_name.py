"""The widget keeps naming the assigned agent after a reload, in Chromium.

A customer token may not read agents, so after a reload the name can only
come from the handoff that ``GET /conversations/{id}/handoff`` returns.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer

from .conftest import (
    QUIET_MAILBOX_ID,
    HostSite,
    api_client,
    host_page,
    require_operation,
    require_realtime,
    wait_for_event,
)

JOINED = "Maya has joined the conversation."
STATUS_IS_JOINED = (
    "document.querySelector('campfire-widget').shadowRoot"
    f".querySelector('.status').textContent === {JOINED!r}"
)


async def open_widget(
    context: Any, site: HostSite, server: LiveServer, key: str, config: dict[str, Any]
) -> Any:
    page = await context.new_page()
    await page.goto(site.add(host_page(server, config, key=key)))
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    return page


async def test_reload_keeps_agent_name(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    realtime_available: bool,
    quiet_key: str,
) -> None:
    require_operation(api_paths, "POST /api/v2/conversations/{}/handoff", "handoff")
    require_realtime(realtime_available, "the assignment cannot arrive live")
    with api_client(widget_server) as api:
        agent = api.post("/agents", json={"id": "agent_maya", "name": "Maya", "status": "online"})
    assert agent.status_code == 201, agent.text
    config = {"customerId": "c_agent_name", "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, widget_server, quiet_key, config)
    await page.locator("textarea[aria-label='Message']").fill("Can a person help me?")
    await page.keyboard.press("Enter")
    conversation_id = (await wait_for_event(page, "message:sent"))["conversationId"]

    with api_client(widget_server) as api:
        handoff = api.post(f"/conversations/{conversation_id}/handoff", json={"reason": "asked"})
        assert handoff.status_code == 201, handoff.text
        assert handoff.json()["agentName"] == "Maya"
        reply = api.post(
            f"/conversations/{conversation_id}/messages",
            json={"content": "Hi, Maya here.", "authorType": "agent", "authorId": "agent_maya"},
        )
        assert reply.status_code == 201, reply.text
        # Maya goes away, so she keeps this handoff but gets no later one.
        away = api.patch("/agents/agent_maya", json={"status": "away"})
        assert away.status_code == 200, away.text

    status = page.locator(".status[role='status']")
    await page.wait_for_function(STATUS_IS_JOINED, timeout=15_000)
    assert await status.inner_text() == JOINED
    label = page.locator(".msg.agent .who")
    await label.wait_for()
    assert await label.inner_text() == "Maya"

    await page.reload()
    await page.locator(".launcher").click()
    await page.locator(".msg.agent").wait_for()
    await page.wait_for_function(STATUS_IS_JOINED, timeout=15_000)
    assert await status.inner_text() == JOINED
    assert await label.inner_text() == "Maya"
    # Restoring the assignment is not a new event.
    events = await page.evaluate("window.__events")
    assert [event for event in events if event["name"].startswith("handoff")] == []
