"""The agent inbox in Chromium against a live server: sign in, take a queued
conversation, talk to a widget customer live, resolve and receive the rating.

Set CAMPFIRE_INBOX_SCREENSHOTS to a folder (``docs``) to save the screenshots
that docs/inbox.md shows.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

import httpx

from .conftest import BrowserErrors, InboxServer, open_widget_session, sign_in

PASSWORD = "inbox password 1"
QUESTION = "How do I update my billing details? My card was charged twice this month."
XSS = '<img src=x onerror="window.__xss=1">'
_counter = itertools.count()


async def screenshot(page: Any, name: str) -> None:
    folder = os.environ.get("CAMPFIRE_INBOX_SCREENSHOTS")
    if folder:
        await page.screenshot(path=str(Path(folder) / f"inbox-{name}.png"))


def create_agent(server: InboxServer, **fields: Any) -> dict[str, Any]:
    number = next(_counter)
    body = {
        "id": f"agent_inbox_{number}",
        "name": f"Robin Inbox {number}",
        "email": f"robin{number}@example.test",
        "password": PASSWORD,
        **fields,
    }
    with server.admin() as admin:
        response = admin.post("/agents", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def queued_conversation(server: InboxServer, customer_id: str, subject: str) -> tuple[Any, str]:
    """Open a widget conversation and hand it off with a skill nobody has, so it stays queued."""
    customer = open_widget_session(server, customer_id)
    with httpx.Client(base_url=server.api, headers=customer.headers, timeout=15) as http:
        created = http.post(
            "/conversations",
            json={
                "customerId": customer.customer_id,
                "mailboxId": "mailbox_456",
                "subject": subject,
                "metadata": {"plan": "team", "referrer": "https://shop.example/pricing"},
            },
        )
        assert created.status_code == 201, created.text
        conversation_id = created.json()["id"]
    with server.admin() as admin:
        handoff = admin.post(
            f"/conversations/{conversation_id}/handoff",
            json={"priority": "high", "reason": "wants a refund", "requiredSkills": ["legal"]},
        )
        assert handoff.status_code == 201, handoff.text
        assert handoff.json()["status"] == "queued"
    return customer, conversation_id


async def test_sign_in_rejects_wrong_password(
    context: Any, inbox_server: InboxServer, browser_errors: BrowserErrors
) -> None:
    browser_errors.allow_http(401, "/api/v2/auth/login")
    agent = create_agent(inbox_server)
    page = await context.new_page()
    await sign_in(page, inbox_server, agent["email"], "not the password")
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert await alert.inner_text() == "the email or password is incorrect"
    await screenshot(page, "sign-in")


async def test_take_reply_resolve_and_rating(
    context: Any, inbox_server: InboxServer, browser_errors: BrowserErrors
) -> None:
    # The inbox reads the rating once when the conversation is resolved, and
    # that read is a 404 until the customer rates.
    browser_errors.allow_http(404, "/satisfaction")
    agent = create_agent(inbox_server)
    customer, conversation_id = queued_conversation(
        inbox_server, "customer_inbox_flow", "Refund for a double charge"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    rating_reads: list[str] = []
    page.on(
        "request",
        lambda request: (
            rating_reads.append(request.url) if request.url.endswith("/satisfaction") else None
        ),
    )

    await sign_in(page, inbox_server, agent["email"], PASSWORD)
    await page.locator(".socket-online").wait_for()
    # Opening the inbox's socket brings the agent online (presence); then the
    # agent steps away and comes back by hand.
    status = page.get_by_label("My status")
    await page.locator(f"[data-agent='{agent['id']}']", has_text="online").wait_for()
    with inbox_server.admin() as admin:
        assert admin.get(f"/agents/{agent['id']}").json()["status"] == "online"
    for chosen in ("away", "online"):
        await status.select_option(chosen)
        await page.locator(f"[data-agent='{agent['id']}']", has_text=chosen).wait_for()
        with inbox_server.admin() as admin:
            assert admin.get(f"/agents/{agent['id']}").json()["status"] == chosen
    queue_item = page.locator(f"[data-list=queue] [data-conversation='{conversation_id}']")
    await queue_item.wait_for()
    assert "waiting" in await queue_item.inner_text()
    assert "high" in (await queue_item.inner_text()).lower()
    await screenshot(page, "queue")

    # Take it from the queue: the handoff is assigned and it moves to "Mine".
    await queue_item.click()
    await page.locator("[data-action=take]").click()
    await page.locator("[data-field=assignee]", has_text=agent["name"]).wait_for()
    await page.locator("[data-view=mine] .count", has_text="1").wait_for()
    await queue_item.wait_for(state="detached")
    with inbox_server.admin() as admin:
        handoff = admin.get(f"/conversations/{conversation_id}/handoff").json()
    assert handoff["status"] == "assigned"
    assert handoff["agentId"] == agent["id"]

    # The customer writes; the message and the typing arrive live.
    await customer.listen(inbox_server.api, conversation_id)
    try:
        await customer.typing(conversation_id, True)
        await page.locator(".typing", has_text="Customer typing").wait_for()
        with httpx.Client(base_url=inbox_server.api, headers=customer.headers, timeout=15) as http:
            sent = http.post(
                f"/conversations/{conversation_id}/messages",
                json={"content": f"{QUESTION} {XSS}", "authorType": "customer"},
            )
            assert sent.status_code == 201, sent.text
        customer_message = page.locator(f"[data-message='{sent.json()['id']}'] .body")
        await customer_message.wait_for()
        assert await customer_message.inner_text() == f"{QUESTION} {XSS}"
        assert await page.evaluate("window.__xss") is None

        # An internal note, then a reply typed after pressing r.
        await page.locator("body").press("n")
        await page.keyboard.type("Checked billing: duplicate charge confirmed")
        await page.locator("[data-action=send]").click()
        note = page.locator(".msg-note .body", has_text="duplicate charge confirmed")
        await note.wait_for()
        assert await page.locator(".msg-note .note-badge").count() == 1

        # r focuses the reply box; the AI suggestion fills it and the agent edits it.
        await page.locator(".history").click()
        await page.keyboard.press("r")
        focused = await page.evaluate("document.activeElement.getAttribute('aria-label')")
        assert focused == "Reply"
        await page.locator("[data-action=draft]").click()
        await page.locator(".draft").wait_for()
        composer = page.get_by_role("textbox", name="Reply")
        suggested = await composer.input_value()
        assert suggested.strip()
        await screenshot(page, "conversation")
        await composer.press("Control+End")
        await page.keyboard.type(" The second charge is refunded.")
        await page.locator("[data-action=send]").click()
        reply_frame = await customer.wait_for(
            lambda frame: frame["type"] == "message" and frame["data"]["authorType"] == "agent"
        )
        reply = suggested + " The second charge is refunded."
        assert reply_frame["data"]["content"] == reply
        assert reply_frame["data"]["authorId"] == agent["id"]
        await page.locator(".draft").wait_for(state="detached")
    finally:
        await customer.close()
    notes = [frame for frame in customer.frames if "duplicate charge" in str(frame)]
    assert notes == []
    with httpx.Client(base_url=inbox_server.api, headers=customer.headers, timeout=15) as http:
        seen = http.get(f"/conversations/{conversation_id}/messages").json()["data"]
    contents = [message["content"] for message in seen]
    assert reply in contents
    assert not any("duplicate charge" in content for content in contents)

    # Resolve with the keyboard, then the customer's rating arrives on the socket.
    await page.locator(".history").click()
    async with page.expect_response(lambda response: "/satisfaction" in response.url) as read:
        await page.keyboard.press("e")
    assert (await read.value).status == 404
    await page.locator("[data-field=status]", has_text="resolved").wait_for()
    with httpx.Client(base_url=inbox_server.api, headers=customer.headers, timeout=15) as http:
        rated = http.post(
            f"/conversations/{conversation_id}/satisfaction",
            json={"rating": 5, "comment": "Quick and kind"},
        )
        assert rated.status_code in (200, 201), rated.text
    rating = page.locator("[data-field=rating]")
    await rating.wait_for()
    assert "5/5" in await rating.inner_text()
    assert len(rating_reads) == 1
    await screenshot(page, "resolved")
    assert errors == []


async def test_viewer_cannot_reply(
    context: Any, inbox_server: InboxServer, browser_errors: BrowserErrors
) -> None:
    browser_errors.allow_http(403, "/messages")
    _, conversation_id = queued_conversation(inbox_server, "customer_viewer", "Viewer check")
    with inbox_server.admin() as admin:
        issued = admin.post("/auth/tokens", json={"role": "viewer", "subject": "auditor"})
        assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    session = {
        "token": token,
        "expiresAt": issued.json()["expiresAt"],
        "organizationId": "org_development",
        "agent": {"id": "auditor", "name": "Auditor", "email": None, "status": "offline"},
    }
    page = await context.new_page()
    await page.goto(inbox_server.inbox_url)
    await page.evaluate(
        "session => sessionStorage.setItem('campfire.inbox.session', JSON.stringify(session))",
        session,
    )
    await page.reload()
    item = page.locator(f"[data-list=queue] [data-conversation='{conversation_id}']")
    await item.click()
    await page.get_by_role("textbox", name="Reply").fill("A viewer should not be able to send this")
    await page.locator("[data-action=send]").click()
    alert = page.locator(".conversation .error")
    await alert.wait_for()
    assert "viewer role may not" in await alert.inner_text()

    response = httpx.post(
        f"{inbox_server.api}/conversations/{conversation_id}/messages",
        json={"content": "still not allowed", "authorType": "agent"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert response.status_code == 403
    with inbox_server.admin() as admin:
        messages = admin.get(f"/conversations/{conversation_id}/messages").json()["data"]
    assert all("viewer" not in message["content"] for message in messages)


async def test_other_organization_sees_nothing(context: Any, inbox_server: InboxServer) -> None:
    _, conversation_id = queued_conversation(inbox_server, "customer_private", "Private matter")
    inbox_server.cli("orgs", "create", "--name", "Elsewhere", "--id", "org_elsewhere")
    outsider = inbox_server.cli(
        "agents",
        "create",
        "--org",
        "org_elsewhere",
        "--name",
        "Olive Outsider",
        "--email",
        "olive@elsewhere.test",
        "--password",
        PASSWORD,
    )
    assert outsider["hasPassword"] is True

    page = await context.new_page()
    await sign_in(page, inbox_server, "olive@elsewhere.test", PASSWORD)
    await page.locator(".socket-online").wait_for()
    await page.locator("[data-view=queue] .count", has_text="0").wait_for()
    assert await page.locator("[data-conversation]").count() == 0
    await page.locator("[data-view=open]").click()
    await page.wait_for_timeout(500)
    assert await page.locator("[data-conversation]").count() == 0
    team = await page.locator(".team").inner_text()
    assert "Robin" not in team

    token = await page.evaluate(
        "JSON.parse(sessionStorage.getItem('campfire.inbox.session')).token"
    )
    response = httpx.get(
        f"{inbox_server.api}/conversations/{conversation_id}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=15,
    )
    assert response.status_code == 404

    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_label("Email").wait_for()
    stored = await page.evaluate("sessionStorage.getItem('campfire.inbox.session')")
    assert stored is None


async def test_tablet_layout(
    browser: Any, inbox_server: InboxServer, browser_errors: BrowserErrors
) -> None:
    agent = create_agent(inbox_server)
    _, conversation_id = queued_conversation(inbox_server, "customer_tablet", "Tablet layout")
    tablet = await browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    browser_errors.watch(tablet)
    tablet.set_default_timeout(15_000)
    try:
        page = await tablet.new_page()
        await sign_in(page, inbox_server, agent["email"], PASSWORD)
        item = page.locator(f"[data-list=queue] [data-conversation='{conversation_id}']")
        await item.tap()
        # One column: the list gives way to the conversation, and Back returns to it.
        await page.locator(".conversation h1", has_text="Tablet layout").wait_for()
        assert not await page.locator(".lists").is_visible()
        await page.get_by_role("button", name="Customer").tap()
        await page.locator(".details.open").wait_for()
        customer_id = await page.locator("[data-field=customerId]").inner_text()
        assert customer_id == "customer_tablet"
        await screenshot(page, "tablet")
        await page.locator(".details-close").tap()
        await page.get_by_role("button", name="← Back").tap()
        await item.wait_for()
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 768
    finally:
        await tablet.close()
    assert browser_errors.found == []


async def test_take_conflict_names_agent(
    context: Any, inbox_server: InboxServer, browser_errors: BrowserErrors
) -> None:
    browser_errors.allow_http(409, "/api/v2/conversations/")
    agent = create_agent(inbox_server)
    holder = create_agent(inbox_server, status="offline")
    _customer, conversation_id = queued_conversation(
        inbox_server, "customer_inbox_conflict", "Conflicting take"
    )
    page = await context.new_page()
    await sign_in(page, inbox_server, agent["email"], PASSWORD)
    await page.locator(f"[data-agent='{holder['id']}']").wait_for()
    queue_item = page.locator(f"[data-list=queue] [data-conversation='{conversation_id}']")
    await queue_item.click()
    await page.locator("[data-action=take]").wait_for()

    # Another agent takes it while this page still shows the Take button.
    with inbox_server.admin() as admin:
        assigned = admin.patch(
            f"/conversations/{conversation_id}", json={"assignedAgentId": holder["id"]}
        )
        assert assigned.status_code == 200, assigned.text
    await page.locator("[data-action=take]").click()

    alert = page.locator("main.conversation [role=alert]")
    await alert.wait_for()
    assert await alert.inner_text() == (
        f"{holder['name']} already has this conversation; ask an admin to reassign it"
    )
    assert holder["id"] not in await alert.inner_text()
    await page.locator("[data-field=assignee]", has_text=holder["name"]).wait_for()
