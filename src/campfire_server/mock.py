"""Mock mode: a request with ``X-Campfire-Mock: true`` runs for real and keeps nothing.

The HTTP layer sets the flag for the request's context. ``Database.write``
reads it and rolls the transaction back instead of committing, dropping its
after-commit callbacks, so no event is published and no webhook row stays.
Code that talks to the outside world without the database (an LLM
provider, for instance) checks ``is_active()`` itself.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

HEADER = "x-campfire-mock"

_active: contextvars.ContextVar[bool] = contextvars.ContextVar("campfire_mock", default=False)


def is_active() -> bool:
    """Return whether the current request runs in mock mode."""
    return _active.get()


def requested(value: str | None) -> bool:
    """Return whether an ``X-Campfire-Mock`` header value turns mock mode on."""
    return value is not None and value.strip().lower() == "true"


@contextlib.contextmanager
def activated(on: bool = True) -> Iterator[None]:
    token = _active.set(on)
    try:
        yield
    finally:
        _active.reset(token)
