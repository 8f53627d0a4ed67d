"""Take the widget screenshots shown in docs/widget.md.

Starts a development server on a temporary SQLite file, opens the demo page
in headless Chromium and saves four states of the widget under docs/:
closed, open, answered and handed off. Usage:
``python scripts/widget_screenshots.py``.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.async_api import TimeoutError as PlaywrightTimeout
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
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
ADMIN = {"Authorization": "Bearer test_sk_123456789"}
QUESTION = "How do I downgrade my plan?"
# The widget's corner of a 1280 x 800 page.
CLIP = {"x": 840, "y": 150, "width": 440, "height": 650}
SHADOW = "document.querySelector('campfire-widget').shadowRoot"
# The demo page's Content-Security-Policy has no 'unsafe-eval', so Chromium
# refuses to evaluate a plain expression string inside the page. Every
# predicate below is an arrow function, which Playwright calls instead.


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "CAMPFIRE_ENV": "development",
        "CAMPFIRE_DATABASE_URL": f"sqlite:///{directory / 'screenshots.db'}",
        "CAMPFIRE_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "campfire_server.cli", "serve", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v2/openapi.json", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the development server did not start within 30 s")


async def take(base: str) -> None:
    api = httpx.Client(base_url=f"{base}/api/v2", headers=ADMIN, timeout=15)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        await page.goto(f"{base}/")
        await page.locator(".launcher").wait_for(state="visible")
        await page.screenshot(path=DOCS / "widget-closed.png", clip=CLIP)

        await page.locator(".launcher").click()
        await page.locator(".panel").wait_for(state="visible")
        await page.wait_for_timeout(300)
        await page.screenshot(path=DOCS / "widget-open.png", clip=CLIP)

        await page.locator("textarea[aria-label='Message']").fill(QUESTION)
        await page.keyboard.press("Enter")
        # The demo page logs each widget event as a line of JSON.
        find_started = (
            "() => Array.from(document.querySelectorAll('#event-log div'))"
            ".map(n => n.textContent).find(text => text.includes('conversation:started'))"
        )
        await page.wait_for_function(find_started)
        started = await page.evaluate(find_started)
        conversation_id = started.split('"conversationId":"', 1)[1].split('"', 1)[0]
        try:
            await page.wait_for_function(
                f"() => {SHADOW}.querySelectorAll('.msg.ai[data-id^=msg_]').length > 0",
                timeout=40_000,
            )
        except PlaywrightTimeout:
            # NOTE: a server without the answer engine never replies; post a
            # sample answer so the screenshot still shows how one looks.
            print("no AI answer arrived within 40 s; posting a sample answer through the API")
            api.post(
                f"/conversations/{conversation_id}/messages",
                json={
                    "authorType": "ai",
                    "content": "Plan downgrades are done by the support team on request. "
                    "Tell us which plan you want and it takes effect at the start of your "
                    "next billing period.",
                    "metadata": {"sources": [
                        {"title": "Billing FAQ", "url": "/docs/billing-faq", "relevance": 0.93}
                    ]},
                },
            ).raise_for_status()
            await page.wait_for_function(
                f"() => {SHADOW}.querySelectorAll('.msg.ai[data-id^=msg_]').length > 0",
                timeout=20_000,
            )
        await page.wait_for_timeout(300)
        await page.screenshot(path=DOCS / "widget-answered.png", clip=CLIP)

        # An online agent takes the handoff at once.
        api.post(
            "/agents",
            json={"id": "agent_maya", "name": "Maya Lopez", "status": "online", "capacity": 3},
        ).raise_for_status()
        api.post(
            f"/conversations/{conversation_id}/handoff",
            json={"reason": "Customer asked to downgrade", "priority": "medium"},
        ).raise_for_status()
        api.post(
            f"/conversations/{conversation_id}/messages",
            json={
                "authorType": "agent",
                "authorId": "agent_maya",
                "content": "Hi, I can do that for you. Which plan would you like?",
            },
        ).raise_for_status()
        await page.locator(".status[role='status']").wait_for(state="visible", timeout=20_000)
        await page.wait_for_function(
            f"() => {SHADOW}.querySelectorAll('.msg.agent').length > 0", timeout=20_000
        )
        await page.wait_for_timeout(300)
        await page.screenshot(path=DOCS / "widget-handed-off.png", clip=CLIP)
        await browser.close()
    api.close()


def main() -> int:
    DOCS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as directory:
        process, base = start_server(Path(directory))
        try:
            asyncio.run(take(base))
        finally:
            process.terminate()
            process.wait(10)
    for name in ("closed", "open", "answered", "handed-off"):
        print(DOCS / f"widget-{name}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
