"""The widget on host pages in Chromium: rendering, keyboard use, isolation, CSP, small screens.

These tests need no conversation, so they run before any session endpoint exists.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import LiveServer

from .conftest import (
    BrowserErrors,
    HostSite,
    events_named,
    host_page,
    require_session,
    wait_for_event,
)

PRIMARY = "rgb(59, 130, 246)"
HOSTILE_CSS = (
    "<style>button{all:unset} *{font-family:serif !important; box-sizing:content-box}"
    " h1{font-size:40px}</style>"
)
NONCE = "n0nceTEST"

# Reads a property inside the widget's shadow root.
SHADOW = "document.querySelector('campfire-widget').shadowRoot"


async def open_host(context: Any, site: HostSite, html: str, headers: dict | None = None) -> Any:
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    await page.goto(site.add(html, headers))
    await page.locator(".launcher").wait_for(state="visible")
    return page


async def test_launcher_bottom_right_in_primary_color(
    context: Any, widget_server: LiveServer, host_site: HostSite
) -> None:
    page = await open_host(context, host_site, host_page(widget_server))
    launcher = page.locator(".launcher")
    box = await launcher.bounding_box()
    assert box is not None
    assert box["width"] == 56
    assert box["height"] == 56
    assert box["x"] + box["width"] == pytest.approx(1280 - 20, abs=1)
    assert box["y"] + box["height"] == pytest.approx(800 - 20, abs=1)
    color = await launcher.evaluate("node => getComputedStyle(node).backgroundColor")
    assert color == PRIMARY
    assert await launcher.get_attribute("aria-label") == "Open chat"
    assert await launcher.get_attribute("aria-expanded") == "false"
    assert page.errors == []


async def test_launcher_bottom_left_and_custom_color(
    context: Any, widget_server: LiveServer, host_site: HostSite
) -> None:
    config = {"theme": {"primaryColor": "#10b981", "position": "bottom-left"}}
    page = await open_host(context, host_site, host_page(widget_server, config))
    launcher = page.locator(".launcher")
    box = await launcher.bounding_box()
    assert box["x"] == pytest.approx(20, abs=1)
    color = await launcher.evaluate("node => getComputedStyle(node).backgroundColor")
    assert color == "rgb(16, 185, 129)"


async def test_invalid_primary_color_falls_back(
    context: Any, widget_server: LiveServer, host_site: HostSite
) -> None:
    config = {"theme": {"primaryColor": "red; background: url(x)"}}
    page = await open_host(context, host_site, host_page(widget_server, config))
    color = await page.locator(".launcher").evaluate(
        "node => getComputedStyle(node).backgroundColor"
    )
    assert color == PRIMARY


async def test_keyboard_opens_and_escape_returns_focus(
    context: Any, widget_server: LiveServer, host_site: HostSite, publishable_key: str
) -> None:
    page = await open_host(context, host_site, host_page(widget_server, key=publishable_key))
    await page.keyboard.press("Tab")
    focused = await page.evaluate(f"{SHADOW}.activeElement.className")
    assert focused == "launcher"

    await page.keyboard.press("Enter")
    panel = page.locator(".panel")
    await panel.wait_for(state="visible")
    assert await page.locator(".launcher").get_attribute("aria-expanded") == "true"
    assert await panel.get_attribute("role") == "dialog"
    assert await page.evaluate(f"{SHADOW}.activeElement.tagName") == "TEXTAREA"
    assert await page.locator("textarea[aria-label='Message']").count() == 1
    assert await page.locator(".close[aria-label='Close chat']").count() == 1

    await page.keyboard.press("Escape")
    await panel.wait_for(state="hidden")
    assert await page.evaluate(f"{SHADOW}.activeElement.className") == "launcher"
    assert await page.locator(".launcher").get_attribute("aria-expanded") == "false"
    events = await page.evaluate("window.__events")
    names = [event["name"] for event in events if event["name"].startswith("widget:")]
    assert names == ["widget:opened", "widget:closed"]


async def test_close_button_and_api_methods(
    context: Any, widget_server: LiveServer, host_site: HostSite, publishable_key: str
) -> None:
    page = await open_host(context, host_site, host_page(widget_server, key=publishable_key))
    await page.evaluate("window.Campfire.open()")
    assert await page.evaluate("window.Campfire.isOpen()") is True
    await page.locator(".close").click()
    assert await page.evaluate("window.Campfire.isOpen()") is False
    await page.evaluate("window.Campfire.toggle()")
    assert await page.evaluate("window.Campfire.isOpen()") is True
    await page.evaluate("window.Campfire.close()")
    assert await page.locator(".panel").is_hidden()

    # off() detaches one callback; an unknown event name is a programming error.
    calls = await page.evaluate(
        """() => {
          let count = 0;
          const callback = () => { count++; };
          window.Campfire.on('widget:opened', callback);
          window.Campfire.open(); window.Campfire.close();
          window.Campfire.off('widget:opened', callback);
          window.Campfire.open(); window.Campfire.close();
          return count;
        }"""
    )
    assert calls == 1
    error = await page.evaluate(
        "() => { try { window.Campfire.on('nope', () => {}); } catch (e) { return e.name; } }"
    )
    assert error == "TypeError"


async def test_throwing_listener_does_not_break_widget(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    publishable_key: str,
    browser_errors: BrowserErrors,
) -> None:
    # The widget logs the host's failing listener as an error, on purpose.
    browser_errors.allow('Campfire: a "widget:opened" listener threw')
    page = await open_host(context, host_site, host_page(widget_server, key=publishable_key))
    await page.evaluate(
        "window.Campfire.on('widget:opened', () => { throw new Error('host bug'); })"
    )
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    opened = await events_named(page, "widget:opened")
    assert len(opened) == 1


async def test_shutdown_removes_widget(
    context: Any, widget_server: LiveServer, host_site: HostSite
) -> None:
    page = await open_host(context, host_site, host_page(widget_server))
    await page.evaluate("window.Campfire.shutdown()")
    assert await page.locator("campfire-widget").count() == 0
    await page.evaluate("window.Campfire.boot(window.CampfireConfig)")
    await page.locator(".launcher").wait_for(state="visible")
    assert await page.locator("campfire-widget").count() == 1


async def test_missing_config_shows_nothing(
    context: Any, widget_server: LiveServer, host_site: HostSite, browser_errors: BrowserErrors
) -> None:
    browser_errors.allow("window.CampfireConfig needs apiKey and mailboxId")
    page = await context.new_page()
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    await page.goto(host_site.add(host_page(widget_server, {"apiKey": ""}, record_events=False)))
    await page.wait_for_function("window.Campfire && window.Campfire.version")
    assert await page.locator("campfire-widget").count() == 0
    assert any("apiKey and mailboxId" in message for message in messages)


async def test_unusable_key_is_reported(
    context: Any,
    browser_errors: BrowserErrors,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    # The fixture's real key lets the host origin through CORS; this one is unknown.
    require_session(api_paths)
    browser_errors.allow_http(401, "/api/v2/widget/session")
    config = {"apiKey": "pk_test_000000000000000000000000000000000000000000"}
    page = await open_host(context, host_site, host_page(widget_server, config))
    await page.locator(".launcher").click()
    error = await wait_for_event(page, "error")
    assert error["context"] == "session"
    assert error["status"] == 401
    assert error["code"] == "AUTHENTICATION_ERROR"
    banner = page.locator(".error[role='alert']")
    await banner.wait_for(state="visible")
    assert await banner.inner_text() == "Chat isn\u2019t available on this page right now.\n\u00d7"

    # A message typed anyway stays visible, marked as not sent, with a retry.
    await page.locator("textarea[aria-label='Message']").fill("Hello?")
    await page.keyboard.press("Enter")
    failed = page.locator(".msg.customer .failed")
    await failed.wait_for(state="visible")
    assert "Not sent." in await failed.inner_text()
    assert await page.locator(".msg.customer .body").inner_text() == "Hello?"
    assert len(await events_named(page, "error")) == 2


async def test_hostile_host_css_does_not_leak_either_way(
    context: Any, widget_server: LiveServer, host_site: HostSite, publishable_key: str
) -> None:
    before = (
        "<script>window.__h1Before = getComputedStyle(document.querySelector('h1'))"
        ".fontFamily;</script>"
    )
    html = host_page(
        widget_server, key=publishable_key, head=HOSTILE_CSS, body="<h1>Host page</h1>" + before
    )
    page = await open_host(context, host_site, html)
    h1_font = await page.evaluate("getComputedStyle(document.querySelector('h1')).fontFamily")
    assert h1_font == await page.evaluate("window.__h1Before")
    assert h1_font == "serif"
    h1_size = await page.evaluate("getComputedStyle(document.querySelector('h1')).fontSize")
    assert h1_size == "40px"

    launcher = page.locator(".launcher")
    box = await launcher.bounding_box()
    assert (box["width"], box["height"]) == (56, 56)
    assert await launcher.evaluate("n => getComputedStyle(n).backgroundColor") == PRIMARY
    assert await launcher.evaluate("n => getComputedStyle(n).borderRadius") == "50%"

    await launcher.click()
    panel = page.locator(".panel")
    await panel.wait_for(state="visible")
    panel_box = await panel.bounding_box()
    assert panel_box["width"] == pytest.approx(370, abs=1)
    send = page.locator(".send")
    send_style = await send.evaluate(
        "n => [getComputedStyle(n).backgroundColor, getComputedStyle(n).fontFamily]"
    )
    assert send_style[0] == PRIMARY
    assert "serif" != send_style[1]
    assert send_style[1].startswith("system-ui")
    sizing = await panel.evaluate("n => getComputedStyle(n).boxSizing")
    assert sizing == "border-box"


def csp_header(server: LiveServer, nonce: str = NONCE) -> dict[str, str]:
    origin = server.base_url
    socket_origin = origin.replace("http://", "ws://")
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self' {origin} 'nonce-{nonce}'; "
            f"style-src 'self' 'nonce-{nonce}'; frame-src {origin}; "
            f"connect-src {origin} {socket_origin}; img-src 'self'"
        )
    }


# Collects CSP violations from the very start of the page.
VIOLATION_RECORDER = (
    f"<script nonce='{NONCE}'>window.__violations = [];"
    "document.addEventListener('securitypolicyviolation', function (e) {"
    " window.__violations.push(e.violatedDirective + ' ' + e.blockedURI); });</script>"
)


async def styled_launcher_color(page: Any) -> str:
    return await page.locator(".launcher").evaluate(
        "node => getComputedStyle(node).backgroundColor"
    )


async def test_strict_csp_without_violations(
    context: Any, widget_server: LiveServer, host_site: HostSite, publishable_key: str
) -> None:
    html = host_page(
        widget_server,
        {"nonce": NONCE},
        key=publishable_key,
        head=VIOLATION_RECORDER + HOSTILE_CSS.replace("<style>", f"<style nonce='{NONCE}'>"),
        nonce=NONCE,
    )
    page = await open_host(context, host_site, html, csp_header(widget_server))
    assert await styled_launcher_color(page) == PRIMARY
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    await page.locator("textarea[aria-label='Message']").fill("hello")
    await page.wait_for_timeout(200)
    assert await page.evaluate("window.__violations") == []
    assert page.errors == []


async def test_strict_csp_style_fallback_uses_nonce(
    context: Any, widget_server: LiveServer, host_site: HostSite
) -> None:
    # Without constructable stylesheets the widget falls back to <style nonce>.
    await context.add_init_script("delete ShadowRoot.prototype.adoptedStyleSheets;")
    html = host_page(widget_server, {"nonce": NONCE}, head=VIOLATION_RECORDER, nonce=NONCE)
    page = await open_host(context, host_site, html, csp_header(widget_server))
    assert await page.evaluate(f"{SHADOW}.querySelectorAll('style[nonce]').length") == 1
    assert await styled_launcher_color(page) == PRIMARY
    assert await page.evaluate("window.__violations") == []


async def test_strict_csp_fallback_without_nonce_is_blocked(
    context: Any, widget_server: LiveServer, host_site: HostSite, browser_errors: BrowserErrors
) -> None:
    # The control for the two tests above: the policy really blocks unsigned styles.
    browser_errors.allow("violates the following Content Security Policy directive 'style-src")
    await context.add_init_script("delete ShadowRoot.prototype.adoptedStyleSheets;")
    html = host_page(widget_server, head=VIOLATION_RECORDER, nonce=NONCE)
    page = await context.new_page()
    await page.goto(host_site.add(html, csp_header(widget_server)))
    await page.wait_for_function("window.__violations.length > 0")
    violations = await page.evaluate("window.__violations")
    assert any(v.startswith("style-src") for v in violations)
    assert await styled_launcher_color(page) != PRIMARY


async def test_narrow_viewport_fills_screen(
    browser: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    publishable_key: str,
    browser_errors: BrowserErrors,
) -> None:
    context = await browser.new_context(viewport={"width": 320, "height": 640})
    browser_errors.watch(context)
    try:
        page = await open_host(context, host_site, host_page(widget_server, key=publishable_key))
        overflow = await page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 320
        await page.locator(".launcher").click()
        panel = page.locator(".panel")
        await panel.wait_for(state="visible")
        box = await panel.bounding_box()
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, 320, 640)
        for selector in ("textarea[aria-label='Message']", ".send", ".close"):
            element = await page.locator(selector).bounding_box()
            assert element is not None, selector
            assert element["x"] >= 0, selector
            assert element["x"] + element["width"] <= 320, selector
            assert element["y"] + element["height"] <= 640, selector
        assert await page.locator(".launcher").is_hidden()
        await page.locator(".close").click()
        await page.locator(".launcher").wait_for(state="visible")
    finally:
        await context.close()
    assert browser_errors.found == []


async def test_demo_page_runs_under_its_policy(context: Any, widget_server: LiveServer) -> None:
    # Init scripts run outside the page's policy, so the recorder needs no nonce.
    await context.add_init_script(
        "window.__violations = []; document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = await context.new_page()
    await page.goto(widget_server.base_url + "/")
    launcher = page.locator(".launcher")
    await launcher.wait_for(state="visible")
    assert await launcher.evaluate("n => getComputedStyle(n).backgroundColor") == (
        "rgb(124, 58, 237)"
    )
    await launcher.click()
    await page.locator(".panel").wait_for(state="visible")
    await page.wait_for_function(
        "document.getElementById('event-log').textContent.includes('widget:opened')"
    )
    assert await page.locator("h1").inner_text() == (
        "Your booking page, ready before your coffee is."
    )
    assert await page.evaluate("window.__violations") == []


async def test_unreachable_server_is_reported(
    context: Any, widget_server: LiveServer, host_site: HostSite, browser_errors: BrowserErrors
) -> None:
    config = {"apiBase": "http://127.0.0.1:9/api/v2"}  # the discard port: nothing listens
    browser_errors.allow("Failed to load resource", "http://127.0.0.1:9/")
    page = await open_host(context, host_site, host_page(widget_server, config))
    await page.locator(".launcher").click()
    error = await wait_for_event(page, "error")
    assert error["context"] == "session"
    assert error["status"] == 0
    banner = page.locator(".error[role='alert'] span")
    await banner.wait_for(state="visible")
    expected = "Can\u2019t reach the chat service. Check your connection and try again."
    assert await banner.inner_text() == expected
