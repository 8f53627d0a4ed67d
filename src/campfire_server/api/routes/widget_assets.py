"""The embeddable widget script and, on a development server, the demo page.

These routes sit outside ``/api/v2``: host pages load ``/widget.js`` (or
``/v2/widget.js``, the path in the embed snippet) from any origin.
"""

from __future__ import annotations

import gzip
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from ...errors import NotFound

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
WIDGET_PATH = STATIC_DIR / "widget.js"
DEMO_PATH = STATIC_DIR / "demo" / "index.html"

# The URL carries no version, so caches must revalidate soon after a
# release; the ETag makes that revalidation a cheap 304.
WIDGET_CACHE_CONTROL = "public, max-age=300, stale-while-revalidate=86400"

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    mtime_ns: int


_cache: dict[Path, Asset] = {}


def load_asset(path: Path) -> Asset:
    """Read ``path`` and its gzip form once, again only when the file changes."""
    mtime_ns = path.stat().st_mtime_ns
    cached = _cache.get(path)
    if cached is not None and cached.mtime_ns == mtime_ns:
        return cached
    body = path.read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    asset = Asset(body, gzip.compress(body, compresslevel=9, mtime=0), etag, mtime_ns)
    _cache[path] = asset
    return asset


def _accepts_gzip(request: Request) -> bool:
    for part in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() == "gzip" and params.replace(" ", "") != "q=0":
            return True
    return False


def _etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = {value.strip().removeprefix("W/") for value in header.split(",")}
    return "*" in candidates or etag in candidates


def widget_response(request: Request) -> Response:
    asset = load_asset(WIDGET_PATH)
    headers = {
        "Cache-Control": WIDGET_CACHE_CONTROL,
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        # Host pages on any origin load the script, including pages that send
        # Cross-Origin-Embedder-Policy: require-corp.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "Access-Control-Allow-Origin": "*",
        "X-Content-Type-Options": "nosniff",
    }
    if _etag_matches(request, asset.etag):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if _accepts_gzip(request):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        body = b""
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


@router.api_route("/widget.js", methods=["GET", "HEAD"])
async def widget_script(request: Request) -> Response:
    return widget_response(request)


@router.api_route("/v2/widget.js", methods=["GET", "HEAD"])
async def widget_script_v2(request: Request) -> Response:
    return widget_response(request)


@router.api_route("/favicon.ico", methods=["GET", "HEAD"])
async def favicon() -> Response:
    """Answer the browser's icon request with no content, where a 404 is a console error."""
    return Response(status_code=204, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/")
async def demo_page(request: Request) -> Response:
    # The demo page embeds the development publishable key, so it exists
    # only on development servers.
    if not request.app.state.settings.is_development:
        raise NotFound("no page at /; the API is under /api/v2 and the widget at /widget.js")

    # The page runs under a strict nonce policy, as a careful integrator's
    # site would, so the demo also shows that the widget needs no
    # 'unsafe-inline'.
    nonce = secrets.token_urlsafe(16)
    page = load_asset(DEMO_PATH).body.decode().replace("{{nonce}}", nonce)
    policy = (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        f"style-src 'self' 'nonce-{nonce}'; connect-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    return HTMLResponse(
        page, headers={"Cache-Control": "no-store", "Content-Security-Policy": policy}
    )
