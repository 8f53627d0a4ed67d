"""The public help-centre page of an article, at ``/kb/{articleId}``.

AI answers cite an article without a url of its own as ``/kb/{articleId}``,
and customers open that link from the widget, so the page needs no
credential, as a help centre's articles are public. It shows the article's
title, body and last update only: never its organization, mailboxes, tags
or external id. Article ids carry at least 96 random bits, so only a cited or shared
link finds an article. ``X-Robots-Tag: noindex`` keeps the pages out of
search engines, because an article may serve a single mailbox.

Views are limited per client IP address (``helpCentrePagesPerMinute``) in
the route itself, on top of the address limit of all anonymous requests,
which applies whatever ``Authorization`` header a request carries, because
this route never checks one. Over the page limit the page is a ``429`` in
HTML with ``Retry-After``, as browsers open it.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from ...clock import to_iso
from ...errors import RateLimited
from ...knowledge import article_page
from ..deps import client_address, enforce_limit

router = APIRouter(include_in_schema=False)

# Article ids are "art_" and 31 base62 characters (26 before ids grew); anything
# longer than this is not looked up.
MAX_ARTICLE_ID_CHARS = 64

HEADERS = {
    "Content-Security-Policy": article_page.CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}


@router.api_route("/kb/{article_id}", methods=["GET", "HEAD"])
async def help_centre_article(article_id: str, request: Request) -> Response:
    rate_limits = request.app.state.rate_limits
    decision = await rate_limits.hit_help_centre_page(client_address(request))
    # A page is public HTML outside the API, so its rate headers report the
    # page-view limit, the one that can reject it.
    request.scope.setdefault("state", {})["rate_limit"] = decision
    try:
        enforce_limit(request, decision)
    except RateLimited as error:
        return HTMLResponse(
            article_page.rate_limited_page(decision.retry_after()),
            status_code=429,
            headers={**HEADERS, **error.headers, "Cache-Control": "no-store"},
        )

    row = None
    if len(article_id) <= MAX_ARTICLE_ID_CHARS:
        rows = await request.app.state.db.read(
            lambda tx: tx.all(
                "SELECT title, content, updated_at FROM kb_articles WHERE id = :id LIMIT 2",
                id=article_id,
            )
        )
        # Ids are unique across organizations in practice, but the primary key
        # allows a repeat in another one, and such a link names neither.
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        return HTMLResponse(
            article_page.not_found_page(article_id[:MAX_ARTICLE_ID_CHARS]),
            status_code=404,
            headers={**HEADERS, "Cache-Control": "no-store"},
        )
    html = article_page.article_page(row["title"], row["content"], to_iso(row["updated_at"])[:10])
    return HTMLResponse(html, headers={**HEADERS, "Cache-Control": "public, max-age=60"})
