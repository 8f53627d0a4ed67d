"""The agent inbox: a single-page app built from ``inbox/`` into ``static/inbox/``.

``/inbox`` serves the page and ``/inbox/assets/...`` its scripts and styles,
whose file names carry a content hash, so they are cached for a year.
"""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ...errors import NotFound, quoted
from .widget_assets import STATIC_DIR, _accepts_gzip, _etag_matches, load_asset

INBOX_DIR = STATIC_DIR / "inbox"
ASSETS_DIR = INBOX_DIR / "assets"
ASSET_NAME = re.compile(r"^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.(js|css|svg|png|woff2)$")
MEDIA_TYPES = {
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml",
    "png": "image/png",
    "woff2": "font/woff2",
}
IMMUTABLE = "public, max-age=31536000, immutable"

router = APIRouter(include_in_schema=False)


def _not_built() -> NotFound:
    return NotFound("the inbox is not built; run `make inbox` and restart the server")


@router.get("/inbox")
async def inbox_page_redirect() -> Response:
    # The page's relative asset URLs resolve against /inbox/.
    return RedirectResponse("/inbox/", status_code=308)


@router.get("/inbox/")
async def inbox_page() -> Response:
    page = INBOX_DIR / "index.html"
    if not page.is_file():
        raise _not_built()
    return HTMLResponse(load_asset(page).body, headers={"Cache-Control": "no-cache"})


@router.api_route("/inbox/assets/{name}", methods=["GET", "HEAD"])
async def inbox_asset(name: str, request: Request) -> Response:
    match = ASSET_NAME.match(name)
    path: Path = ASSETS_DIR / name
    if match is None or not path.is_file():
        raise NotFound(f"no inbox asset named {quoted(name)}")
    asset = load_asset(path)
    headers = {"Cache-Control": IMMUTABLE, "ETag": asset.etag, "Vary": "Accept-Encoding"}
    if _etag_matches(request, asset.etag):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if _accepts_gzip(request) and match.group(1) in ("js", "css", "svg"):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        body = b""
    return Response(body, media_type=MEDIA_TYPES[match.group(1)], headers=headers)
