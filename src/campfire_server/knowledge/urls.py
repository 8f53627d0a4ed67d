"""The rule for article URLs that may be stored and shown to customers as links."""

from __future__ import annotations

import re

from ..url_syntax import UrlSyntaxError, split_url

# Control characters and whitespace anywhere in a URL let a browser read a
# different scheme than a check sees ("java\tscript:"), so none is accepted.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f-\x9f\\]")


MAX_LINK_CHARS = 2048


def safe_link(url: str | None) -> str | None:
    """Return ``url`` if it is an absolute http(s) URL or a site-relative path, else None.

    ``javascript:``, ``data:`` and every other scheme are rejected, and so is a
    protocol-relative ``//host`` path, which a browser would open on another host.
    """
    if url is None or link_problem(url) is not None:
        return None
    return url


def link_problem(url: str) -> str | None:
    """Describe why ``url`` is not a safe link, as a clause for an error message, or return None."""
    if not url:
        return "it is empty"
    if len(url) > MAX_LINK_CHARS:
        return f"it is longer than {MAX_LINK_CHARS} characters"
    if _UNSAFE_CHARACTERS.search(url):
        return "it contains whitespace, a control character or a backslash"
    if url.startswith("//"):
        return "it starts with //, so a browser would open it on another host"
    if url.startswith("/"):
        return None
    try:
        parts = split_url(url)
    except UrlSyntaxError as error:
        return str(error)
    scheme = parts.scheme.lower()
    if not scheme:
        return "it is neither an absolute URL nor a path starting with /"
    if scheme not in ("http", "https"):
        return f"its scheme {scheme}: is not http or https"
    if not parts.netloc:
        return "it has no host after the scheme"
    return None


def source_url(article_id: str, url: str | None) -> str:
    """Return the link a source shows: the article's own safe URL, else ``/kb/{article_id}``."""
    return safe_link(url) or f"/kb/{article_id}"
