"""A message to a closed or resolved conversation from the widget in Chromium.

A customer message reopens a resolved conversation. A closed conversation
takes no more messages (409 CONVERSATION_CLOSED), so the widget starts a new
conversation with the message, and a reload resumes that one.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer

from .conftest import (
    QUIET_MAILBOX_ID,
    BrowserErrors,
    HostSite,
    api_client,
    events_named,
    host_page,
)

SHADOW = "document.querySelector('campfire-widget').shadowRoot"


async def open_widget(
    context: Any, site: HostSite, server: LiveServer, key: str, config: dict[str, Any]
) -> Any:
    page = await context.new_page()
    await page.goto(site.add(host_page(server, config, key=key)))
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    return page


async def send(page: Any, text: str, count: int) -> dict[str, Any]:
    """Send ``text`` from the composer and return the ``count``-th message:sent event."""
    await page.locator("textarea[aria-label='Message']").fill(text)
    await page.keyboard.press("Enter")
    await page.wait_for_function(
        "count => window.__events.filter(e => e.name === 'message:sent').length >= count",
        arg=count,
    )
    return (await events_named(page, "message:sent"))[count - 1]


def message_texts(server: LiveServer, conversation_id: str) -> list[str]:
    with api_client(server) as api:
        response = api.get(f"/conversations/{conversation_id}/messages")
    assert response.status_code == 200, response.text
    return [message["content"] for message in response.json()["data"]]


def set_status(server: LiveServer, conversation_id: str, status: str) -> None:
    with api_client(server) as api:
        response = api.patch(f"/conversations/{conversation_id}", json={"status": status})
    assert response.status_code == 200, response.text


async def test_closed_conversation_starts_new_one(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    browser_errors: BrowserErrors,
    quiet_key: str,
) -> None:
    # The first attempt gets the 409 after which the widget starts a new conversation.
    browser_errors.allow_http(409, "/messages")
    config = {"customerId": "c_closed_restart", "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, widget_server, quiet_key, config)
    first = await send(page, "My parcel is late", 1)
    closed_id = first["conversationId"]
    set_status(widget_server, closed_id, "closed")

    second = await send(page, "It arrived damaged too", 2)
    new_id = second["conversationId"]
    assert new_id != closed_id
    assert second["content"] == "It arrived damaged too"
    assert message_texts(widget_server, new_id) == ["It arrived damaged too"]
    assert message_texts(widget_server, closed_id) == ["My parcel is late"]
    started = await events_named(page, "conversation:started")
    assert [event["conversationId"] for event in started] == [closed_id, new_id]
    assert await events_named(page, "error") == []
    assert await page.locator(".msg .failed").count() == 0
    assert await page.locator(".msg.pending").count() == 0
    assert await page.evaluate(f"{SHADOW}.querySelector('.error').hidden")
    # The rating prompt belonged to the closed conversation.
    assert await page.evaluate(f"{SHADOW}.querySelector('.rating').hidden")

    # The new conversation takes the next message too.
    third = await send(page, "Order 1234", 3)
    assert third["conversationId"] == new_id

    await page.reload()
    await page.locator(".launcher").click()
    customer = page.locator(".msg.customer .body")
    await page.locator(".msg.customer", has_text="Order 1234").wait_for()
    assert await customer.all_inner_texts() == ["It arrived damaged too", "Order 1234"]


async def test_resolved_conversation_reopens(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    quiet_key: str,
) -> None:
    config = {"customerId": "c_resolved_reopen", "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, widget_server, quiet_key, config)
    first = await send(page, "How do I reset my password?", 1)
    conversation_id = first["conversationId"]
    set_status(widget_server, conversation_id, "resolved")
    await page.locator(".rating").wait_for(state="visible")

    second = await send(page, "The reset link expired", 2)
    assert second["conversationId"] == conversation_id
    with api_client(widget_server) as api:
        conversation = api.get(f"/conversations/{conversation_id}").json()
    assert conversation["status"] == "open"
    assert message_texts(widget_server, conversation_id) == [
        "How do I reset my password?",
        "The reset link expired",
    ]
    assert len(await events_named(page, "conversation:started")) == 1
