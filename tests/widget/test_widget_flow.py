"""Whole conversations through the widget in Chromium, against a live server.

Each test skips, naming the missing endpoint, until the server offers what it needs.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from campfire_server.development import DEVELOPMENT_AGENT_ID
from tests.conftest import LiveServer

from .conftest import (
    QUIET_MAILBOX_ID,
    BrowserErrors,
    HostSite,
    api_client,
    events_named,
    host_page,
    queue_handoff,
    require_operation,
    require_realtime,
    require_session,
    wait_for_event,
)

SHADOW = "document.querySelector('campfire-widget').shadowRoot"
XSS_CONTENT = [
    '<img src=x onerror="window.__xss=1">',
    "[click me](javascript:window.__xss=2)",
    "<svg/onload=window.__xss=3>",
]
XSS_NAME = '"><img src=x onerror=window.__xss=4>'
UNSAFE_URLS = [
    "javascript:window.__xss=5//https://example.test/pricing",
    "JaVaScRiPt:window.__xss=6",
    "  javascript:window.__xss=7",
    "data:text/html,<script>window.__xss=8</script>",
]


async def open_widget(
    context: Any, site: HostSite, server: LiveServer, key: str, config: dict | None = None
) -> Any:
    """Load a host page for ``config`` and open the panel."""
    html = host_page(server, config, key=key)
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    # Failed requests (a 403, say) show up as console errors in the host page.
    # The browser's own request for the host site's missing favicon is not the widget's.
    console_errors: list[str] = []

    def record_console(message: Any) -> None:
        url = message.location.get("url", "")
        if message.type == "error" and not url.endswith("/favicon.ico"):
            console_errors.append(f"{message.text} at {url}")

    page.on("console", record_console)
    page.console_errors = console_errors
    await page.goto(site.add(html))
    await page.locator(".launcher").click()
    await page.locator(".panel").wait_for(state="visible")
    return page


async def send_from_widget(page: Any, text: str) -> dict[str, Any]:
    """Type ``text`` into the composer, press Enter and return the message:sent data."""
    before = len(await events_named(page, "message:sent"))
    await page.locator("textarea[aria-label='Message']").fill(text)
    await page.keyboard.press("Enter")
    await page.wait_for_function(
        "n => window.__events.filter(e => e.name === 'message:sent').length > n", arg=before
    )
    return (await events_named(page, "message:sent"))[before]


async def wait_for_received(page: Any, count: int, timeout_ms: int = 20_000) -> list[dict]:
    await page.wait_for_function(
        "n => window.__events.filter(e => e.name === 'message:received').length >= n",
        arg=count,
        timeout=timeout_ms,
    )
    return await events_named(page, "message:received")


async def bodies(page: Any) -> list[str]:
    return await page.evaluate(
        f"Array.from({SHADOW}.querySelectorAll('.msg .body')).map(n => n.textContent)"
    )


async def test_first_message_starts_conversation(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    require_session(api_paths)
    page = await open_widget(
        context, host_site, widget_server, publishable_key, {"customerId": "c_1"}
    )
    sent = await send_from_widget(page, "Hello from the widget")

    started = await events_named(page, "conversation:started")
    assert len(started) == 1
    assert started[0]["customerId"] == "c_1"
    assert started[0]["mailboxId"] == "mailbox_456"
    assert sent["content"] == "Hello from the widget"
    assert sent["authorType"] == "customer"
    assert sent["conversationId"] == started[0]["conversationId"]
    assert sent["id"].startswith("msg_")

    with api_client(widget_server) as api:
        conversation = api.get(f"/conversations/{sent['conversationId']}").json()
        messages = api.get(f"/conversations/{sent['conversationId']}/messages").json()["data"]
    assert conversation["customerId"] == "c_1"
    assert conversation["metadata"]["source"] == "widget"
    # The composer's English label above shows that the widget runs in English.
    assert conversation["metadata"]["locale"] == "en"
    assert conversation["metadata"]["referrer"].startswith(host_site.base_url)
    assert [m["content"] for m in messages][:1] == ["Hello from the widget"]
    assert await page.locator(".msg.customer.pending").count() == 0
    assert page.errors == []


async def test_ai_answer_shows_sources(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    require_session(api_paths)
    require_operation(api_paths, "POST /api/v2/ai/generate-response", "AI answers")
    page = await open_widget(
        context, host_site, widget_server, publishable_key, {"customerId": "c_ai"}
    )
    await send_from_widget(page, "How do I downgrade my plan?")

    received = await wait_for_received(page, 1, timeout_ms=30_000)
    answer = received[0]
    assert answer["authorType"] == "ai"
    assert answer["content"]
    metadata = answer["metadata"]
    sources = metadata.get("sources") or metadata.get("ai", {}).get("sources")
    assert sources, "the AI answer about downgrades cites no article"
    links = page.locator(".msg.ai .sources a")
    await links.first.wait_for()
    hrefs = await links.evaluate_all("nodes => nodes.map(n => n.href)")
    assert hrefs
    assert all(href.startswith(("http://", "https://")) for href in hrefs)
    titles = await links.evaluate_all("nodes => nodes.map(n => n.textContent)")
    assert sources[0]["title"] in titles

    # The demo articles have no url, so each link opens the article's
    # help-centre page on the Campfire server, whatever the host page is.
    assert all(href.startswith(widget_server.base_url + "/kb/art_") for href in hrefs)
    async with context.expect_page() as opened:
        await links.first.click()
    article = await opened.value
    await article.wait_for_load_state()
    assert article.url == hrefs[0]
    assert await article.locator("h1").inner_text() == titles[0]
    with httpx.Client(timeout=10) as http:
        for href in hrefs:
            response = http.get(href)
            assert response.status_code == 200, href
            assert response.headers["content-type"].startswith("text/html")
    await article.close()
    assert page.console_errors == []
    assert page.errors == []


async def test_agent_reply_and_typing_arrive_live(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    realtime_available: bool,
    quiet_key: str,
) -> None:
    require_realtime(realtime_available, "live delivery cannot be tested")
    config = {"customerId": "c_rt", "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, widget_server, quiet_key, config)
    sent = await send_from_widget(page, "Is anyone there?")
    conversation_id = sent["conversationId"]
    received_before = len(await events_named(page, "message:received"))

    from websockets.asyncio.client import connect

    socket_url = widget_server.api.replace("http", "ws", 1) + "/realtime"
    async with connect(socket_url) as agent_socket:
        await agent_socket.send(json.dumps({"type": "auth", "token": "test_sk_123456789"}))
        channel = f"conversation:{conversation_id}"
        await agent_socket.send(json.dumps({"type": "subscribe", "channel": channel}))
        await agent_socket.send(
            json.dumps({"type": "typing", "channel": channel, "data": {"isTyping": True}})
        )
        typing = page.locator(".typing")
        await page.wait_for_function(f"{SHADOW}.querySelector('.typing').textContent !== ''")
        assert "typing" in await typing.inner_text()

    with api_client(widget_server) as api:
        reply = api.post(
            f"/conversations/{conversation_id}/messages",
            json={
                "content": "Hi, Maya here.",
                "authorType": "agent",
                "authorId": DEVELOPMENT_AGENT_ID,
            },
        )
        assert reply.status_code == 201, reply.text
        note = api.post(
            f"/conversations/{conversation_id}/messages",
            json={
                "content": "internal: VIP customer",
                "authorType": "agent",
                "authorId": DEVELOPMENT_AGENT_ID,
                "private": True,
            },
        )
        assert note.status_code == 201, note.text

    received = await wait_for_received(page, received_before + 1, timeout_ms=5_000)
    assert received[-1]["id"] == reply.json()["id"]
    assert received[-1]["content"] == "Hi, Maya here."
    assert received[-1]["authorType"] == "agent"
    await page.wait_for_timeout(500)
    assert "internal: VIP customer" not in await bodies(page)
    assert await page.locator(".msg.agent .body").last.inner_text() == "Hi, Maya here."
    # A customer may not read agents, so the widget must not request the author.
    assert page.console_errors == []
    assert page.errors == []


async def test_handoff_shows_queue_then_agent(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    realtime_available: bool,
    quiet_key: str,
) -> None:
    require_operation(api_paths, "POST /api/v2/conversations/{}/handoff", "handoff")
    require_operation(api_paths, "POST /api/v2/agents", "assignment to an agent")
    require_realtime(realtime_available, "handoff status cannot arrive live")
    config = {"customerId": "c_ho", "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, widget_server, quiet_key, config)
    sent = await send_from_widget(page, "I want to talk to a person")
    conversation_id = sent["conversationId"]

    with api_client(widget_server) as api:
        handoff = api.post(
            f"/conversations/{conversation_id}/handoff",
            json={"reason": "Customer requested human assistance", "priority": "medium"},
        )
        assert handoff.status_code in (200, 201), handoff.text
        queued = handoff.json()
    assert queued["status"] == "queued", "no agent is online yet, so the handoff must queue"

    requested = await wait_for_event(page, "handoff:requested")
    assert requested["conversationId"] == conversation_id
    assert requested["status"] == "queued"
    assert requested["position"] == queued["position"]
    assert requested["estimatedWaitTime"] == queued["estimatedWaitTime"]
    status = page.locator(".status[role='status']")
    await status.wait_for(state="visible")
    text = await status.inner_text()
    assert text.startswith("Connecting you with a person.")
    assert f"You are number {queued['position']} in line." in text

    # An agent coming online takes the queued conversation.
    with api_client(widget_server) as api:
        agent = api.post(
            "/agents",
            json={"id": "agent_maya", "name": "Maya Lopez", "status": "online", "capacity": 3},
        )
        assert agent.status_code == 201, agent.text
    assigned = await wait_for_event(page, "handoff:assigned")
    assert assigned["agentId"] == "agent_maya"
    assert assigned["agentName"] == "Maya Lopez"
    await page.wait_for_function(
        f"{SHADOW}.querySelector('.status').textContent.includes('Maya Lopez')"
    )
    assert await status.inner_text() == "Maya Lopez has joined the conversation."

    with api_client(widget_server) as api:
        reply = api.post(
            f"/conversations/{conversation_id}/messages",
            json={"content": "Hi, I'm Maya.", "authorType": "agent", "authorId": "agent_maya"},
        )
        assert reply.status_code == 201, reply.text
    # The handoff's system message may arrive before or after the reply.
    await page.wait_for_function(
        "() => window.__events.some(e => e.name === 'message:received'"
        ' && e.data.content === "Hi, I\'m Maya.")',
        timeout=5_000,
    )
    received = await events_named(page, "message:received")
    replies = [event for event in received if event["authorType"] == "agent"]
    assert [reply["content"] for reply in replies] == ["Hi, I'm Maya."]
    assert await page.locator(".msg.agent .who").last.inner_text() == "Maya Lopez"
    assert page.console_errors == []


async def test_reload_resumes_conversation(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    require_session(api_paths)
    page = await open_widget(
        context, host_site, widget_server, publishable_key, {"customerId": "c_resume"}
    )
    first = await send_from_widget(page, "Remember me")

    await page.reload()
    await page.locator(".launcher").wait_for(state="visible")
    await page.wait_for_function(
        f"Array.from({SHADOW}.querySelectorAll('.msg .body')).some(n => "
        "n.textContent === 'Remember me')"
    )
    assert await events_named(page, "conversation:started") == []
    assert await events_named(page, "message:received") == []

    await page.locator(".launcher").click()
    second = await send_from_widget(page, "Still me")
    assert second["conversationId"] == first["conversationId"]
    assert await events_named(page, "conversation:started") == []
    assert (await bodies(page)).count("Remember me") == 1


async def test_visitor_without_id_resumes(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    require_session(api_paths)
    page = await open_widget(context, host_site, widget_server, publishable_key)
    first = await send_from_widget(page, "Anonymous hello")
    await page.reload()
    await page.locator(".launcher").click()
    second = await send_from_widget(page, "Anonymous again")
    assert second["conversationId"] == first["conversationId"]


async def test_payloads_render_as_text(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    require_session(api_paths)
    config = {"customerId": "c_xss", "customerName": XSS_NAME}
    page = await open_widget(context, host_site, widget_server, publishable_key, config)
    conversation_id = None
    for content in XSS_CONTENT:
        conversation_id = (await send_from_widget(page, content))["conversationId"]

    with api_client(widget_server) as api:
        # An agent authorId must name an agent, which the markup is not.
        posing = api.post(
            f"/conversations/{conversation_id}/messages",
            json={"content": XSS_CONTENT[0], "authorType": "agent", "authorId": XSS_NAME},
        )
        assert posing.status_code == 400, posing.text
        assert posing.json()["error"]["details"]["field"] == "authorId"
        agent = api.post(
            f"/conversations/{conversation_id}/messages",
            json={
                "content": XSS_CONTENT[0],
                "authorType": "agent",
                "authorId": DEVELOPMENT_AGENT_ID,
            },
        )
        assert agent.status_code == 201, agent.text
        # The API rejects an unsafe link at any depth of metadata, so only
        # the safe source is stored.
        # NOTE: widget.js also shows links stored before that rule as text;
        # no end-to-end test covers that filter any more.
        for url in UNSAFE_URLS:
            unsafe = api.post(
                f"/conversations/{conversation_id}/messages",
                json={
                    "content": XSS_CONTENT[2],
                    "authorType": "ai",
                    "metadata": {"sources": [{"title": "Unsafe", "url": url}]},
                },
            )
            assert unsafe.status_code == 400, unsafe.text
            assert unsafe.json()["error"]["details"]["field"] == "metadata.sources[0].url"
        sources = [{"title": "Billing FAQ", "url": "/docs/billing-faq"}]
        ai = api.post(
            f"/conversations/{conversation_id}/messages",
            json={
                "content": XSS_CONTENT[2],
                "authorType": "ai",
                "metadata": {"sources": sources},
            },
        )
        assert ai.status_code == 201, ai.text
        if "POST /api/v2/conversations/{}/handoff" in api_paths:
            handoff = api.post(
                f"/conversations/{conversation_id}/handoff",
                json={"reason": XSS_CONTENT[1], "context": {"customerInfo": {"name": XSS_NAME}}},
            )
            assert handoff.status_code in (200, 201), handoff.text

    await page.locator(".msg.ai .sources").wait_for(timeout=20_000)
    await page.wait_for_timeout(300)
    assert await page.evaluate("window.__xss") is None
    counts = await page.evaluate(
        f"[document.querySelectorAll('img, svg, script:not([src])').length,"
        f" {SHADOW}.querySelectorAll('img, svg, script, iframe, object').length]"
    )
    assert counts[1] == 0
    texts = await bodies(page)
    for content in XSS_CONTENT:
        assert content in texts
    assert any(XSS_NAME in text for text in texts)  # the greeting names the visitor

    links = await page.locator(".sources a").evaluate_all(
        "nodes => nodes.map(n => [n.textContent, n.getAttribute('href')])"
    )
    # A relative link resolves against the Campfire server, not the host page.
    assert links == [["Billing FAQ", widget_server.base_url + "/docs/billing-faq"]]


async def test_rate_limit_is_shown(
    context: Any,
    browser_errors: BrowserErrors,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    require_session(api_paths)
    browser_errors.allow_http(429, f"{widget_server.api}/conversations")
    page = await context.new_page()

    async def throttle(route: Any) -> None:
        if route.request.method != "POST":
            await route.continue_()
            return
        await route.fulfill(
            status=429,
            headers={
                "Content-Type": "application/json",
                "Retry-After": "7",
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "Retry-After, X-Request-ID",
            },
            body=json.dumps(
                {
                    "error": {
                        "code": "RATE_LIMIT_EXCEEDED",
                        "message": "rate limit of 1000 requests per minute exceeded",
                        "details": {"limit": 1000, "name": "requestsPerMinute", "retryAfter": 7},
                        "requestId": "req_test",
                    }
                }
            ),
        )

    await page.route(f"{widget_server.api}/conversations", throttle)
    html = host_page(widget_server, {"customerId": "c_429"}, key=publishable_key)
    await page.goto(host_site.add(html))
    await page.locator(".launcher").click()
    await page.locator("textarea[aria-label='Message']").fill("Hello?")
    await page.keyboard.press("Enter")

    error = await wait_for_event(page, "error")
    assert error["status"] == 429
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    assert error["retryAfter"] == 7
    banner = page.locator(".error[role='alert'] span")
    await banner.wait_for(state="visible")
    expected = "Too many requests — please wait 7 seconds and try again."
    assert await banner.inner_text() == expected
    assert await page.locator(".send").is_disabled()
    assert "Not sent." in await page.locator(".msg.customer .failed").inner_text()


async def test_resolved_conversation_asks_for_rating(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    require_session(api_paths)
    require_operation(api_paths, "POST /api/v2/conversations/{}/satisfaction", "the rating prompt")
    page = await open_widget(
        context, host_site, widget_server, publishable_key, {"customerId": "c_r"}
    )
    conversation_id = (await send_from_widget(page, "Thanks, that solved it"))["conversationId"]
    with api_client(widget_server) as api:
        resolved = api.patch(f"/conversations/{conversation_id}", json={"status": "resolved"})
        assert resolved.status_code == 200, resolved.text

    rating = page.locator(".rating")
    await rating.wait_for(state="visible", timeout=20_000)
    await page.locator(".stars button[aria-label='Rate 4 out of 5']").click()
    await rating.locator("textarea").fill("Quick and clear")
    async with page.expect_response(lambda r: r.url.endswith("/satisfaction")) as response_info:
        await rating.locator(".rate-send").click()
    response = await response_info.value
    assert response.status in (200, 201)
    assert json.loads(response.request.post_data) == {"rating": 4, "comment": "Quick and clear"}
    await rating.locator(".thanks").wait_for(state="visible")


async def test_strict_csp_page_sends_message(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    require_session(api_paths)
    from .test_widget_page import NONCE, VIOLATION_RECORDER, csp_header

    html = host_page(
        widget_server,
        {"customerId": "c_csp", "nonce": NONCE},
        key=publishable_key,
        head=VIOLATION_RECORDER,
        nonce=NONCE,
    )
    page = await context.new_page()
    await page.goto(host_site.add(html, csp_header(widget_server)))
    await page.locator(".launcher").click()
    sent = await send_from_widget(page, "How do I get a refund?")
    assert sent["content"] == "How do I get a refund?"
    if "POST /api/v2/ai/generate-response" in api_paths:
        received = await wait_for_received(page, 1, timeout_ms=30_000)
        assert received[0]["authorType"] in ("ai", "system", "agent")
    assert await page.evaluate("window.__violations") == []
    assert await page.locator(".error[role='alert']").is_hidden()


async def test_handoff_requested_once_per_episode(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    realtime_available: bool,
    quiet_key: str,
) -> None:
    require_operation(api_paths, "POST /api/v2/conversations/{}/handoff", "handoff")
    require_realtime(realtime_available, "handoff status cannot arrive live")
    # No agent has this skill, so both handoffs stay queued whoever is online.
    skill = "widget-episode-skill"
    config = {"customerId": "c_episode", "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, widget_server, quiet_key, config)
    conversation_id = (await send_from_widget(page, "Can a person help me?"))["conversationId"]

    with api_client(widget_server) as api:
        first = queue_handoff(api, conversation_id, skill, statuses=(200, 201))
    requested = await wait_for_event(page, "handoff:requested")
    assert requested["position"] == first["position"]

    # An urgent handoff queues ahead, which moves this one back a place.
    with api_client(widget_server) as api:
        other = api.post(
            "/conversations",
            json={"customerId": "c_episode_other", "mailboxId": QUIET_MAILBOX_ID},
        )
        assert other.status_code == 201, other.text
        queue_handoff(
            api, other.json()["id"], skill, (200, 201), reason="Urgent", priority="urgent"
        )
    position = first["position"] + 1
    status = page.locator(".status[role='status']")
    await page.wait_for_function(
        f"{SHADOW}.querySelector('.status').textContent.includes('number {position} in line')"
    )

    # The customer writes again and the AI is asked while the handoff is pending.
    await send_from_widget(page, "hello? anyone there?")
    with api_client(widget_server) as api:
        answer = api.post(
            "/ai/generate-response",
            json={"conversationId": conversation_id, "messageContent": "hello? anyone there?"},
        )
        assert answer.status_code in (200, 409), answer.text
    await page.wait_for_timeout(1_000)

    assert f"You are number {position} in line." in await status.inner_text()
    assert len(await events_named(page, "handoff:requested")) == 1


async def test_immediate_assignment_emits_both_events(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    realtime_available: bool,
    quiet_key: str,
) -> None:
    """A handoff an agent takes at once emits requested, then assigned, once each."""
    require_operation(api_paths, "POST /api/v2/conversations/{}/handoff", "handoff")
    require_operation(api_paths, "POST /api/v2/agents", "assignment to an agent")
    require_realtime(realtime_available, "handoff status cannot arrive live")
    skill = "widget-instant-skill"
    with api_client(widget_server) as api:
        agent = api.post(
            "/agents",
            json={
                "id": "agent_instant",
                "name": "Ines Instant",
                "status": "online",
                "capacity": 3,
                "skills": [skill],
            },
        )
        assert agent.status_code == 201, agent.text
    config = {"customerId": "c_instant", "mailboxId": QUIET_MAILBOX_ID}
    page = await open_widget(context, host_site, widget_server, quiet_key, config)
    conversation_id = (await send_from_widget(page, "Put me through, please"))["conversationId"]

    with api_client(widget_server) as api:
        handoff = api.post(
            f"/conversations/{conversation_id}/handoff",
            json={"reason": "Customer asked for a person", "requiredSkills": [skill]},
        )
        assert handoff.status_code in (200, 201), handoff.text
    assert handoff.json()["status"] == "assigned", "the online agent with the skill takes it"

    assigned = await wait_for_event(page, "handoff:assigned")
    await page.wait_for_function(
        f"{SHADOW}.querySelector('.status').textContent.includes('Ines Instant')"
    )
    # The handoff's notice message also makes the widget read the handoff again.
    await page.wait_for_function(
        "() => window.__events.some(e => e.name === 'message:received'"
        " && e.data.authorType === 'system')",
        timeout=5_000,
    )
    names = [event["name"] for event in await page.evaluate("window.__events")]
    handoff_names = [name for name in names if name.startswith("handoff:")]
    requested = await events_named(page, "handoff:requested")

    assert handoff_names == ["handoff:requested", "handoff:assigned"]
    assert requested[0]["conversationId"] == conversation_id
    assert requested[0]["reason"] is None or isinstance(requested[0]["reason"], str)
    assert assigned["conversationId"] == conversation_id
    assert assigned["agentId"] == "agent_instant"
    assert assigned["agentName"] == "Ines Instant"
    assert page.console_errors == []


async def test_handoff_message_hides_sources(
    context: Any,
    widget_server: LiveServer,
    host_site: HostSite,
    api_paths: set[str],
    publishable_key: str,
) -> None:
    require_session(api_paths)
    page = await open_widget(
        context, host_site, widget_server, publishable_key, {"customerId": "c_ack"}
    )
    conversation_id = (await send_from_widget(page, "Anyone there?"))["conversationId"]
    sources = [{"title": "Billing FAQ", "url": "/docs/billing-faq"}]
    with api_client(widget_server) as api:
        for content, should_handoff in (("Handing you to a person.", True), ("An answer.", False)):
            posted = api.post(
                f"/conversations/{conversation_id}/messages",
                json={
                    "content": content,
                    "authorType": "ai",
                    "metadata": {"ai": {"shouldHandoff": should_handoff, "sources": sources}},
                },
            )
            assert posted.status_code == 201, posted.text

    answer = page.locator(".msg.ai", has_text="An answer.")
    await answer.locator(".sources").wait_for(timeout=20_000)
    acknowledgement = page.locator(".msg.ai", has_text="Handing you to a person.")
    assert await acknowledgement.count() == 1
    assert await acknowledgement.locator(".sources").count() == 0
    assert await answer.locator(".sources a").count() == 1
