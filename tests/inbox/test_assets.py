"""The built inbox as the server ships it: page, hashed assets and their headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from campfire_server.api.routes.inbox_assets import INBOX_DIR

SOURCE_DIR = Path(__file__).resolve().parents[2] / "inbox" / "src"


@pytest.fixture
async def site(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def built_assets() -> list[str]:
    page = (INBOX_DIR / "index.html").read_text()
    return re.findall(r'(?:src|href)="/inbox/(assets/[^"]+)"', page)


def test_build_is_newer_than_sources() -> None:
    sources = [path for path in SOURCE_DIR.rglob("*") if path.is_file()]
    assert sources, "inbox/src is empty"
    built = INBOX_DIR / "index.html"
    assert built.is_file(), "the inbox is not built; run `make inbox`"
    newest_source = max(path.stat().st_mtime for path in sources)
    # A fresh checkout gives every file the checkout time, so allow a margin.
    stale = built.stat().st_mtime < newest_source - 120
    assert not stale, "the inbox build is stale; run `make inbox`"


async def test_inbox_page_served(site: httpx.AsyncClient) -> None:
    redirect = await site.get("/inbox")
    assert redirect.status_code == 308
    assert redirect.headers["location"] == "/inbox/"

    page = await site.get("/inbox/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


async def test_inbox_assets_cached_and_compressed(site: httpx.AsyncClient) -> None:
    assets = built_assets()
    assert any(name.endswith(".js") for name in assets)
    assert any(name.endswith(".css") for name in assets)
    for name in assets:
        response = await site.get(f"/inbox/{name}", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200, name
        assert "immutable" in response.headers["cache-control"]
        assert response.headers["content-encoding"] == "gzip"
        etag = response.headers["etag"]
        again = await site.get(f"/inbox/{name}", headers={"If-None-Match": etag})
        assert again.status_code == 304


@pytest.mark.parametrize(
    "name", ["..%2Findex.html", "missing.js", "index.html", ".hidden.js", "x.exe"]
)
async def test_inbox_asset_names_checked(site: httpx.AsyncClient, name: str) -> None:
    response = await site.get(f"/inbox/assets/{name}")
    assert response.status_code == 404
