"""The SSRF guard, at creation and at delivery time.

Only address literals and localhost are used, so no check here sends a DNS
query or a packet anywhere but 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress

import httpx
import pytest

from campfire_server.app import create_app
from campfire_server.webhooks import guard
from campfire_server.webhooks.delivery import _pinned_request
from campfire_server.webhooks.guard import DestinationRejected, check_destination
from tests.helpers import create_conversation

from .conftest import create_webhook, fast_settings

PRODUCTION = {"env": "production", "jwt_secret": "a-long-random-test-secret-value-0123"}


def _settings(db_url: str, **overrides):  # type: ignore[no-untyped-def]
    return fast_settings(db_url, **{**PRODUCTION, **overrides})


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.3.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("100.64.1.1", "not publicly routable"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a9fe:a9fe", "NAT64 address embedding 169.254.169.254, a cloud metadata"),
        ("64:ff9b::7f00:1", "NAT64 address embedding 127.0.0.1, a loopback"),
        ("64:ff9b::a00:5", "NAT64 address embedding 10.0.0.5, a private"),
        ("64:ff9b:1::a9fe:a9fe", "local-use NAT64"),
        ("64:ff9b:1:ffff::808:808", "local-use NAT64"),
        ("2002:a9fe:a9fe::1", "6to4 address embedding 169.254.169.254"),
        ("2002:c0a8:101::1", "6to4 address embedding 192.168.1.1, a private"),
        ("::a9fe:a9fe", "IPv4-compatible address embedding 169.254.169.254"),
        ("::7f00:1", "IPv4-compatible address embedding 127.0.0.1, a loopback"),
        ("2001:0:a9fe:a9fe::1", "Teredo address with server embedding 169.254.169.254"),
        ("2001:0:4136:e378:8000:63bf:f5ff:fefe", "Teredo address with client embedding 10.0.1.1"),
    ],
)
def test_forbidden_addresses(address, reason):
    found = guard.forbidden_reason(ipaddress.ip_address(address), allow_loopback=False)
    assert found is not None
    assert reason in found


def test_public_address_passes():
    assert guard.forbidden_reason(ipaddress.ip_address("8.8.8.8"), allow_loopback=False) is None
    assert (
        guard.forbidden_reason(ipaddress.ip_address("2001:4860:4860::8888"), allow_loopback=False)
        is None
    )


@pytest.mark.parametrize("allow_loopback", [True, False])
def test_embedded_loopback_always_forbidden(allow_loopback):
    for address in ("64:ff9b::7f00:1", "::7f00:1", "2002:7f00:1::1"):
        found = guard.forbidden_reason(ipaddress.ip_address(address), allow_loopback=allow_loopback)
        assert found is not None, address
        assert "127.0.0.1" in found


def test_embedded_public_address_passes():
    for address in ("64:ff9b::808:808", "2002:808:808::1"):
        assert guard.forbidden_reason(ipaddress.ip_address(address), allow_loopback=False) is None


@pytest.mark.parametrize(
    "host",
    [
        "[64:ff9b::a9fe:a9fe]",
        "[64:ff9b:1::a9fe:a9fe]",
        "[2002:a9fe:a9fe::1]",
        "[::a9fe:a9fe]",
        "[2001:0:a9fe:a9fe::1]",
    ],
)
@pytest.mark.parametrize("env", ["production", "development"])
async def test_api_rejects_embedded_ipv4(db, tenant, host, env):
    app = create_app(_settings(db.url, env=env, webhook_worker=False), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as client:
            response = await client.post(
                "/webhooks",
                json={"url": f"http://{host}/hook", "events": ["*"]},
                headers=tenant.headers,
            )
            listed = await client.get("/webhooks", headers=tenant.headers)

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["details"]["field"] == "url"
    assert str(ipaddress.ip_address(host.strip("[]"))) in error["message"]
    assert listed.json()["data"] == []


async def test_delivery_check_rejects_resolved_nat64(db):
    async def resolve_to_nat64(host: str, port: int) -> list:  # type: ignore[type-arg]
        assert host == "hooks.example"
        return [ipaddress.ip_address("64:ff9b::a9fe:a9fe"), ipaddress.ip_address("2002:a00:1::1")]

    previous = guard.set_resolver(resolve_to_nat64)
    try:
        with pytest.raises(DestinationRejected) as raised:
            await check_destination("https://hooks.example/x", _settings(db.url))
    finally:
        guard.set_resolver(previous)

    message = str(raised.value)
    assert "64:ff9b::a9fe:a9fe (a NAT64 address embedding 169.254.169.254" in message
    assert "2002:a00:1::1 (a 6to4 address embedding 10.0.0.1" in message


async def test_production_rejects_loopback_and_localhost(db):
    settings = _settings(db.url)
    for url in (
        "http://127.0.0.1:9/x",
        "http://localhost:9/x",
        "http://[::1]:9/x",
        "http://2130706433/x",
    ):
        with pytest.raises(DestinationRejected) as raised:
            await check_destination(url, settings)
        assert raised.value.details["field"] == "url"


async def test_development_allows_only_loopback(db):
    settings = fast_settings(db.url)
    assert await check_destination("http://127.0.0.1:9/x", settings) == ["127.0.0.1"]
    with pytest.raises(DestinationRejected):
        await check_destination("http://10.0.0.5/x", settings)
    with pytest.raises(DestinationRejected):
        await check_destination("http://169.254.169.254/x", settings)


async def test_allowlist_by_host_and_network(db):
    by_network = _settings(db.url, webhook_allowed_hosts=["127.0.0.0/8"])
    by_host = _settings(db.url, webhook_allowed_hosts=["localhost"])

    assert await check_destination("http://127.0.0.1:9/x", by_network) == ["127.0.0.1"]
    assert "127.0.0.1" in await check_destination("http://localhost:9/x", by_host)
    with pytest.raises(DestinationRejected):
        await check_destination("http://127.0.0.1:9/x", by_host)


async def test_production_api_rejects_private_url(db, tenant):
    app = create_app(_settings(db.url, webhook_worker=False), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as client:
            response = await client.post(
                "/webhooks",
                json={"url": "http://192.168.0.10/hook", "events": ["*"]},
                headers=tenant.headers,
            )

    assert response.status_code == 400
    assert response.json()["error"]["details"]["field"] == "url"
    assert "private" in response.json()["error"]["message"]


async def test_delivery_time_check_blocks(db, tenant, manual_factory, receiver):
    # Saved while allowlisted; the allowlist is gone when the worker sends.
    allowed = await manual_factory(**PRODUCTION, webhook_allowed_hosts=["127.0.0.1"])
    webhook = await create_webhook(allowed.client, tenant, receiver.url, ["*"])
    await create_conversation(allowed.client, tenant)
    strict = await manual_factory(**PRODUCTION)

    assert await strict.worker.run_once() == 1

    deliveries = (
        await allowed.client.get(f"/webhooks/{webhook['id']}/deliveries", headers=tenant.headers)
    ).json()["data"]
    assert receiver.requests == []
    assert deliveries[0]["status"] == "failed"
    assert deliveries[0]["attempts"][0]["error"].startswith("blocked:")
    assert deliveries[0]["attempts"][0]["nextRetryAt"] is None


def test_attempt_connects_to_checked_address():
    url, headers, extensions = _pinned_request("https://hooks.example.com/in?x=1", "203.0.113.7")

    assert str(url) == "https://203.0.113.7/in?x=1"
    assert headers == {"Host": "hooks.example.com"}
    assert extensions == {"sni_hostname": "hooks.example.com"}


def test_pinned_ipv6_keeps_brackets_and_port():
    url, headers, extensions = _pinned_request("http://[::1]:8080/x", "::1")

    assert str(url) == "http://[::1]:8080/x"
    assert headers == {"Host": "[::1]:8080"}
    assert extensions == {}


async def test_dns_lookups_off_resolves_only_localhost(db):
    settings = fast_settings(db.url, webhook_dns_lookups=False)
    injected = guard.set_resolver(None)
    try:
        local = await check_destination("http://localhost:9/x", settings)
        with pytest.raises(guard.ResolutionFailed, match="webhook_dns_lookups") as raised:
            await check_destination("http://hooks.example.com/x", settings)
    finally:
        guard.set_resolver(injected)

    assert local == ["127.0.0.1", "::1"]
    assert "127.0.0.1" in str(raised.value)


async def test_suite_records_outside_lookups(db, no_outside_lookups):
    with pytest.raises(guard.ResolutionFailed):
        await check_destination("http://hooks.example.com/x", fast_settings(db.url))
    rejected = list(no_outside_lookups.rejected)
    # Cleared, or this test's teardown would fail as any other test's would.
    no_outside_lookups.rejected.clear()

    assert rejected == ["hooks.example.com"]


class HangingResolver:
    """A resolver that records each lookup and never answers, like an unreachable DNS server."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def __call__(self, host: str, port: int) -> list:  # type: ignore[type-arg]
        self.hosts.append(host)
        await asyncio.sleep(3600)
        return []


async def test_saving_webhook_sends_no_dns_query(db, tenant):
    app = create_app(_settings(db.url, webhook_worker=False), db=db)
    resolver = HangingResolver()
    previous = guard.set_resolver(resolver)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as client:
                created = await asyncio.wait_for(
                    client.post(
                        "/webhooks",
                        json={"url": "https://hooks.example.test/in", "events": ["*"]},
                        headers=tenant.headers,
                    ),
                    timeout=5,
                )
                updated = await asyncio.wait_for(
                    client.patch(
                        f"/webhooks/{created.json()['id']}",
                        json={"url": "https://other.example.test/in"},
                        headers=tenant.headers,
                    ),
                    timeout=5,
                )
                rejected = {
                    url: await client.post(
                        "/webhooks", json={"url": url, "events": ["*"]}, headers=tenant.headers
                    )
                    for url in (
                        "http://localhost:9/x",
                        "http://10.0.0.5/x",
                        "http://169.254.169.254/latest/meta-data",
                    )
                }
                await client.delete(f"/webhooks/{created.json()['id']}", headers=tenant.headers)
    finally:
        guard.set_resolver(previous)

    assert created.status_code == 201, created.text
    assert updated.status_code == 200, updated.text
    assert updated.json()["url"] == "https://other.example.test/in"
    assert resolver.hosts == []
    for url, response in rejected.items():
        assert response.status_code == 400, url
        assert response.json()["error"]["details"]["field"] == "url", url
    assert "loopback" in rejected["http://localhost:9/x"].json()["error"]["message"]
    assert "private" in rejected["http://10.0.0.5/x"].json()["error"]["message"]
    metadata = rejected["http://169.254.169.254/latest/meta-data"]
    assert "metadata" in metadata.json()["error"]["message"]


async def test_delivery_blocks_name_of_loopback(db, tenant, manual_factory, receiver):
    url = f"http://localhost:{receiver.port}{receiver.path}"
    allowed = await manual_factory(**PRODUCTION, webhook_allowed_hosts=["localhost"])
    webhook = await create_webhook(allowed.client, tenant, url, ["*"])
    await create_conversation(allowed.client, tenant)
    strict = await manual_factory(**PRODUCTION)

    assert await strict.worker.run_once() == 1

    deliveries = (
        await allowed.client.get(f"/webhooks/{webhook['id']}/deliveries", headers=tenant.headers)
    ).json()["data"]
    error = deliveries[0]["attempts"][0]["error"]
    assert receiver.requests == []
    assert deliveries[0]["status"] == "failed"
    assert error.startswith("blocked: url host 'localhost' is 127.0.0.1 (a loopback address)")
    assert "::1 (a loopback address)" in error
    assert "CAMPFIRE_WEBHOOK_ALLOWED_HOSTS" in error
    assert deliveries[0]["attempts"][0]["nextRetryAt"] is None


async def test_delivery_connects_only_to_allowed_address(db, tenant, manual_factory, receiver):
    """A name with a forbidden and an allowed address is sent to the allowed one only."""
    trapped: list[str] = []

    async def trap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        trapped.append(writer.get_extra_info("sockname")[0])
        writer.close()

    trap_server = await asyncio.start_server(trap, "127.0.0.2", receiver.port)

    async def resolve_localhost(host: str, port: int) -> list:  # type: ignore[type-arg]
        assert host == "localhost"
        return [ipaddress.ip_address("127.0.0.2"), ipaddress.ip_address("127.0.0.1")]

    url = f"http://localhost:{receiver.port}{receiver.path}"
    allowed = await manual_factory(**PRODUCTION, webhook_allowed_hosts=["localhost"])
    webhook = await create_webhook(allowed.client, tenant, url, ["*"])
    await create_conversation(allowed.client, tenant)
    strict = await manual_factory(**PRODUCTION, webhook_allowed_hosts=["127.0.0.1/32"])
    previous = guard.set_resolver(resolve_localhost)
    try:
        assert await strict.worker.run_once() == 1
    finally:
        guard.set_resolver(previous)
        trap_server.close()
        await trap_server.wait_closed()

    deliveries = (
        await allowed.client.get(f"/webhooks/{webhook['id']}/deliveries", headers=tenant.headers)
    ).json()["data"]
    assert deliveries[0]["status"] == "succeeded"
    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["host"] == f"localhost:{receiver.port}"
    assert trapped == []


LOOPBACK_NAME_URLS = [
    "http://localhost./x",
    "http://LOCALHOST/x",
    "http://localhost../x",
    "http://foo.localhost./x",
    "http://Foo.LocalHost/x",
    "http://localhost.localdomain/x",
    "http://localhost.localdomain./x",
    "http://ip6-localhost/x",
    "http://IP6-LOCALHOST./x",
    "http://ip6-loopback/x",
    "http://127.0.0.1./x",
    "http://[::1]/x",
    "http://2130706433./x",
]


@pytest.mark.parametrize("url", LOOPBACK_NAME_URLS)
def test_save_rejects_loopback_name_forms(db, url):
    with pytest.raises(DestinationRejected) as raised:
        guard.check_url(url, _settings(db.url))

    assert "a loopback address" in raised.value.message
    assert raised.value.details["field"] == "url"


@pytest.mark.parametrize(
    "url",
    ["http://localhost%2e/x", "http://127.0.0.1%00.example.com/x", "http://[fe80::1%25lo]/x"],
)
def test_save_rejects_percent_in_host(db, url):
    with pytest.raises(DestinationRejected) as raised:
        guard.check_url(url, _settings(db.url))

    assert "percent-encoded" in raised.value.message
    assert raised.value.details["field"] == "url"


def test_save_rejects_hosts_file_names(db, tmp_path, monkeypatch):
    hosts = tmp_path / "hosts"
    hosts.write_text(
        "127.0.0.1 localhost\n"
        "127.0.1.1  buildbox.example.internal buildbox  # this machine\n"
        "::1 six-loop\n"
        "10.1.2.3 db.internal\n"
        "# 127.0.0.1 commented.example\n"
        "fe80::1%lo0 zoned\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(guard, "HOSTS_FILE", hosts)
    settings = _settings(db.url)

    reasons = {}
    for host in (
        "buildbox",
        "BuildBox.",
        "buildbox.example.internal",
        "six-loop",
        "db.internal",
        "zoned",
    ):
        with pytest.raises(DestinationRejected) as raised:
            guard.check_url(f"http://{host}/x", settings)
        reasons[host] = raised.value.message
    accepted = guard.check_url("http://commented.example/x", settings)

    assert "127.0.1.1 (a loopback address)" in reasons["buildbox"]
    assert "127.0.1.1 (a loopback address)" in reasons["BuildBox."]
    assert "loopback" in reasons["buildbox.example.internal"]
    assert "::1 (a loopback address)" in reasons["six-loop"]
    assert "10.1.2.3 (a private address)" in reasons["db.internal"]
    assert "link-local" in reasons["zoned"]
    assert accepted.host == "commented.example"


def test_hosts_file_reread_after_change(tmp_path, monkeypatch):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 first\n", encoding="utf-8")
    monkeypatch.setattr(guard, "HOSTS_FILE", hosts)
    before = guard.hosts_file_addresses("second")
    hosts.write_text("127.0.0.1 first\n127.0.0.2 second\n", encoding="utf-8")
    after = guard.hosts_file_addresses("second")
    monkeypatch.setattr(guard, "HOSTS_FILE", tmp_path / "missing")
    missing = guard.hosts_file_addresses("first")

    assert before == []
    assert after == [ipaddress.ip_address("127.0.0.2")]
    assert missing == []


def test_allowlist_matches_name_with_trailing_dot(db):
    settings = _settings(db.url, webhook_allowed_hosts=["localhost"])

    assert guard.check_url("http://localhost./x", settings).port == 80


async def test_api_rejects_loopback_names_in_production(db, tenant):
    app = create_app(_settings(db.url, webhook_worker=False), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as client:
            responses = {
                url: await client.post(
                    "/webhooks", json={"url": url, "events": ["*"]}, headers=tenant.headers
                )
                for url in LOOPBACK_NAME_URLS
            }
            listed = await client.get("/webhooks", headers=tenant.headers)

    for url, response in responses.items():
        assert response.status_code == 400, (url, response.text)
        assert "loopback" in response.json()["error"]["message"], url
    assert listed.json()["data"] == []


RESERVED_NAME_REASONS = {
    "ip6-localnet": "fe00:: (a reserved address)",
    "IP6-LOCALNET.": "fe00:: (a reserved address)",
    "ip6-mcastprefix": "ff00:: (a multicast address)",
    "ip6-allnodes": "ff02::1 (a multicast address)",
    "ip6-allrouters": "ff02::2 (a multicast address)",
    "ip6-allhosts": "ff02::3 (a multicast address)",
    "broadcasthost": "255.255.255.255 (a private address)",
    "ｉｐ６-localnet": "fe00:: (a reserved address)",
    "ｂｒｏａｄｃａｓｔｈｏｓｔ": "255.255.255.255 (a private address)",
    "ip6-allnodes。": "ff02::1 (a multicast address)",
}


@pytest.mark.parametrize("host", sorted(RESERVED_NAME_REASONS))
def test_save_rejects_reserved_names_without_hosts_entry(db, tmp_path, monkeypatch, host):
    empty_hosts = tmp_path / "hosts"
    empty_hosts.write_text("", encoding="utf-8")
    monkeypatch.setattr(guard, "HOSTS_FILE", empty_hosts)

    with pytest.raises(DestinationRejected) as raised:
        guard.check_url(f"http://{host}/x", _settings(db.url))

    assert RESERVED_NAME_REASONS[host] in raised.value.message
    assert raised.value.details["field"] == "url"


@pytest.mark.parametrize("host", sorted(RESERVED_NAME_REASONS))
async def test_delivery_rejects_reserved_names_without_lookup(
    db, tmp_path, monkeypatch, no_outside_lookups, host
):
    empty_hosts = tmp_path / "hosts"
    empty_hosts.write_text("", encoding="utf-8")
    monkeypatch.setattr(guard, "HOSTS_FILE", empty_hosts)

    with pytest.raises(DestinationRejected) as raised:
        await check_destination(f"http://{host}/x", _settings(db.url))

    assert RESERVED_NAME_REASONS[host] in raised.value.message
    assert no_outside_lookups.rejected == []


def test_development_rejects_reserved_names(db):
    settings = fast_settings(db.url)

    with pytest.raises(DestinationRejected) as raised:
        guard.check_url("http://ip6-allnodes/x", settings)

    assert "ff02::1 (a multicast address)" in raised.value.message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[fe00::]/x", "fe00:: (a reserved address)"),
        ("http://[fe00::1]/x", "fe00::1 (a reserved address)"),
        ("http://[fec0::1]/x", "fec0::1 (a site-local address)"),
    ],
)
def test_save_rejects_reserved_ipv6_ranges(db, url, reason):
    with pytest.raises(DestinationRejected) as raised:
        guard.check_url(url, _settings(db.url))

    assert reason in raised.value.message


FULL_WIDTH_URLS = [
    "https://ｌｏｃａｌｈｏｓｔ/h",
    "https://ｉｐ６-localnet/h",
    "https://ｂｒｏａｄｃａｓｔｈｏｓｔ/h",
    "https://１２７.０.０.１/h",
]


async def test_api_rejects_full_width_reserved_names(db, tenant):
    app = create_app(_settings(db.url, webhook_worker=False), db=db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t/api/v2") as client:
            responses = {
                url: await client.post(
                    "/webhooks", json={"url": url, "events": ["*"]}, headers=tenant.headers
                )
                for url in FULL_WIDTH_URLS
            }
            listed = await client.get("/webhooks", headers=tenant.headers)

    for url, response in responses.items():
        assert response.status_code == 400, (url, response.text)
    assert "loopback" in responses[FULL_WIDTH_URLS[0]].json()["error"]["message"]
    assert "fe00::" in responses[FULL_WIDTH_URLS[1]].json()["error"]["message"]
    assert "255.255.255.255" in responses[FULL_WIDTH_URLS[2]].json()["error"]["message"]
    assert listed.json()["data"] == []


async def test_delivery_rejects_full_width_localhost(db, no_outside_lookups):
    with pytest.raises(DestinationRejected) as raised:
        await check_destination("https://ｌｏｃａｌｈｏｓｔ/h", _settings(db.url))

    assert "loopback" in raised.value.message
    assert no_outside_lookups.rejected == []


@pytest.mark.parametrize(
    ("host", "ascii_name"),
    [
        ("ｌｏｃａｌｈｏｓｔ", "localhost"),
        ("LocalHost", "localhost"),
        ("example。com", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("::1", "::1"),
    ],
)
def test_ascii_host_maps_like_url_parsers(host, ascii_name):
    assert guard.ascii_host(host, f"http://{host}/") == ascii_name


def test_parse_url_rejects_folded_punctuation():
    with pytest.raises(DestinationRejected) as folded_at:
        guard.parse_url("https://example.com＠localhost/h")
    with pytest.raises(DestinationRejected) as folded_star:
        guard.parse_url("https://exa＊mple.com/h")

    assert folded_at.value.details["field"] == "url"
    assert "'exa*mple.com', which is not a host name" in folded_star.value.message
