"""The inbox's Queue and Mailbox lists past their first page of 100, in Chromium."""

from __future__ import annotations

from typing import Any

from .conftest import MAILBOX_ID, BrowserErrors, InboxServer, sign_in
from .test_inbox_flow import PASSWORD, create_agent

# More queued conversations than one page of the inbox's lists holds.
CONVERSATIONS = 105
PAGE_SIZE = 100


def create_queued_conversations(server: InboxServer, count: int) -> None:
    """Open ``count`` conversations and hand each off with a skill no agent has."""
    with server.admin() as admin:
        for number in range(count):
            created = admin.post(
                "/conversations",
                json={
                    "customerId": f"customer_pages_{number}",
                    "mailboxId": MAILBOX_ID,
                    "subject": f"Paged conversation {number}",
                },
            )
            assert created.status_code == 201, created.text
            handoff = admin.post(
                f"/conversations/{created.json()['id']}/handoff",
                json={"reason": "needs a lawyer", "requiredSkills": ["legal"]},
            )
            assert handoff.status_code == 201, handoff.text
            assert handoff.json()["status"] == "queued"


def listed_ids(server: InboxServer, path: str, params: dict[str, str]) -> tuple[list[str], int]:
    """Return every conversation id of an API list in its order, and the list's total."""
    ids: list[str] = []
    cursor = None
    total = 0
    with server.admin() as admin:
        while True:
            query = {**params, "limit": str(PAGE_SIZE)}
            if cursor:
                query["cursor"] = cursor
            page = admin.get(path, params=query)
            assert page.status_code == 200, page.text
            body = page.json()
            ids.extend(item.get("conversationId", item["id"]) for item in body["data"])
            total = body["pagination"]["total"]
            if not body["pagination"]["hasMore"]:
                return ids, total
            cursor = body["pagination"]["nextCursor"]


async def check_second_page(page: Any, view: str, ids: list[str], total: int) -> None:
    """Check that the list shows its true total and reaches its 101st item through "Load more"."""
    tab = page.locator(f"[data-view={view}]")
    await tab.click()
    await page.locator(f"[data-view={view}] .count", has_text=str(total)).wait_for()
    assert (await tab.locator(".count").inner_text()) == str(total)

    items = page.locator(f"[data-list={view}] [data-conversation]")
    await items.nth(PAGE_SIZE - 1).wait_for()
    assert await items.count() == PAGE_SIZE
    beyond = page.locator(f"[data-list={view}] [data-conversation='{ids[PAGE_SIZE]}']")
    assert await beyond.count() == 0

    load_more = page.locator("[data-action=load-more]")
    assert f"{PAGE_SIZE} of {total}" in await load_more.inner_text()
    await load_more.click()
    await beyond.wait_for()
    assert await items.count() == total
    assert await load_more.count() == 0

    await beyond.click()
    await page.locator(".conversation").wait_for()
    assert await beyond.get_attribute("aria-current") == "true"


async def test_lists_load_past_first_page(
    context: Any, inbox_server: InboxServer, browser_errors: BrowserErrors
) -> None:
    create_queued_conversations(inbox_server, CONVERSATIONS)
    queue_ids, queue_total = listed_ids(inbox_server, "/handoffs", {"status": "queued"})
    open_ids, open_total = listed_ids(
        inbox_server, "/conversations", {"mailboxId": MAILBOX_ID, "status": "open"}
    )
    assert queue_total >= CONVERSATIONS
    assert len(queue_ids) == queue_total
    assert open_total >= CONVERSATIONS
    assert len(open_ids) == open_total

    agent = create_agent(inbox_server)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await sign_in(page, inbox_server, agent["email"], PASSWORD)
    await page.locator(".socket-online").wait_for()

    await check_second_page(page, "queue", queue_ids, queue_total)
    await check_second_page(page, "open", open_ids, open_total)
    assert errors == []
