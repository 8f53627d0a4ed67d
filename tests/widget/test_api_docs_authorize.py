"""The interactive API docs offer an Authorize button for the declared bearer schemes."""

from __future__ import annotations

from typing import Any

from tests.conftest import LiveServer


async def test_docs_authorize_button_shows(widget_server: LiveServer, browser: Any) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(f"{widget_server.api}/docs")
        authorize = page.locator("button.authorize").first
        await authorize.wait_for(timeout=20_000)
        await authorize.click()
        dialog = page.locator(".modal-ux")
        await dialog.wait_for(timeout=10_000)
        text = await dialog.inner_text()
    finally:
        await context.close()

    assert "secretKey" in text
    assert "agentToken" in text
    assert "widgetToken" in text
    assert "publishableKey" in text
