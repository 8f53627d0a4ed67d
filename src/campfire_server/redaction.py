"""Secrets taken out of values before they are shown in messages and logs."""

from __future__ import annotations

import re


def hide_password(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url.split("@")[-1] if "@" in url else url


# Request fields whose values are credentials, compared lower-cased without
# "_" or "-": these names, and any name that ends with one of the suffixes,
# such as ``newPassword`` or ``previousSecret``.
SECRET_FIELD_NAMES = frozenset(
    {"key", "apikey", "customerhash", "signature", "authorization", "credential"}
)
SECRET_FIELD_SUFFIXES = ("password", "secret", "token", "apikey", "privatekey")
# The value shown in place of a secret one in error details.
HIDDEN_VALUE = "<hidden>"


def is_secret_field(path: str) -> bool:
    """Tell whether a field path such as ``webhooks[0].secret`` names or is inside a secret."""
    for part in re.split(r"[.\[\]]", path):
        name = part.lower().replace("_", "").replace("-", "")
        if name in SECRET_FIELD_NAMES or name.endswith(SECRET_FIELD_SUFFIXES):
            return True
    return False
