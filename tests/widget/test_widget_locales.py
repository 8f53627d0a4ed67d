"""The widget's languages in Chromium: negotiation, plural forms and right-to-left layout."""

from __future__ import annotations

from typing import Any

import pytest

from campfire_server.development import DEVELOPMENT_AGENT_ID
from tests.conftest import LiveServer

from .conftest import (
    QUIET_MAILBOX_ID,
    BrowserErrors,
    HostSite,
    api_client,
    host_page,
    require_realtime,
    wait_for_event,
)

LAUNCHER_LABEL = (
    "document.querySelector('campfire-widget').shadowRoot"
    ".querySelector('.launcher').getAttribute('aria-label')"
)


async def new_page(browser: Any, browser_errors: BrowserErrors, browser_locale: str) -> Any:
    """Open a page in a fresh profile whose preferred language is ``browser_locale``."""
    profile = await browser.new_context(
        locale=browser_locale, viewport={"width": 1280, "height": 800}
    )
    profile.set_default_timeout(15_000)
    browser_errors.watch(profile)
    return await profile.new_page()


@pytest.mark.parametrize(
    ("browser_locale", "config_locale", "title"),
    [
        ("ru-RU", None, "Напишите нам"),
        ("pl-PL", None, "Porozmawiaj z nami"),
        ("zh-CN", None, "联系我们"),
        ("zh-TW", None, "聯絡我們"),
        ("zh-HK", None, "聯絡我們"),
        ("en-US", "zh-Hant", "聯絡我們"),
        ("en-US", "zh-Hans-TW", "联系我们"),
        ("en-US", "zh_tw", "聯絡我們"),
        ("ja-JP", None, "お問い合わせ"),
        ("ko-KR", None, "문의하기"),
        ("ar-EG", None, "تحدث معنا"),
        ("tr-TR", None, "Bize yazın"),
        ("en-US", "pl", "Porozmawiaj z nami"),
        ("en-US", "ru_RU", "Напишите нам"),
        ("ko-KR", "xx", "문의하기"),
        ("sv-SE", None, "Chat with us"),
    ],
)
async def test_locale_negotiation(
    browser: Any,
    browser_errors: BrowserErrors,
    widget_server: LiveServer,
    host_site: HostSite,
    publishable_key: str,
    browser_locale: str,
    config_locale: str | None,
    title: str,
) -> None:
    page = await new_page(browser, browser_errors, browser_locale)
    config = {"locale": config_locale} if config_locale else {}
    try:
        await page.goto(host_site.add(host_page(widget_server, config, key=publishable_key)))
        await page.locator(".launcher").click()

        assert await page.locator(".title").inner_text() == title
    finally:
        await page.context.close()
    assert not browser_errors.found, browser_errors.found


async def test_arabic_panel_right_to_left(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    publishable_key: str,
) -> None:
    page = await context.new_page()
    html = host_page(widget_server, {"locale": "ar"}, key=publishable_key)
    await page.goto(host_site.add(html))
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    panel_direction = await page.locator(".panel").evaluate(
        "node => getComputedStyle(node).direction"
    )
    send = await page.locator(".send").bounding_box()
    textarea = await page.locator(".compose textarea").bounding_box()
    greeting = page.locator(".msg .body").first

    assert panel_direction == "rtl"
    assert await page.locator(".cf").get_attribute("lang") == "ar"
    assert await page.locator(".send").inner_text() == "إرسال"
    # The composer reads from the right: the Send button sits left of the text box.
    assert send["x"] + send["width"] <= textarea["x"]
    assert await greeting.evaluate("node => getComputedStyle(node).direction") == "rtl"


async def test_english_text_in_arabic_panel_ltr(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    quiet_key: str,
) -> None:
    page = await context.new_page()
    config = {"locale": "ar", "customerId": "c_ar_english", "mailboxId": QUIET_MAILBOX_ID}
    await page.goto(host_site.add(host_page(widget_server, config, key=quiet_key)))
    await page.locator(".launcher").click()
    await page.locator(".compose textarea").fill("Where is my order?")
    await page.keyboard.press("Enter")
    await wait_for_event(page, "message:sent")
    panel = page.locator(".panel")
    body = page.locator(".msg.customer .body")

    assert await panel.evaluate("node => getComputedStyle(node).direction") == "rtl"
    assert await body.evaluate("node => getComputedStyle(node).direction") == "ltr"


# Launcher labels after 1, 2 and 5 unread agent messages. Russian and Polish
# have separate few and many forms, and Arabic writes one and two as words.
UNREAD_LABELS = {
    "en": {1: "Open chat, 1 unread message", 2: "Open chat, 2 unread messages"},
    "fr": {1: "Ouvrir le chat, 1 message non lu", 2: "Ouvrir le chat, 2 messages non lus"},
    "ru": {
        1: "Открыть чат, 1 непрочитанное сообщение",
        2: "Открыть чат, 2 непрочитанных сообщения",
        5: "Открыть чат, 5 непрочитанных сообщений",
    },
    "pl": {
        1: "Otwórz czat, 1 nieprzeczytana wiadomość",
        2: "Otwórz czat, 2 nieprzeczytane wiadomości",
        5: "Otwórz czat, 5 nieprzeczytanych wiadomości",
    },
    "ar": {
        1: "فتح المحادثة, رسالة واحدة غير مقروءة",
        2: "فتح المحادثة, رسالتان غير مقروءتين",
        5: "فتح المحادثة, 5 رسائل غير مقروءة",
    },
}


@pytest.mark.parametrize("locale", sorted(UNREAD_LABELS))
async def test_unread_count_plural_forms(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    quiet_key: str,
    realtime_available: bool,
    locale: str,
) -> None:
    require_realtime(realtime_available, "agent messages cannot arrive live")
    page = await context.new_page()
    config = {"locale": locale, "customerId": f"c_unread_{locale}", "mailboxId": QUIET_MAILBOX_ID}
    await page.goto(host_site.add(host_page(widget_server, config, key=quiet_key)))
    await page.locator(".launcher").click()
    await page.locator(".compose textarea").fill("Hello")
    await page.keyboard.press("Enter")
    conversation_id = (await wait_for_event(page, "message:sent"))["conversationId"]
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="hidden")

    labels = {}
    with api_client(widget_server) as api:
        for count in range(1, max(UNREAD_LABELS[locale]) + 1):
            reply = api.post(
                f"/conversations/{conversation_id}/messages",
                json={
                    "content": f"Reply {count}",
                    "authorType": "agent",
                    "authorId": DEVELOPMENT_AGENT_ID,
                },
            )
            assert reply.status_code == 201, reply.text
            await page.locator(".badge").filter(has_text=str(count)).wait_for()
            labels[count] = await page.evaluate(LAUNCHER_LABEL)

    for count, expected in UNREAD_LABELS[locale].items():
        assert labels[count] == expected, count
