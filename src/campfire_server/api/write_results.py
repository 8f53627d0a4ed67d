"""JSON encoding of the values that writes return, for the write journal of idempotent POSTs.

Writes return plain values, row dicts, tuples, pydantic models and
dataclasses of this package. Each is encoded as JSON together with the
class to rebuild it from. Decoding imports only classes of this package, so
a stored document cannot name arbitrary code.
"""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from pydantic import BaseModel

_PACKAGE = __name__.split(".")[0]


def _class_path(value: object) -> str:
    cls = type(value)
    return f"{cls.__module__}:{cls.__qualname__}"


def encode(value: Any) -> Any:
    """Return a JSON-ready form of ``value``; raise ``TypeError`` for a type it cannot rebuild."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"tuple": [encode(item) for item in value]}
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("only dicts with string keys can be recorded")
        return {"dict": {key: encode(item) for key, item in value.items()}}
    if type(value).__module__.startswith(f"{_PACKAGE}."):
        if isinstance(value, BaseModel):
            return {"model": _class_path(value), "data": value.model_dump(mode="json")}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {
                field.name: encode(getattr(value, field.name))
                for field in dataclasses.fields(value)
            }
            return {"dataclass": _class_path(value), "data": fields}
    raise TypeError(f"a write result of type {type(value).__name__} cannot be recorded")


def _load_class(path: str) -> type:
    module_name, _, qualname = path.partition(":")
    if not module_name.startswith(f"{_PACKAGE}."):
        raise ValueError(f"{path} is not a class of {_PACKAGE}")
    target: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        target = getattr(target, part)
    if not isinstance(target, type):
        raise ValueError(f"{path} is not a class")
    return target


def decode(document: Any) -> Any:
    """Rebuild the value that ``encode`` turned into ``document``."""
    if document is None or isinstance(document, bool | int | float | str):
        return document
    if isinstance(document, list):
        return [decode(item) for item in document]
    if "tuple" in document:
        return tuple(decode(item) for item in document["tuple"])
    if "dict" in document:
        return {key: decode(item) for key, item in document["dict"].items()}
    if "model" in document:
        model = _load_class(document["model"])
        if not issubclass(model, BaseModel):
            raise ValueError(f"{document['model']} is not a pydantic model")
        return model.model_validate(document["data"], strict=False)
    if "dataclass" in document:
        cls = _load_class(document["dataclass"])
        if not dataclasses.is_dataclass(cls):
            raise ValueError(f"{document['dataclass']} is not a dataclass")
        return cls(**{key: decode(item) for key, item in document["data"].items()})
    raise ValueError("unknown kind of recorded write result")
