"""The inbox names a widget customer by the name and email the widget sent, in Chromium."""

from __future__ import annotations

from typing import Any

import httpx

from .conftest import BrowserErrors, InboxServer, open_widget_session, sign_in
from .test_inbox_flow import PASSWORD, XSS, create_agent

EMAIL = "ana@example.test"


def queued_without_subject(server: InboxServer, customer_id: str, **identity: str) -> str:
    """Open a widget conversation without a subject, queue its handoff and return its id."""
    customer = open_widget_session(server, customer_id, **identity)
    with httpx.Client(base_url=server.api, headers=customer.headers, timeout=15) as http:
        created = http.post(
            "/conversations", json={"customerId": customer.customer_id, "mailboxId": "mailbox_456"}
        )
        assert created.status_code == 201, created.text
        conversation_id = created.json()["id"]
    with server.admin() as admin:
        handoff = admin.post(
            f"/conversations/{conversation_id}/handoff",
            json={"reason": "asked", "requiredSkills": ["legal"]},
        )
        assert handoff.status_code == 201, handoff.text
    return conversation_id


async def test_queue_and_panel_show_customer(
    context: Any, inbox_server: InboxServer, browser_errors: BrowserErrors
) -> None:
    agent = create_agent(inbox_server)
    name = f"Ana {XSS}"
    named = queued_without_subject(inbox_server, "customer_named", name=name, email=EMAIL)
    plain = queued_without_subject(inbox_server, "customer_plain")
    page = await context.new_page()
    await sign_in(page, inbox_server, agent["email"], PASSWORD)

    named_item = page.locator(f"[data-list=queue] [data-conversation='{named}']")
    await named_item.wait_for()
    assert f"Conversation with {name}" in await named_item.inner_text()
    plain_item = page.locator(f"[data-list=queue] [data-conversation='{plain}']")
    await plain_item.wait_for()
    assert "Conversation with customer_plain" in await plain_item.inner_text()

    await named_item.click()
    await page.locator(".conversation h1", has_text=f"Conversation with {name}").wait_for()
    assert await page.locator("[data-field=customerName]").inner_text() == name
    assert await page.locator("[data-field=customerEmail]").inner_text() == EMAIL
    assert await page.locator("[data-field=customerId]").inner_text() == "customer_named"

    await plain_item.click()
    await page.locator(".conversation h1", has_text="Conversation with customer_plain").wait_for()
    assert await page.locator("[data-field=customerName]").count() == 0
    assert await page.locator("[data-field=customerEmail]").count() == 0
    # The name is shown as text, never run as markup.
    assert await page.evaluate("window.__xss") is None
    assert browser_errors.found == []
