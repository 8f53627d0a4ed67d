"""The base of every request and response model: camelCase JSON, unknown fields rejected.

Request models are strict: a JSON value must already have the field's type,
so ``"yes"`` or ``1`` is no boolean, ``"5"`` or ``5.0`` no integer and ``5``
no string. An integer is accepted where a number is expected.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        serialize_by_alias=True,
        strict=True,
    )


class ResponseModel(BaseModel):
    """A response body; extra fields are kept out by construction, not by validation."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
    )
