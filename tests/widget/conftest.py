"""Browser fixtures: one live server, one host-page server and one Chromium per module.

Host pages are served from a second port on 127.0.0.1, so the widget always
runs cross-origin, as it does on an integrator's site.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from campfire_server.auth.keys import DEVELOPMENT_KEY, DEVELOPMENT_PUBLISHABLE_KEY
from campfire_server.db import migrate
from tests.conftest import LiveServer, start_server

playwright_api = pytest.importorskip("playwright.async_api")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MAILBOX_ID = "mailbox_456"
QUIET_MAILBOX_ID = "mailbox_quiet"
ADMIN_HEADERS = {"Authorization": f"Bearer {DEVELOPMENT_KEY}"}

# Records every widget event in window.__events; loaded after widget.js.
EVENT_RECORDER = """
window.__events = [];
['conversation:started', 'message:received', 'message:sent', 'handoff:requested',
 'handoff:assigned', 'widget:opened', 'widget:closed', 'error'].forEach(function (name) {
  window.Campfire.on(name, function (data) { window.__events.push({name: name, data: data}); });
});
"""


@pytest.fixture(scope="module")
def widget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A development server on its own SQLite file, with the demo organization seeded."""
    directory = tmp_path_factory.mktemp("widget-server")
    url = f"sqlite:///{directory / 'campfire.db'}"
    migrate.upgrade(url)
    server = start_server(url, directory)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api_paths(widget_server: LiveServer) -> set[str]:
    """The server's OpenAPI operations as ``METHOD /path`` with parameter names erased."""
    document = httpx.get(f"{widget_server.api}/openapi.json", timeout=10).json()
    operations = set()
    for path, methods in document.get("paths", {}).items():
        for method in methods:
            operations.add(f"{method.upper()} {re.sub(r'{[^}]+}', '{}', path)}")
    return operations


def require_operation(api_paths: set[str], operation: str, what: str) -> None:
    """Skip the test when ``operation`` (``METHOD /path`` with ``{}``) is not served yet."""
    if operation not in api_paths:
        pytest.skip(f"{operation} is not served by this build yet, so {what} cannot be tested")


@pytest.fixture(scope="module")
def realtime_available(widget_server: LiveServer) -> bool:
    """Whether the server accepts WebSocket connections at /api/v2/realtime."""
    from websockets.sync.client import connect

    try:
        with connect(widget_server.api.replace("http", "ws", 1) + "/realtime", open_timeout=5):
            return True
    except Exception:
        return False


def require_session(api_paths: set[str]) -> None:
    require_operation(api_paths, "POST /api/v2/widget/session", "a widget session")


@pytest.fixture(scope="module")
def publishable_key(widget_server: LiveServer, host_site: HostSite, api_paths: set[str]) -> str:
    """A publishable key for the development mailbox that host pages' origin may use.

    Servers without key management get the fixed development key; the tests
    that need a session skip on them anyway.
    """
    if "POST /api/v2/keys" not in api_paths:
        return DEVELOPMENT_PUBLISHABLE_KEY
    with api_client(widget_server) as api:
        response = api.post(
            "/keys",
            json={
                "name": "widget tests",
                "kind": "publishable",
                "mailboxIds": [MAILBOX_ID],
                "allowedOrigins": [host_site.base_url],
            },
        )
    assert response.status_code == 201, response.text
    return response.json()["key"]


def require_realtime(realtime_available: bool, what: str) -> None:
    if not realtime_available:
        pytest.skip(f"the realtime WebSocket /api/v2/realtime is not served yet, so {what}")


@pytest.fixture(scope="module")
def quiet_key(widget_server: LiveServer, host_site: HostSite, api_paths: set[str]) -> str:
    """A publishable key for a mailbox without AI replies, so no answer races the test."""
    require_session(api_paths)
    with api_client(widget_server) as api:
        mailbox = api.post(
            "/mailboxes",
            json={"id": QUIET_MAILBOX_ID, "name": "Quiet", "settings": {"autoReply": False}},
        )
        assert mailbox.status_code == 201, mailbox.text
        response = api.post(
            "/keys",
            json={
                "name": "widget tests, quiet mailbox",
                "kind": "publishable",
                "mailboxIds": [QUIET_MAILBOX_ID],
                "allowedOrigins": [host_site.base_url],
            },
        )
    assert response.status_code == 201, response.text
    return response.json()["key"]


# Host pages -------------------------------------------------------------------


@dataclass
class HostSite:
    """Pages registered by tests, served from another origin than the API."""

    base_url: str
    pages: dict[str, tuple[bytes, dict[str, str]]] = field(default_factory=dict)
    counter: int = 0

    def add(self, html: str, headers: dict[str, str] | None = None) -> str:
        self.counter += 1
        path = f"/page-{self.counter}.html"
        self.pages[path] = (html.encode(), headers or {})
        return self.base_url + path


@pytest.fixture(scope="module")
def host_site() -> Iterator[HostSite]:
    site = HostSite("")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server dispatches to
            path = self.path.split("?", 1)[0]
            if path == "/favicon.ico":
                # Chromium requests an icon from every site, and a 404 would be a console error.
                self.send_response(204)
                self.end_headers()
                return
            if path not in site.pages:
                self.send_error(404)
                return
            body, headers = site.pages[path]
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


def host_page(
    server: LiveServer,
    config: dict[str, Any] | None = None,
    *,
    key: str = DEVELOPMENT_PUBLISHABLE_KEY,
    head: str = "",
    body: str = "<h1>Host page</h1><p>Some product copy.</p>",
    nonce: str | None = None,
    record_events: bool = True,
) -> str:
    """Build a host page that pastes the two embed snippets, pointed at ``server``."""
    settings = {
        "apiKey": key,
        "mailboxId": MAILBOX_ID,
        "theme": {"primaryColor": "#3b82f6", "position": "bottom-right"},
    }
    settings.update(config or {})
    nonce_attribute = f' nonce="{nonce}"' if nonce else ""
    recorder = f"<script{nonce_attribute}>{EVENT_RECORDER}</script>" if record_events else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Host page</title>{head}</head>
<body>{body}
<script{nonce_attribute}>
  window.CampfireConfig = {json.dumps(settings)};
</script>
<script src="{server.base_url}/v2/widget.js"{nonce_attribute}></script>
{recorder}
</body></html>"""


# Browser ----------------------------------------------------------------------


@pytest.fixture(scope="module")
async def browser(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM}; install the chromium package")
    async with playwright_api.async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        await instance.close()


@dataclass
class BrowserErrors:
    """Console errors and uncaught exceptions of every page of watched browser contexts.

    Chromium logs a failed request (an HTTP 4xx or 5xx, a refused
    connection) as a console error too, so a stray request fails the test
    as well. A test that provokes an error on purpose names it with
    ``allow``; everything else found at the end of the test fails it.
    """

    found: list[str] = field(default_factory=list)
    allowed: list[tuple[str, str]] = field(default_factory=list)

    def watch(self, browser_context: Any) -> None:
        """Record the errors of every page ``browser_context`` opens, popups included."""
        browser_context.on("page", self._watch_page)

    def _watch_page(self, page: Any) -> None:
        page.on("console", self._record_console)
        page.on("pageerror", lambda error: self.found.append(f"uncaught {error!r}"))

    def _record_console(self, message: Any) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if not any(text in message.text and where in url for text, where in self.allowed):
            self.found.append(f"console error {message.text!r} at {url or 'an unknown place'}")

    def allow(self, text: str, url: str = "") -> None:
        """Accept console errors containing ``text``, logged at a URL containing ``url``."""
        self.allowed.append((text, url))

    def allow_http(self, status: int, url: str) -> None:
        """Accept the console error of a response with ``status`` from a URL containing ``url``."""
        self.allow(f"the server responded with a status of {status}", url)


@pytest.fixture
def browser_errors() -> BrowserErrors:
    return BrowserErrors()


@pytest.fixture
async def context(browser: Any, browser_errors: BrowserErrors) -> AsyncIterator[Any]:
    """A fresh browser profile (storage, cookies) per test, failing it on any browser error."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(15_000)
    browser_errors.watch(ctx)
    yield ctx
    await ctx.close()
    assert not browser_errors.found, "the browser reported errors:\n" + "\n".join(
        browser_errors.found
    )


async def events_named(page: Any, name: str) -> list[dict[str, Any]]:
    events = await page.evaluate("window.__events")
    return [event["data"] for event in events if event["name"] == name]


async def wait_for_event(page: Any, name: str, timeout_ms: int = 15_000) -> dict[str, Any]:
    """Wait until the host page has recorded an event called ``name``; return its data."""
    await page.wait_for_function(
        "name => window.__events.some(e => e.name === name)", arg=name, timeout=timeout_ms
    )
    return (await events_named(page, name))[0]


def api_client(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.api, headers=ADMIN_HEADERS, timeout=15)


# The author of agent messages that tests post with the admin key, which must
# name an agent of the organization. It is offline, so no handoff goes to it.
REPLY_AGENT_ID = "agent_widget_replies"


def reply_agent(api: httpx.Client) -> str:
    """Create the offline agent ``REPLY_AGENT_ID`` unless it exists, and return its id."""
    body = {"id": REPLY_AGENT_ID, "name": "Widget Replies", "status": "offline"}
    response = api.post("/agents", json=body)
    assert response.status_code in (201, 409), response.text
    return REPLY_AGENT_ID


def queue_handoff(
    api: httpx.Client,
    conversation_id: str,
    skill: str,
    statuses: tuple[int, ...] = (201,),
    **fields: Any,
) -> dict[str, Any]:
    """Request a handoff that needs ``skill`` and check that it is queued; return it.

    Use a skill that no agent has, so the handoff stays queued whoever is
    online. ``statuses`` are the accepted response codes: 200 returns a
    handoff already open. ``fields`` are further request fields, such as ``reason``.
    """
    body = {"reason": "Customer asked for a person", **fields, "requiredSkills": [skill]}
    response = api.post(f"/conversations/{conversation_id}/handoff", json=body)
    assert response.status_code in statuses, response.text
    handoff = response.json()
    assert handoff["status"] == "queued"
    return handoff
