"""The public help-centre page /kb/{articleId}, over HTTP on 127.0.0.1 with both engines."""

from __future__ import annotations

import httpx
import pytest

from campfire_server.knowledge import article_page
from tests.conftest import make_tenant

ARTICLE = {
    "title": "Refunds <script>window.__xss=1</script>",
    "content": (
        "# Refunds <script>window.__xss=1</script>\n\n"
        "Refunds take **5 days**. See [billing](/kb/art_other) or "
        "[evil](javascript:alert(1)).\n\n"
        "- first <img src=x onerror=alert(2)>\n"
        "- second\n\n"
        "```\n<b>code</b>\n```\n"
    ),
    "tags": ["secret-tag"],
    "mailboxIds": ["mailbox_test_1"],
    "externalId": "secret-external-id",
}


async def test_article_page_is_public_and_escaped(db, live_server):
    tenant = await make_tenant(db, "Help centre org")
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        created = await http.post(
            "/api/v2/knowledge/articles", json=ARTICLE, headers=tenant.headers
        )
        assert created.status_code == 201, created.text
        article_id = created.json()["id"]

        # No credential: help-centre articles are public, as AI sources link to them.
        response = await http.get(f"/kb/{article_id}")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src" not in response.headers["content-security-policy"]
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert response.headers["x-content-type-options"] == "nosniff"
    page = response.text
    assert "<h1>Refunds &lt;script&gt;window.__xss=1&lt;/script&gt;</h1>" in page
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert "<strong>5 days</strong>" in page
    assert '<a href="/kb/art_other" rel="nofollow noopener">billing</a>' in page
    assert "javascript:" not in page
    # The unsafe link keeps its text, without the link or a stray bracket.
    assert "or evil.</p>" in page
    assert "<pre><code>&lt;b&gt;code&lt;/b&gt;</code></pre>" in page
    # Only the article itself is shown, nothing about its organization.
    for private in (tenant.org_id, "mailbox_test_1", "secret-tag", "secret-external-id"):
        assert private not in page, private
    # The first heading repeats the title, so it is not shown twice.
    assert page.count("Refunds &lt;script&gt;") == 2  # <title> and <h1>


async def test_unknown_article_is_404_page(live_server):
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        unknown = await http.get("/kb/art_<b>missing")
        too_long = await http.get("/kb/" + "a" * 500)
        head = await http.head("/kb/art_missing")

    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("text/html")
    assert "art_&lt;b&gt;missing" in unknown.text
    assert "<b>" not in unknown.text
    assert too_long.status_code == 404
    assert head.status_code == 404


async def test_head_of_article_is_200(db, live_server):
    tenant = await make_tenant(db, "Help centre HEAD org")
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as http:
        created = await http.post(
            "/api/v2/knowledge/articles",
            json={"title": "Opening hours", "content": "We open at 9."},
            headers=tenant.headers,
        )
        article_id = created.json()["id"]
        head = await http.head(f"/kb/{article_id}")

    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("plain text", "<p>plain text</p>"),
        ("## Steps\n1. one\n2. two", "<h3>Steps</h3>\n<ol><li>one</li><li>two</li></ol>"),
        ("- a\n- b\n\ntext", "<ul><li>a</li><li>b</li></ul>\n<p>text</p>"),
        ("> quoted", "<blockquote><p>quoted</p></blockquote>"),
        ("use `a<b>`", "<p>use <code>a&lt;b&gt;</code></p>"),
        ("[x](//evil.test/a)", "<p>x</p>"),
        (
            "[x](https://example.test/a?b=1&c=2)",
            '<p><a href="https://example.test/a?b=1&amp;c=2" rel="nofollow noopener">x</a></p>',
        ),
        ("```\nunclosed <i>", "<pre><code>unclosed &lt;i&gt;</code></pre>"),
        ("see [x](javascript:alert(1)) now", "<p>see x now</p>"),
        ("[x](javascript:alert(document.cookie))", "<p>x</p>"),
        ("[x]( javascript:alert(1) )", "<p>x</p>"),
        ("[x](<javascript:alert(1)>)", "<p>x</p>"),
        (
            "[docs](https://example.test/a_(b))",
            '<p><a href="https://example.test/a_(b)" rel="nofollow noopener">docs</a></p>',
        ),
        (
            '[docs](/kb/a "Title")',
            '<p><a href="/kb/a" rel="nofollow noopener">docs</a></p>',
        ),
        ("a (b) [c] (d)", "<p>a (b) [c] (d)</p>"),
        ("\"quotes\" & 'apostrophes'", "<p>&quot;quotes&quot; &amp; &#x27;apostrophes&#x27;</p>"),
    ],
)
def test_render_markdown(markdown, expected):
    assert article_page.render_markdown(markdown) == expected
