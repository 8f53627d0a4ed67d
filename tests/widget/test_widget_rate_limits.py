"""The widget names the rate limit that a real server's 429 reports.

The server's 429 carries ``details.name``: ``widgetSessionsPerMinute`` per
client address, ``messagesPerMinute`` per conversation, or
``requestsPerMinute`` per credential. Each test starts from a server with a
small limit and checks the banner text and the ``error`` event in Chromium.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from campfire_server import clock
from campfire_server.app import create_app
from campfire_server.clock import FrozenClock
from campfire_server.db import migrate
from tests.conftest import LiveServer, free_port, start_server
from tests.conftest import test_settings as make_settings
from tests.helpers import served_in_thread

from .conftest import (
    MAILBOX_ID,
    BrowserErrors,
    HostSite,
    api_client,
    events_named,
    host_page,
    require_operation,
    require_session,
)

MESSAGES_PER_MINUTE = 2
REQUESTS_PER_MINUTE = 40
BANNER = ".error[role='alert'] span"


def wait_phrase(retry_after: int) -> str:
    """Return the English wait the widget shows for ``retry_after`` seconds."""
    return "1 second" if retry_after == 1 else f"{retry_after} seconds"


def limited_server(directory: Path, **limits: int) -> LiveServer:
    """Start a development server whose rate limits are ``limits`` (setting name: value)."""
    url = f"sqlite:///{directory / 'campfire.db'}"
    migrate.upgrade(url)
    env = {f"CAMPFIRE_RATE_LIMIT_{name.upper()}": str(value) for name, value in limits.items()}
    return start_server(url, directory, env=env)


@pytest.fixture(scope="module")
def widget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A server with 2 messages per conversation and 40 requests per credential a minute."""
    server = limited_server(
        tmp_path_factory.mktemp("widget-limits"),
        messages_per_minute=MESSAGES_PER_MINUTE,
        requests_per_minute=REQUESTS_PER_MINUTE,
    )
    yield server
    server.stop()


@dataclass(frozen=True)
class SpentSessions:
    """A server that allows one widget session a minute, whose session is already taken."""

    server: LiveServer
    key: str


@pytest.fixture
def sessions_spent(
    browser_errors: BrowserErrors, host_site: HostSite, tmp_path: Path
) -> Iterator[SpentSessions]:
    server = limited_server(tmp_path, widget_sessions_per_minute=1)
    try:
        key = create_publishable_key(server, host_site.base_url)
        # The one session of this minute from 127.0.0.1 goes to another visitor.
        assert open_session(server, key, host_site.base_url, "c_first").status_code == 201
        browser_errors.allow_http(429, f"{server.api}/widget/session")
        yield SpentSessions(server, key)
    finally:
        server.stop()


@pytest.fixture
def widget_key(widget_server: LiveServer, host_site: HostSite, api_paths: set[str]) -> str:
    """A publishable key of ``widget_server`` for the host site's origin."""
    require_session(api_paths)
    return create_publishable_key(widget_server, host_site.base_url)


def create_publishable_key(server: LiveServer, origin: str) -> str:
    with api_client(server) as api:
        response = api.post(
            "/keys",
            json={
                "name": "widget rate limit tests",
                "kind": "publishable",
                "mailboxIds": [MAILBOX_ID],
                "allowedOrigins": [origin],
            },
        )
    assert response.status_code == 201, response.text
    return response.json()["key"]


def open_session(server: LiveServer, key: str, origin: str, customer_id: str) -> httpx.Response:
    """Open a widget session as the host page would, from 127.0.0.1."""
    return httpx.post(
        f"{server.api}/widget/session",
        json={"mailboxId": MAILBOX_ID, "customerId": customer_id},
        headers={"Authorization": f"Bearer {key}", "Origin": origin},
        timeout=15,
    )


async def load_widget(context: Any, site: HostSite, server: LiveServer, key: str, customer: str):
    page = await context.new_page()
    await page.goto(site.add(host_page(server, {"customerId": customer}, key=key)))
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    return page


async def type_message(page: Any, text: str) -> None:
    await page.locator("textarea[aria-label='Message']").fill(text)
    await page.keyboard.press("Enter")


async def wait_for_errors(page: Any, count: int) -> list[dict[str, Any]]:
    await page.wait_for_function(
        "n => window.__events.filter(e => e.name === 'error').length >= n", arg=count
    )
    return await events_named(page, "error")


async def test_session_limit_is_not_called_messages(
    context: Any, host_site: HostSite, sessions_spent: SpentSessions
) -> None:
    server, key = sessions_spent.server, sessions_spent.key
    page = await load_widget(context, host_site, server, key, "c_second")
    opened = (await wait_for_errors(page, 1))[0]
    assert opened["context"] == "session"
    assert opened["status"] == 429
    assert opened["message"].startswith("Too many chats were started from your network")
    assert opened["limit"] == "widgetSessionsPerMinute"

    assert await page.locator(".send").is_disabled()
    # The composer waits out Retry-After, but the host page's sendMessage still sends.
    await page.evaluate("window.Campfire.sendMessage('Hello, one message only').catch(() => 0)")
    sent = (await wait_for_errors(page, 2))[1]
    assert sent["context"] == "message"
    assert sent["limit"] == "widgetSessionsPerMinute"
    assert 1 <= sent["retryAfter"] <= 60
    expected = (
        "Too many chats were started from your network — please wait "
        f"{wait_phrase(sent['retryAfter'])} and try again."
    )
    assert sent["message"] == expected
    assert await page.locator(BANNER).inner_text() == expected
    assert "messages" not in sent["message"]
    assert await page.locator(".send").is_disabled()
    assert "Not sent." in await page.locator(".msg.customer .failed").inner_text()


async def test_message_limit_names_messages(
    context: Any,
    browser_errors: BrowserErrors,
    widget_server: LiveServer,
    host_site: HostSite,
    widget_key: str,
) -> None:
    key = widget_key
    browser_errors.allow_http(429, "/messages")
    page = await load_widget(context, host_site, widget_server, key, "c_messages")
    for number in range(MESSAGES_PER_MINUTE):
        await type_message(page, f"Message {number + 1}")
        await page.wait_for_function(
            "n => window.__events.filter(e => e.name === 'message:sent').length >= n",
            arg=number + 1,
        )

    await type_message(page, "One message too many")
    error = (await wait_for_errors(page, 1))[0]
    assert error["context"] == "message"
    assert error["status"] == 429
    assert error["limit"] == "messagesPerMinute"
    wait = wait_phrase(error["retryAfter"])
    expected = f"Too many messages — please wait {wait} and try again."
    assert error["message"] == expected
    assert await page.locator(BANNER).inner_text() == expected


async def test_rating_errors_name_rating(
    context: Any,
    browser_errors: BrowserErrors,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    widget_key: str,
) -> None:
    require_operation(api_paths, "POST /api/v2/conversations/{}/satisfaction", "a rating")
    key = widget_key
    page = await load_widget(context, host_site, widget_server, key, "c_rating")
    await type_message(page, "Thanks, that solved it")
    await page.wait_for_function("window.__events.some(e => e.name === 'message:sent')")
    conversation_id = (await events_named(page, "message:sent"))[0]["conversationId"]
    with api_client(widget_server) as api:
        resolved = api.patch(f"/conversations/{conversation_id}", json={"status": "resolved"})
    assert resolved.status_code == 200, resolved.text
    rating = page.locator(".rating")
    await rating.wait_for(state="visible", timeout=20_000)

    # Spend the customer's request budget with a second token of the same customer.
    session = open_session(widget_server, key, host_site.base_url, "c_rating")
    assert session.status_code == 201, session.text
    customer = {"Authorization": f"Bearer {session.json()['token']}"}
    statuses = [
        httpx.get(
            f"{widget_server.api}/conversations/{conversation_id}", headers=customer
        ).status_code
        for _ in range(REQUESTS_PER_MINUTE)
    ]
    assert statuses[-1] == 429
    browser_errors.allow_http(429, "/satisfaction")

    await page.locator(".stars button[aria-label='Rate 4 out of 5']").click()
    await rating.locator(".rate-send").click()
    error = (await wait_for_errors(page, 1))[0]
    assert error["context"] == "rating"
    wait = wait_phrase(error["retryAfter"])
    expected = f"Too many requests — please wait {wait} and try again."
    assert error["message"] == expected
    assert error["limit"] == "requestsPerMinute"
    assert await page.locator(BANNER).inner_text() == expected
    assert await rating.locator(".rate-send").is_enabled()


async def test_rejected_session_is_not_blamed_on_message(
    context: Any,
    browser_errors: BrowserErrors,
    widget_server: LiveServer,
    host_site: HostSite,
    widget_key: str,
) -> None:
    """A 400 on the session comes from the page's widget settings, not from the visitor's text."""
    key = widget_key
    browser_errors.allow_http(400, "/widget/session")
    page = await context.new_page()
    # customerHash without customerId is a 400 VALIDATION_ERROR on the session.
    await page.goto(host_site.add(host_page(widget_server, {"customerHash": "ab12"}, key=key)))
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    await type_message(page, "Hello")

    errors = await wait_for_errors(page, 2)
    unavailable = "Chat isn\u2019t available on this page right now."
    assert [error["context"] for error in errors] == ["session", "message"]
    assert [error["status"] for error in errors] == [400, 400]
    assert [error["message"] for error in errors] == [unavailable, unavailable]
    assert await page.locator(BANNER).inner_text() == unavailable


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("pt", "Muitas conversas foram iniciadas a partir da sua rede"),
        ("it", "Troppe chat avviate dalla tua rete"),
        ("nl", "Te veel chats gestart vanaf uw netwerk"),
    ],
)
async def test_session_limit_in_locale(
    context: Any, host_site: HostSite, sessions_spent: SpentSessions, locale: str, text: str
) -> None:
    page = await context.new_page()
    config = {"customerId": "c_second", "locale": locale}
    await page.goto(host_site.add(host_page(sessions_spent.server, config, key=sessions_spent.key)))
    await page.locator(".launcher").click()
    opened = (await wait_for_errors(page, 1))[0]
    assert opened["limit"] == "widgetSessionsPerMinute"
    assert opened["message"].startswith(text)
    assert text in await page.locator(BANNER).inner_text()


@dataclass(frozen=True)
class ThreadServer:
    """A server on a thread of this process, so that the test can move its clock."""

    base_url: str

    @property
    def api(self) -> str:
        return f"{self.base_url}/api/v2"


@pytest.fixture
def frozen_clock_server(tmp_path: Path) -> Iterator[tuple[ThreadServer, FrozenClock]]:
    """A server with 2 messages per conversation a minute, on a clock the test moves.

    The clock starts a minute behind the wall clock, so the tokens it issues
    are valid for PyJWT, which reads the wall clock, after the test moves it.
    """
    url = f"sqlite:///{tmp_path / 'campfire.db'}"
    migrate.upgrade(url)
    frozen = FrozenClock(time.time_ns() // 1_000_000 - 60_000)
    previous = clock.set_clock(frozen)
    settings = make_settings(
        url,
        rate_limit_messages_per_minute=MESSAGES_PER_MINUTE,
        rate_limit_requests_per_minute=REQUESTS_PER_MINUTE,
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    try:
        with served_in_thread(config):
            yield ThreadServer(f"http://127.0.0.1:{port}"), frozen
    finally:
        clock.set_clock(previous)


async def test_last_second_reads_one_second(
    context: Any,
    browser_errors: BrowserErrors,
    frozen_clock_server: tuple[ThreadServer, FrozenClock],
    host_site: HostSite,
) -> None:
    """A 429 in the last second of the minute's window names "1 second", not a plural."""
    server, frozen = frozen_clock_server
    key = create_publishable_key(server, host_site.base_url)
    browser_errors.allow_http(429, "/messages")
    page = await load_widget(context, host_site, server, key, "c_last_second")
    # The window of the conversation's messages starts with its first message.
    for number in range(MESSAGES_PER_MINUTE):
        await type_message(page, f"Message {number + 1}")
        await page.wait_for_function(
            "n => window.__events.filter(e => e.name === 'message:sent').length >= n",
            arg=number + 1,
        )
    send = "window.Campfire.sendMessage('Still there?').then(() => true, () => false)"

    # 59 s into the window, one second of it is left.
    frozen.advance(59)
    rejected = not await page.evaluate(send)
    errors = await wait_for_errors(page, 1)
    banner = await page.locator(BANNER).inner_text()
    # At the end of the window the message is accepted.
    frozen.advance(1)
    accepted = await page.evaluate(send)

    assert rejected
    assert len(errors) == 1
    assert errors[0]["limit"] == "messagesPerMinute"
    assert errors[0]["retryAfter"] == 1
    expected = "Too many messages — please wait 1 second and try again."
    assert errors[0]["message"] == expected
    assert expected in banner
    assert accepted
