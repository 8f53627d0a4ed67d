"""Serving of widget.js and the demo page, and static checks on the script."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from campfire_server.api.routes.widget_assets import WIDGET_PATH
from campfire_server.app import create_app
from campfire_server.db.database import Database
from tests.conftest import test_settings as make_settings

# The budget that BENCHMARKS.md records for the served (minified) script.
MAX_GZIPPED_BYTES = 30 * 1024

WIDGET_PROJECT = Path(__file__).resolve().parents[2] / "widget"
WIDGET_SOURCE_PATH = WIDGET_PROJECT / "src" / "widget.js"


@pytest.fixture
async def site(db: Database):
    application = create_app(make_settings(db.url), db=db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


@pytest.mark.parametrize("path", ["/widget.js", "/v2/widget.js"])
async def test_widget_script_headers(site: httpx.AsyncClient, path: str) -> None:
    response = await site.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "max-age=" in response.headers["cache-control"]
    assert response.headers["etag"].startswith('"')
    assert response.content == WIDGET_PATH.read_bytes()


async def test_widget_script_gzip_and_etag(site: httpx.AsyncClient) -> None:
    response = await site.get("/widget.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["vary"]
    assert response.content == WIDGET_PATH.read_bytes()  # httpx decodes the gzip body

    cached = await site.get("/widget.js", headers={"If-None-Match": response.headers["etag"]})
    assert cached.status_code == 304
    assert cached.content == b""

    stale = await site.get("/widget.js", headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200


async def test_widget_script_plain_without_gzip(site: httpx.AsyncClient) -> None:
    response = await site.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in response.headers
    assert int(response.headers["content-length"]) == len(WIDGET_PATH.read_bytes())


def test_widget_script_size_under_budget() -> None:
    size = len(gzip.compress(WIDGET_PATH.read_bytes(), compresslevel=9))
    assert size < MAX_GZIPPED_BYTES, f"widget.js is {size} bytes gzipped"


@pytest.mark.parametrize("path", [WIDGET_SOURCE_PATH, WIDGET_PATH], ids=["source", "build"])
def test_widget_script_never_parses_html_or_code(path: Path) -> None:
    source = path.read_text()
    for pattern in (
        r"\binnerHTML\b",
        r"\bouterHTML\b",
        r"insertAdjacentHTML",
        r"document\.write",
        r"\beval\s*\(",
        r"new\s+Function\b",
        r"setTimeout\(\s*['\"]",
        r"setAttribute\(\s*['\"]style['\"]",
        r"createContextualFragment",
        r"DOMParser",
    ):
        assert not re.search(pattern, source), f"{path.name} uses {pattern}"


def test_widget_build_matches_source() -> None:
    """Check that the served widget.js equals a fresh esbuild build of the source."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    if not (WIDGET_PROJECT / "node_modules" / "esbuild").is_dir():
        pytest.skip("esbuild is not installed; run `cd widget && npm ci`")
    result = subprocess.run(
        ["node", "build.mjs", "--check"],
        cwd=WIDGET_PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


async def test_demo_page_in_development(site: httpx.AsyncClient) -> None:
    response = await site.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Larkspur" in page
    assert "apiKey: 'pk_test_development'" in page
    assert "mailboxId: 'mailbox_456'" in page
    assert '<script src="/v2/widget.js"></script>' in page
    assert "{{nonce}}" not in page

    policy = response.headers["content-security-policy"]
    nonce = policy.split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script nonce="{nonce}">' in page
    assert f"nonce: '{nonce}'" in page
    assert "unsafe-inline" not in policy
    again = await site.get("/")
    assert again.headers["content-security-policy"] != policy


async def test_demo_page_absent_outside_development(db: Database) -> None:
    application = create_app(make_settings(db.url, env="test"), db=db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get("/")
            script = await http.get("/widget.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NOT_FOUND"
    assert script.status_code == 200


async def test_development_publishable_key_only_opens_sessions(
    site: httpx.AsyncClient,
) -> None:
    response = await site.post(
        "/api/v2/conversations",
        json={"customerId": "visitor_1", "mailboxId": "mailbox_456"},
        headers={"Authorization": "Bearer pk_test_development"},
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTHORIZATION_ERROR"


async def test_development_publishable_key_rejected_outside_development(db: Database) -> None:
    application = create_app(make_settings(db.url, env="test"), db=db)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.get(
                "/api/v2/conversations", headers={"Authorization": "Bearer pk_test_development"}
            )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "AUTHENTICATION_ERROR"


async def test_favicon_is_empty_not_missing(site: httpx.AsyncClient) -> None:
    # Pages without an icon of their own, such as article pages, make the
    # browser request /favicon.ico; a 404 there would be a console error.
    response = await site.get("/favicon.ico")
    assert response.status_code == 204
    assert response.content == b""


def run_node(script: str) -> Any:
    """Run ``script`` with node and return the JSON that it writes to standard output."""
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    result = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, timeout=30, check=True
    )
    return json.loads(result.stdout)


def strings_table() -> str:
    """Return the source of the widget's STRINGS table, a JavaScript object literal."""
    source = WIDGET_SOURCE_PATH.read_text()
    match = re.search(r"^  var STRINGS = (\{.*?^  \});$", source, re.MULTILINE | re.DOTALL)
    assert match, "widget.js has no STRINGS table"
    return match.group(1)


def widget_strings() -> dict[str, dict[str, str | dict[str, str]]]:
    """Evaluate the widget's STRINGS table with node and return it by locale."""
    return run_node(f"process.stdout.write(JSON.stringify({strings_table()}))")


def placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{\w+\}", text))


def test_widget_locales_have_every_key() -> None:
    strings = widget_strings()
    assert sorted(strings) == [
        "ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "tr", "zh",
        "zh-hant",
    ]  # fmt: skip
    english = set(strings["en"])
    assert {"errTooManyChats", "errTooManyChatsWait", "errBusy", "errBusyWait"} <= english
    for locale, table in strings.items():
        assert sorted(english - set(table)) == [], f"{locale} lacks these keys"
        assert sorted(set(table) - english) == [], f"{locale} has keys English lacks"


def test_widget_locale_placeholders_match() -> None:
    """Each string has English's placeholders, but a plural form may spell the count as a word."""
    strings = widget_strings()
    for locale, table in strings.items():
        for key, entry in table.items():
            english = strings["en"][key]
            expected = placeholders(english["other"] if isinstance(english, dict) else english)
            forms = entry if isinstance(entry, dict) else {"other": entry}
            assert placeholders(forms["other"]) == expected, f"{locale}.{key}"
            for category, text in forms.items():
                assert placeholders(text) <= expected, f"{locale}.{key}.{category}"


def test_widget_plural_forms_cover_categories() -> None:
    """Each plural string has a form for every category that the locale's plural rules use.

    A string with a count that reads the same for every number may stay a
    plain string only in locales with a single category (Chinese, Japanese
    and Korean) or where the noun does not change after a number (Turkish).
    """
    script = f"""
      var strings = {strings_table()};
      var report = {{}};
      for (var locale in strings) {{
        report[locale] = new Intl.PluralRules(locale).resolvedOptions().pluralCategories;
      }}
      process.stdout.write(JSON.stringify(report));
    """
    categories = run_node(script)
    strings = widget_strings()
    counted = {key for key, entry in strings["en"].items() if isinstance(entry, dict)}
    invariant = {"zh", "zh-hant", "ja", "ko", "tr"}
    assert {"unread", "waitMinutes", "errTooManyWait", "errTooManyChatsWait"} <= counted
    assert "errBusyWait" in counted
    for locale, table in strings.items():
        # CLDR's "many" of French, Spanish, Italian and Portuguese is for
        # millions ("1 000 000 de secondes"), which no count shown reaches.
        needed = set(categories[locale]) - (
            {"many"} if locale in {"fr", "es", "it", "pt"} else set()
        )
        for key in counted:
            entry = table[key]
            if locale in invariant and isinstance(entry, str):
                continue
            assert isinstance(entry, dict), f"{locale}.{key} has no plural forms"
            assert sorted(needed - set(entry)) == [], f"{locale}.{key} lacks these forms"
