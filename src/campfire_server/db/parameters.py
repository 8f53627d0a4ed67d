"""The ``:name`` parameters of the SQL that domain code writes, as psycopg takes them."""

from __future__ import annotations

import re

NAMED_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_pyformat_cache: dict[str, str] = {}


def to_pyformat(sql: str) -> str:
    """Rewrite ``:name`` parameters as psycopg's ``%(name)s`` and escape literal ``%``."""
    converted = _pyformat_cache.get(sql)
    if converted is None:
        converted = NAMED_PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))
        _pyformat_cache[sql] = converted
    return converted
