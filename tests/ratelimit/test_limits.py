"""Rate limits in one process: headers, 429s, per-org overrides, client addresses."""

from __future__ import annotations

import time

from campfire_server.auth.ratelimit import Decision
from campfire_server.organizations import actions as org_actions
from tests.auth.conftest import bearer, create_key
from tests.helpers import create_conversation
from tests.ratelimit.conftest import limited_client


def rate_headers(response) -> tuple[int, int, int]:
    return (
        int(response.headers["x-ratelimit-limit"]),
        int(response.headers["x-ratelimit-remaining"]),
        int(response.headers["x-ratelimit-reset"]),
    )


async def test_headers_count_down_then_429(db, tenant):
    async with limited_client(db, rate_limit_requests_per_minute=5) as client:
        remaining = []
        for _ in range(5):
            response = await client.get("/conversations", headers=tenant.headers)
            assert response.status_code == 200
            limit, left, reset = rate_headers(response)
            assert limit == 5
            now = time.time()
            assert now < reset <= now + 60
            remaining.append(left)
        assert remaining == [4, 3, 2, 1, 0]

        rejected = await client.get("/conversations", headers=tenant.headers)
        assert rejected.status_code == 429
        error = rejected.json()["error"]
        assert error["code"] == "RATE_LIMIT_EXCEEDED"
        assert error["requestId"] == rejected.headers["x-request-id"]
        retry_after = int(rejected.headers["retry-after"])
        assert 1 <= retry_after <= 60
        limit, left, reset = rate_headers(rejected)
        assert (limit, left) == (5, 0)
        assert time.time() < reset <= time.time() + 60


def test_reset_header_within_a_minute():
    for offset in (0.01, 30.5, 59.99, 60.0, 60.7, 75.0):
        before = time.time()
        headers = Decision("requestsPerMinute", 5, 4, before + offset, True).headers()
        reset = int(headers["X-RateLimit-Reset"])
        assert before < reset, offset
        assert reset <= time.time() + 60, offset


async def test_limit_is_per_credential(db, tenant, other_tenant):
    async with limited_client(db, rate_limit_requests_per_minute=2) as client:
        for _ in range(2):
            assert (await client.get("/conversations", headers=tenant.headers)).status_code == 200
        assert (await client.get("/conversations", headers=tenant.headers)).status_code == 429
        other = await client.get("/conversations", headers=other_tenant.headers)
        assert other.status_code == 200
        assert rate_headers(other)[1] == 1


async def test_error_responses_carry_headers(db, tenant):
    async with limited_client(db, rate_limit_requests_per_minute=50) as client:
        for response in (
            await client.get("/conversations"),
            await client.get("/conversations", headers=bearer("sk_live_wrong")),
            await client.get("/nowhere", headers=tenant.headers),
            await client.post(
                "/conversations",
                content=b"{",
                headers={**tenant.headers, "content-type": "application/json"},
            ),
        ):
            assert response.status_code >= 400
            assert "x-ratelimit-remaining" in response.headers, response.request.url


async def test_org_override(db, tenant):
    await db.write(
        lambda tx: org_actions.store_setting(
            tx, tenant.org_id, "rateLimits", {"requestsPerMinute": 3}
        )
    )
    try:
        async with limited_client(db, rate_limit_requests_per_minute=100) as client:
            response = await client.get("/conversations", headers=tenant.headers)
            assert rate_headers(response)[0] == 3
    finally:
        await db.write(lambda tx: org_actions.store_setting(tx, tenant.org_id, "rateLimits", {}))


async def test_messages_per_conversation(db, tenant):
    async with limited_client(db, rate_limit_messages_per_minute=3) as client:
        conversation = await create_conversation(client, tenant)
        other = await create_conversation(client, tenant)
        path = f"/conversations/{conversation['id']}/messages"
        body = {"content": "hi", "authorType": "customer"}
        for _ in range(3):
            response = await client.post(path, json=body, headers=tenant.headers)
            assert response.status_code == 201, response.text
        rejected = await client.post(path, json=body, headers=tenant.headers)
        assert rejected.status_code == 429
        assert "conversation" in rejected.json()["error"]["message"]
        assert rate_headers(rejected)[:2] == (3, 0)
        listed = await client.get(path, headers=tenant.headers)
        assert listed.json()["pagination"]["total"] == 3
        elsewhere = await client.post(
            f"/conversations/{other['id']}/messages", json=body, headers=tenant.headers
        )
        assert elsewhere.status_code == 201


async def test_message_posts_report_key_budget(db, tenant):
    async with limited_client(
        db, rate_limit_requests_per_minute=20, rate_limit_messages_per_minute=5
    ) as client:
        conversation = await create_conversation(client, tenant)
        path = f"/conversations/{conversation['id']}/messages"
        body = {"content": "hi", "authorType": "customer"}
        seen = []
        requests = [("POST", path), ("GET", path), ("POST", path), ("GET", "/conversations")]
        for method, url in requests:
            if method == "POST":
                response = await client.post(url, json=body, headers=tenant.headers)
            else:
                response = await client.get(url, headers=tenant.headers)
            assert response.status_code in (200, 201), response.text
            seen.append(rate_headers(response)[:2])
        # One create, then four requests: each spends one of the key's 20.
        assert seen == [(20, 18), (20, 17), (20, 16), (20, 15)]


async def open_session(client, key, **headers):
    return await client.post(
        "/widget/session", json={"mailboxId": "mailbox_test_1"}, headers=bearer(key, **headers)
    )


async def test_spoofed_forwarded_for_changes_nothing(db, tenant):
    key = await create_key(db, tenant.org_id, kind="publishable", role="customer")
    async with limited_client(db, rate_limit_widget_sessions_per_minute=2) as client:
        for spoof in ("10.0.0.1", "10.0.0.2"):
            response = await open_session(client, key, **{"X-Forwarded-For": spoof})
            assert response.status_code == 201, response.text
        rejected = await open_session(client, key, **{"X-Forwarded-For": "10.0.0.3"})
        assert rejected.status_code == 429
        assert rejected.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"


async def test_trusted_proxy_forwarded_for(db, tenant):
    key = await create_key(db, tenant.org_id, kind="publishable", role="customer")
    async with limited_client(
        db,
        client_address="10.1.2.3",
        trusted_proxies=["10.0.0.0/8"],
        rate_limit_widget_sessions_per_minute=1,
    ) as client:
        first = await open_session(client, key, **{"X-Forwarded-For": "203.0.113.7"})
        assert first.status_code == 201
        # A value the client prepended itself is ignored: the proxy appended the real one.
        spoofed = await open_session(
            client, key, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.7"}
        )
        assert spoofed.status_code == 429
        another = await open_session(client, key, **{"X-Forwarded-For": "203.0.113.8"})
        assert another.status_code == 201


async def test_widget_visitors_do_not_share_key_bucket(db, tenant):
    key = await create_key(db, tenant.org_id, kind="publishable", role="customer")
    async with limited_client(
        db,
        client_address="10.1.2.3",
        trusted_proxies=["10.1.2.3"],
        rate_limit_requests_per_minute=2,
    ) as client:
        for visitor in ("203.0.113.1", "203.0.113.2", "203.0.113.3"):
            response = await open_session(client, key, **{"X-Forwarded-For": visitor})
            assert response.status_code == 201
            assert rate_headers(response)[1] == 1


async def test_anonymous_requests_limited_by_address(db):
    async with limited_client(db, rate_limit_requests_per_minute=2) as client:
        statuses = [(await client.get("/conversations")).status_code for _ in range(2)]
        assert statuses == [401, 401]
        rejected = await client.get("/conversations")
        assert rejected.status_code == 429
        assert 1 <= int(rejected.headers["retry-after"]) <= 60
        assert rate_headers(rejected)[:2] == (2, 0)


async def test_rate_limited_key_runs_on_retry(db, tenant):
    headers = {**tenant.headers, "Idempotency-Key": "limited-then-retried"}
    body = {"content": "second", "authorType": "customer"}
    async with limited_client(db, rate_limit_messages_per_minute=1) as client:
        conversation = await create_conversation(client, tenant)
        path = f"/conversations/{conversation['id']}/messages"
        first = await client.post(path, json={**body, "content": "first"}, headers=tenant.headers)
        assert first.status_code == 201, first.text
        rejected = await client.post(path, json=body, headers=headers)
        assert rejected.status_code == 429

    # A fresh app has fresh counters, as the window having passed would.
    async with limited_client(db, rate_limit_messages_per_minute=1) as client:
        retried = await client.post(path, json=body, headers=headers)
        assert retried.status_code == 201, retried.text
        assert "idempotent-replayed" not in retried.headers
        listed = await client.get(path, headers=tenant.headers)
        assert [m["content"] for m in listed.json()["data"]] == ["first", "second"]


async def test_help_centre_page_limited_per_address(db, tenant):
    async with limited_client(
        db,
        client_address="10.1.2.3",
        trusted_proxies=["10.0.0.0/8"],
        rate_limit_help_centre_pages_per_minute=2,
    ) as client:
        created = await client.post(
            "/knowledge/articles",
            json={"title": "Opening hours", "content": "We open at nine."},
            headers=tenant.headers,
        )
        assert created.status_code == 201, created.text
        page = f"http://testserver/kb/{created.json()['id']}"
        visitor = {"X-Forwarded-For": "203.0.113.7"}

        first = await client.get(page, headers=visitor)
        assert first.status_code == 200
        assert rate_headers(first)[:2] == (2, 1)
        # An unknown article counts too, so ids cannot be tried without limit.
        unknown = await client.get("http://testserver/kb/art_unknown", headers=visitor)
        assert unknown.status_code == 404

        # A credential the page never checks does not lift the limit.
        rejected = await client.get(page, headers={**visitor, "Authorization": "Bearer junk"})
        assert rejected.status_code == 429
        assert 1 <= int(rejected.headers["retry-after"]) <= 60
        assert rate_headers(rejected)[:2] == (2, 0)
        assert rejected.headers["content-type"].startswith("text/html")
        assert rejected.headers["cache-control"] == "no-store"
        assert "Too many requests" in rejected.text
        assert "Opening hours" not in rejected.text

        head = await client.head(page, headers=visitor)
        assert head.status_code == 429
        second_visitor = await client.get(page, headers={"X-Forwarded-For": "203.0.113.8"})
        assert second_visitor.status_code == 200
        assert "Opening hours" in second_visitor.text


# Every route that checks no credential, and requests that no route checks one for.
ANONYMOUS_REQUESTS = [
    ("GET", "http://testserver/widget.js"),
    ("HEAD", "http://testserver/widget.js"),
    ("GET", "http://testserver/v2/widget.js"),
    ("GET", "http://testserver/api/v2/docs"),
    ("GET", "http://testserver/api/v2/docs/assets/swagger-ui.css"),
    ("GET", "http://testserver/api/v2/openapi.json"),
    ("GET", "http://testserver/inbox"),
    ("GET", "http://testserver/inbox/"),
    ("GET", "http://testserver/inbox/assets/app.js"),
    ("GET", "http://testserver/favicon.ico"),
    ("GET", "http://testserver/"),
    ("POST", "http://testserver/api/v2/auth/login"),
    ("GET", "http://testserver/api/v2/realtime"),
    ("GET", "http://testserver/api/v2/nowhere"),
    ("OPTIONS", "http://testserver/api/v2/conversations"),
    ("PUT", "http://testserver/api/v2/conversations"),
]


async def test_unchecked_credential_keeps_address_limit(db, tenant):
    for method, url in ANONYMOUS_REQUESTS:
        for credential in ("Bearer junk", tenant.headers["Authorization"]):
            async with limited_client(db, rate_limit_requests_per_minute=2) as client:
                headers = {"Authorization": credential}
                for _ in range(2):
                    response = await client.request(method, url, headers=headers)
                    assert response.status_code != 429, (method, url)
                rejected = await client.request(method, url, headers=headers)
                assert rejected.status_code == 429, (method, url, credential[:12])
                assert 1 <= int(rejected.headers["retry-after"]) <= 60
                assert rate_headers(rejected)[:2] == (2, 0)
                # The address is spent for requests without a credential too.
                bare = await client.request(method, url)
                assert bare.status_code == 429, (method, url)


async def test_invalid_credential_counts_against_address(db, tenant):
    async with limited_client(db, rate_limit_requests_per_minute=2) as client:
        for credential in ("Bearer junk", "Bearer sk_live_wrong", "Basic abc"):
            response = await client.get("/conversations", headers={"Authorization": credential})
            if response.status_code != 401:
                break
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert rate_headers(response)[:2] == (2, 0)
        head = await client.head("/conversations", headers=bearer("sk_live_wrong"))
        assert head.status_code == 429
        # A valid key has a limit of its own, untouched by the address's.
        valid = await client.get("/conversations", headers=tenant.headers)
        assert valid.status_code == 200
        assert rate_headers(valid)[:2] == (2, 1)


async def test_health_probes_use_no_budget(db):
    async with limited_client(db, rate_limit_requests_per_minute=2) as client:
        for path in ("/health", "/healthz", "/readyz") * 3:
            probe = await client.get(f"http://testserver{path}")
            assert probe.status_code == 200, (path, probe.text)
            assert "x-ratelimit-limit" not in probe.headers

        statuses = [(await client.get("/conversations")).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]


async def test_unknown_routes_count_against_address(db):
    async with limited_client(db, rate_limit_requests_per_minute=2) as client:
        first = await client.get("/no-such-route")
        assert first.status_code == 404
        assert rate_headers(first)[:2] == (2, 1)
        second = await client.get("http://testserver/status")
        assert second.status_code == 404
        assert rate_headers(second)[:2] == (2, 0)

        rejected = await client.get("/conversations")
        assert rejected.status_code == 429


def test_raw_headers_match_headers() -> None:
    decision = Decision("requestsPerMinute", 120, 7, time.time() + 30.4, True)

    raw = decision.raw_headers()

    assert raw == [
        (name.lower().encode(), value.encode()) for name, value in decision.headers().items()
    ]
