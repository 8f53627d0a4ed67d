"""Secrets taken out of values before they are shown in messages and logs."""

from __future__ import annotations


def hide_password(url: str) -> str:
    """Return ``url`` with its password replaced by ``***``, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return url.split("@")[-1] if "@" in url else url
