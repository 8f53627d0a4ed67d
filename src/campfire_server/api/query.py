"""Types of query-string values.

A query-string integer is written in decimal digits with an optional
leading minus sign: ``limit=20``, never ``limit=20.0``, ``limit=+20``,
``limit=2_0`` or ``limit= 20``. A value that breaks the rule is a 400
VALIDATION_ERROR naming the parameter.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Query
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_DECIMAL_INTEGER = re.compile(r"-?[0-9]+")


def _decimal_integer(value: Any) -> Any:
    if isinstance(value, str) and not _DECIMAL_INTEGER.fullmatch(value):
        raise PydanticCustomError(
            "query_int_parsing", "Input should be an integer written in decimal digits"
        )
    return value


QueryInt = Annotated[int, BeforeValidator(_decimal_integer)]

# The paging parameters every list operation takes; ``page_request`` reads them.
PageNumber = Annotated[
    QueryInt, Query(ge=1, le=1_000_000, description="1-based page; prefer cursor")
]
PageLimit = Annotated[QueryInt, Query(ge=1, le=100)]
PageCursor = Annotated[str | None, Query(max_length=200, description="nextCursor")]
