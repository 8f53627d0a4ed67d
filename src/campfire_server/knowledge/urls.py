"""The rule for article URLs that may be stored and shown to customers as links."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Control characters and whitespace anywhere in a URL let a browser read a
# different scheme than a check sees ("java\tscript:"), so none is accepted.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


def safe_link(url: str | None) -> str | None:
    """Return ``url`` if it is an absolute http(s) URL or a site-relative path, else None.

    ``javascript:``, ``data:`` and every other scheme are rejected, and so is a
    protocol-relative ``//host`` path, which a browser would open on another host.
    """
    if url is None:
        return None
    if not url or len(url) > 2048 or _UNSAFE_CHARACTERS.search(url):
        return None
    if url.startswith("/"):
        return None if url.startswith("//") else url
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url
    return None


def source_url(article_id: str, url: str | None) -> str:
    """Return the link a source shows: the article's own safe URL, else ``/kb/{article_id}``."""
    return safe_link(url) or f"/kb/{article_id}"
