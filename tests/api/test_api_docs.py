"""The interactive API docs load only files that this server serves."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import httpx

from campfire_server.api.routes.api_docs import SWAGGER_UI_DIR, swagger_ui_version

REPOSITORY = Path(__file__).resolve().parents[2]


class References(HTMLParser):
    """Collect every URL a page refers to, and whether it has inline scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts_without_src = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href", "action", "data", "poster"):
            if values.get(name):
                self.urls.append(values[name] or "")
        if tag == "script" and not values.get("src"):
            self.scripts_without_src += 1


def references(html: str) -> References:
    parser = References()
    parser.feed(html)
    return parser


def test_version_is_the_pinned_one() -> None:
    lock = json.loads((REPOSITORY / "swagger-ui/package-lock.json").read_text())
    pinned = lock["packages"]["node_modules/swagger-ui-dist"]["version"]
    manifest = json.loads((REPOSITORY / "swagger-ui/package.json").read_text())

    assert manifest["dependencies"]["swagger-ui-dist"] == pinned
    assert swagger_ui_version() == pinned
    assert (SWAGGER_UI_DIR / "LICENSE").is_file()


async def test_docs_page_is_same_origin(client) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = references(response.text)
    assert "http://" not in response.text
    assert "https://" not in response.text
    assert page.scripts_without_src == 0
    assert len(page.urls) == 4
    for url in page.urls:
        assert url.startswith("/api/v2/docs/assets/"), url
        assert f"?v={swagger_ui_version()}" in url
    assert 'data-openapi-url="/api/v2/openapi.json"' in response.text


async def test_docs_csp_allows_own_origin_only(client) -> None:
    response = await client.get("/docs")

    policy = response.headers["content-security-policy"]
    assert "https:" not in policy
    assert "http:" not in policy
    assert "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy


async def test_docs_assets_are_served(client) -> None:
    page = references((await client.get("/docs")).text)
    expected_types = {
        "swagger-ui-bundle.js": "text/javascript",
        "init.js": "text/javascript",
        "swagger-ui.css": "text/css",
        "favicon-32x32.png": "image/png",
    }

    for url in page.urls:
        name = url.removeprefix("/api/v2/docs/assets/").partition("?")[0]
        response = await client.get(url.removeprefix("/api/v2"))
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith(expected_types[name]), url
        assert response.headers["etag"]
        assert len(response.content) > 0

    init = await client.get("/docs/assets/init.js")
    assert "validatorUrl: null" in init.text
    assert "http" not in init.text.split("SwaggerUIBundle(")[1]


async def test_docs_asset_caching(client) -> None:
    first = await client.get("/docs/assets/swagger-ui.css", headers={"Accept-Encoding": "gzip"})
    assert first.headers["content-encoding"] == "gzip"
    assert first.content == (SWAGGER_UI_DIR / "swagger-ui.css").read_bytes()

    again = await client.get(
        "/docs/assets/swagger-ui.css", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304


async def test_unknown_docs_asset_is_404(client) -> None:
    for name in ("index.html", "..%2Fwidget.js", "swagger-ui-bundle.js.map", "VERSION"):
        response = await client.get(f"/docs/assets/{name}")
        assert response.status_code == 404, name
        assert response.json()["error"]["code"] == "NOT_FOUND"


def test_live_docs_need_no_other_origin(live_server) -> None:
    with httpx.Client(base_url=live_server.base_url, timeout=30) as http:
        page = http.get("/api/v2/docs")
        assert page.status_code == 200
        urls = references(page.text).urls
        for url in urls:
            asset = http.get(url, headers={"Accept-Encoding": "gzip"})
            assert asset.status_code == 200, url
        bundle = http.get(next(url for url in urls if "swagger-ui-bundle.js" in url))
    assert bundle.content == (SWAGGER_UI_DIR / "swagger-ui-bundle.js").read_bytes()
