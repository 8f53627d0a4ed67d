"""Values from a client, spelled for error messages as the client wrote them in JSON.

A message that repeats a value in Python's spelling (``True``, ``None``,
``{'a': 1}``) shows the client something it never sent.
"""

from __future__ import annotations

import json
from typing import Any

# The maximum length of a client's value, spelled in JSON, that a message repeats.
MAX_SHOWN_CHARS = 100


def as_sent(value: Any) -> str:
    """Spell a value from a client in JSON, as the client wrote it: true, null, "text".

    A spelling longer than ``MAX_SHOWN_CHARS`` is cut and ends with "...".
    """
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    if len(text) <= MAX_SHOWN_CHARS:
        return text
    return text[:MAX_SHOWN_CHARS] + "..."


def detail_value(value: Any) -> Any:
    """Return ``value`` for an error's details, or its cut JSON spelling when that is long."""
    text = as_sent(value)
    return text if text.endswith("...") and len(text) > MAX_SHOWN_CHARS else value
