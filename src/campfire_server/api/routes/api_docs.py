"""The interactive API docs at ``/api/v2/docs``: Swagger UI served by this server.

The page loads nothing from another origin: Swagger UI's files are copied
from the npm package swagger-ui-dist, at the version that
``swagger-ui/package-lock.json`` pins, into ``static/swagger-ui/`` by
``make swagger-ui``, and the page's start-up script is ``static/api-docs/init.js``.
ReDoc is not served.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from ...errors import NotFound, quoted
from .widget_assets import STATIC_DIR, _accepts_gzip, _etag_matches, load_asset

SWAGGER_UI_DIR = STATIC_DIR / "swagger-ui"
INIT_SCRIPT = STATIC_DIR / "api-docs" / "init.js"
# Every file the page uses, by the name in its URL, with its media type.
ASSETS = {
    "swagger-ui-bundle.js": (SWAGGER_UI_DIR / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": (SWAGGER_UI_DIR / "swagger-ui.css", "text/css"),
    "favicon-32x32.png": (SWAGGER_UI_DIR / "favicon-32x32.png", "image/png"),
    "init.js": (INIT_SCRIPT, "text/javascript"),
}
# Asset URLs carry the Swagger UI version, so browsers fetch the files of
# another version at once. Within a version, the ETag makes revalidation cheap.
ASSET_CACHE_CONTROL = "public, max-age=86400"

router = APIRouter(include_in_schema=False)


def swagger_ui_version() -> str:
    return (SWAGGER_UI_DIR / "VERSION").read_text().strip()


def docs_page(docs_path: str, openapi_path: str) -> str:
    """Return the HTML of the docs page, whose every URL is a path on this server."""
    version = escape(swagger_ui_version())
    assets = escape(f"{docs_path}/assets")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Campfire API: interactive docs</title>
<link rel="icon" type="image/png" href="{assets}/favicon-32x32.png?v={version}">
<link rel="stylesheet" href="{assets}/swagger-ui.css?v={version}">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(openapi_path)}"></div>
<script src="{assets}/swagger-ui-bundle.js?v={version}"></script>
<script src="{assets}/init.js?v={version}"></script>
</body>
</html>
"""


@router.get("/docs")
async def api_docs(request: Request) -> Response:
    docs_path = request.url.path.rstrip("/")
    openapi_path = docs_path.removesuffix("/docs") + "/openapi.json"
    return HTMLResponse(docs_page(docs_path, openapi_path), headers={"Cache-Control": "no-cache"})


@router.api_route("/docs/assets/{name}", methods=["GET", "HEAD"])
async def api_docs_asset(name: str, request: Request) -> Response:
    entry = ASSETS.get(name)
    if entry is None or not entry[0].is_file():
        raise NotFound(f"no docs asset named {quoted(name)}")
    path: Path = entry[0]
    media_type = entry[1]
    asset = load_asset(path)
    headers = {"Cache-Control": ASSET_CACHE_CONTROL, "ETag": asset.etag, "Vary": "Accept-Encoding"}
    if _etag_matches(request, asset.etag):
        return Response(status_code=304, headers=headers)
    body = asset.body
    if _accepts_gzip(request) and media_type.startswith("text/"):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(body))
        body = b""
    charset = "; charset=utf-8" if media_type.startswith("text/") else ""
    return Response(body, media_type=media_type + charset, headers=headers)
