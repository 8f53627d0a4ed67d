"""URL splitting whose errors explain the problem in this API's words.

``urllib.parse`` raises ``ValueError`` with its own wording, such as
"Invalid IPv6 URL" or "Port out of range 0-65535". An error message built
from that text would show a client Python's internals, so these functions
raise ``UrlSyntaxError`` with a clause that names the part to fix.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit


class UrlSyntaxError(ValueError):
    """A URL that cannot be split. The message is a clause such as "its port is ..."."""


def split_url(url: str) -> SplitResult:
    """Split ``url`` into its parts; raise ``UrlSyntaxError`` when its host part is malformed."""
    try:
        return urlsplit(url)
    except ValueError:
        raise UrlSyntaxError(_host_problem(url)) from None


def url_port(parts: SplitResult) -> int | None:
    """Return the port of a split URL, or None; raise ``UrlSyntaxError`` for an invalid port."""
    try:
        return parts.port
    except ValueError:
        raise UrlSyntaxError("its port is not a whole number from 0 to 65535") from None


def _host_problem(url: str) -> str:
    """Describe why ``urlsplit`` rejected ``url``, which only its host part can cause."""
    host_part = re.split(r"[/?#]", url.partition("//")[2], maxsplit=1)[0]
    if "[" in host_part or "]" in host_part:
        return (
            "its host has unbalanced brackets or brackets around something other than an "
            "IPv6 address, as in http://[2001:db8::1]/"
        )
    return (
        "its host contains a character that Unicode normalization (NFKC) turns into "
        "/, ?, #, @ or :, such as a full-width number sign"
    )
