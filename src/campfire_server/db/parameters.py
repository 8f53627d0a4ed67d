"""The ``:name`` parameters of the SQL that domain code writes, as psycopg takes them."""

from __future__ import annotations

import re

NAMED_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_pyformat_cache: dict[str, str] = {}
_binary_cache: dict[str, str] = {}


def to_pyformat(sql: str, *, binary: bool = False) -> str:
    """Rewrite ``:name`` parameters as psycopg's ``%(name)s`` and escape literal ``%``.

    With ``binary`` they become ``%(name)b``, which psycopg sends in binary
    format.
    """
    cache = _binary_cache if binary else _pyformat_cache
    converted = cache.get(sql)
    if converted is None:
        placeholder = r"%(\1)b" if binary else r"%(\1)s"
        converted = NAMED_PARAMETER.sub(placeholder, sql.replace("%", "%%"))
        cache[sql] = converted
    return converted
