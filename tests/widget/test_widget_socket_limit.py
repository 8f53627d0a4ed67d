"""The visitor sees when the organization's socket limit (close code 4429) keeps live updates away.

A real server allows the organization one socket, which the test holds, so
the widget's socket is closed with 4429. The widget then polls, shows the
localized banner and clears it once a later socket subscribes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import websockets

from campfire_server.auth.keys import DEVELOPMENT_KEY
from tests.conftest import LiveServer

from .conftest import HostSite, events_named, host_page
from .test_widget_rate_limits import BANNER, create_publishable_key, limited_server, type_message

LIVE_BUSY = {
    "en": "Live chat is busy right now, so new replies may take a few seconds to appear.",
    "fr": (
        "Le chat en direct est saturé : les nouvelles réponses peuvent mettre quelques "
        "secondes à s\u2019afficher."
    ),
}


async def hold_socket(server: LiveServer) -> Any:
    """Open and authenticate a socket of the development organization, taking its one slot."""
    socket = await websockets.connect(f"ws://127.0.0.1:{server.port}/api/v2/realtime")
    await socket.send(json.dumps({"type": "auth", "token": DEVELOPMENT_KEY}))
    frame = json.loads(await socket.recv())
    assert frame["type"] == "authenticated", frame
    return socket


async def open_chat(context: Any, site: HostSite, server: LiveServer, key: str, locale: str):
    """Load the widget in ``locale`` and send a message, which opens its conversation's socket."""
    page = await context.new_page()
    config = {"customerId": f"c_socket_{locale}", "locale": locale}
    await page.goto(site.add(host_page(server, config, key=key)))
    await page.locator(".launcher").click()
    await type_message(page, "Is anyone there?")
    await page.wait_for_function("window.__events.some(e => e.name === 'message:sent')")
    return page


async def realtime_error(page: Any) -> dict[str, Any]:
    await page.wait_for_function(
        "window.__events.some(e => e.name === 'error' && e.data.context === 'realtime')"
    )
    errors = await events_named(page, "error")
    return [error for error in errors if error["context"] == "realtime"][0]


async def test_socket_limit_shown_to_visitor(
    context: Any, host_site: HostSite, tmp_path: Path
) -> None:
    server = limited_server(tmp_path, websocket_connections=1)
    pages: dict[str, Any] = {}
    try:
        key = create_publishable_key(server, host_site.base_url)
        held = await hold_socket(server)

        for locale in LIVE_BUSY:
            pages[locale] = await open_chat(context, host_site, server, key, locale)
        for locale, page in pages.items():
            error = await realtime_error(page)
            assert error["status"] == 429, (locale, error)
            assert error["limit"] == "websocketConnections", locale
            assert error["message"] == LIVE_BUSY[locale], locale
            assert await page.locator(BANNER).inner_text() == LIVE_BUSY[locale], locale
            # The limit does not stop the visitor from writing.
            assert await page.locator(".send").is_enabled(), locale

        # With the slot free again, the next attempt (within about 4 s) subscribes.
        await held.close()
        await pages["en"].locator(BANNER).wait_for(state="hidden", timeout=20_000)
    finally:
        # Closed first, so no widget reconnects to the stopped server.
        for page in pages.values():
            await page.close()
        server.stop()


async def test_socket_limit_logged_once_per_episode(
    context: Any, host_site: HostSite, tmp_path: Path
) -> None:
    server = limited_server(tmp_path, websocket_connections=1)
    page = None
    try:
        key = create_publishable_key(server, host_site.base_url)
        held = await hold_socket(server)
        sockets: list[Any] = []
        warnings: list[str] = []
        page = await context.new_page()
        page.on("websocket", lambda socket: sockets.append(socket))
        page.on(
            "console",
            lambda message: message.type == "warning" and warnings.append(message.text),
        )
        config = {"customerId": "c_socket_once", "locale": "en"}
        await page.goto(host_site.add(host_page(server, config, key=key)))
        await page.locator(".launcher").click()
        await type_message(page, "Is anyone there?")

        # Three refused sockets (the retries back off about 1 s, then 2 s).
        for _ in range(200):
            if len(sockets) >= 3 and sockets[2].is_closed():
                break
            await page.wait_for_timeout(100)
        assert len(sockets) >= 3
        assert sockets[2].is_closed()

        limit_warnings = [text for text in warnings if "realtime failed" in text]
        assert len(limit_warnings) == 1, warnings
        errors = [
            error for error in await events_named(page, "error") if error["context"] == "realtime"
        ]
        assert len(errors) == 1, errors
        assert await page.locator(BANNER).inner_text() == LIVE_BUSY["en"]
        await held.close()
    finally:
        if page is not None:
            await page.close()
        server.stop()
