"""The text of a widget message: invisible characters and the reasons for a rejection.

The widget removes control characters other than tab and line feed before
sending, so a pasted NUL or BEL neither blocks the message nor reaches the
agent. A message that the API still rejects names the reason in the
visitor's language.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer

from .conftest import (
    QUIET_MAILBOX_ID,
    BrowserErrors,
    HostSite,
    api_client,
    events_named,
    host_page,
    require_session,
)

BANNER = ".error[role='alert'] span"
SHADOW = "document.querySelector('campfire-widget').shadowRoot"


async def open_panel(
    context: Any, site: HostSite, server: LiveServer, key: str, config: dict[str, Any]
) -> Any:
    page = await context.new_page()
    await page.goto(site.add(host_page(server, {"mailboxId": QUIET_MAILBOX_ID, **config}, key=key)))
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    return page


async def type_message(page: Any, text: str) -> None:
    await page.locator(".compose textarea").fill(text)
    await page.keyboard.press("Enter")


async def wait_for_first(page: Any, name: str) -> dict[str, Any]:
    await page.wait_for_function("name => window.__events.some(e => e.name === name)", arg=name)
    return (await events_named(page, name))[0]


def stored_contents(server: LiveServer, conversation_id: str) -> list[str]:
    with api_client(server) as api:
        response = api.get(f"/conversations/{conversation_id}/messages")
    assert response.status_code == 200, response.text
    return [message["content"] for message in response.json()["data"]]


async def test_control_characters_removed_before_sending(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    quiet_key: str,
) -> None:
    require_session(api_paths)
    page = await open_panel(context, host_site, widget_server, quiet_key, {"customerId": "c_nul"})
    await type_message(page, "a\x00b\x07c\x1b\x7f\x85\td\ne")

    sent = await wait_for_first(page, "message:sent")
    assert sent["content"] == "abc\td\ne"
    assert await events_named(page, "error") == []
    assert stored_contents(widget_server, sent["conversationId"]) == ["abc\td\ne"]
    bubble = await page.evaluate(f"{SHADOW}.querySelector('.msg.customer .body').textContent")
    assert bubble == "abc\td\ne"


async def test_carriage_returns_become_line_feeds(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    quiet_key: str,
) -> None:
    require_session(api_paths)
    page = await open_panel(context, host_site, widget_server, quiet_key, {"customerId": "c_cr"})
    await page.evaluate("window.Campfire.sendMessage('one\\r\\ntwo\\rthree')")

    sent = await wait_for_first(page, "message:sent")
    assert sent["content"] == "one\ntwo\nthree"


async def test_unpaired_surrogate_sent_as_replacement(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    quiet_key: str,
) -> None:
    require_session(api_paths)
    page = await open_panel(
        context, host_site, widget_server, quiet_key, {"customerId": "c_surrogate"}
    )
    # A lone high surrogate, a lone low one, and a valid pair (U+1F600).
    await page.evaluate("window.Campfire.sendMessage('a\\ud800b\\udc00c\\ud83d\\ude00')")

    sent = await wait_for_first(page, "message:sent")
    assert sent["content"] == "a\ufffdb\ufffdc\U0001f600"
    assert await events_named(page, "error") == []


async def test_only_control_characters_not_sent(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    quiet_key: str,
) -> None:
    require_session(api_paths)
    page = await open_panel(context, host_site, widget_server, quiet_key, {"customerId": "c_bel"})
    await type_message(page, "\x07\x00")
    await type_message(page, "after the bell")

    sent = await wait_for_first(page, "message:sent")
    assert sent["content"] == "after the bell"
    assert stored_contents(widget_server, sent["conversationId"]) == ["after the bell"]
    assert await page.locator(".msg.customer").count() == 1


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "That message has no visible text. Please write something and try again."),
        ("fr", "Ce message n\u2019a aucun texte visible. Écrivez quelque chose et réessayez."),
        ("ja", "メッセージに表示される文字がありません。何か入力してもう一度お試しください。"),
    ],
)
async def test_invisible_message_names_reason(
    context: Any,
    browser_errors: BrowserErrors,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    quiet_key: str,
    locale: str,
    expected: str,
) -> None:
    require_session(api_paths)
    browser_errors.allow_http(400, "/messages")
    config = {"customerId": f"c_invisible_{locale}", "locale": locale}
    page = await open_panel(context, host_site, widget_server, quiet_key, config)
    # Zero-width spaces pass the composer's trim(), but the API rejects
    # text without a visible character.
    await type_message(page, "\u200b\u200b")

    error = await wait_for_first(page, "error")
    assert error["context"] == "message"
    assert error["status"] == 400
    assert error["code"] == "VALIDATION_ERROR"
    assert error["message"] == expected
    assert await page.locator(BANNER).inner_text() == expected
