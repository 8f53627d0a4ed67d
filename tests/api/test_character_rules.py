"""The control-character rules of header values and of ids that integrators supply."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from pydantic_core import PydanticCustomError

from campfire_server.api.header_checks import control_character_error
from campfire_server.validation import _require_trimmed_id


def is_header_control(byte: int) -> bool:
    return (byte < 0x20 and byte != 0x09) or byte == 0x7F


@pytest.mark.parametrize("byte", range(256))
def test_header_value_byte_checked(byte) -> None:
    error = control_character_error(b"x-note", b"ab" + bytes([byte]) + b"\x01")
    assert error is not None, "the trailing U+0001 is a control character"
    # The error names the first control character of the value.
    first = byte if is_header_control(byte) else 0x01
    assert f"U+{first:04X}" in str(error)
    assert error.details["field"] == "X-Note"


def test_header_value_without_control_accepted() -> None:
    assert control_character_error(b"user-agent", b"curl/8.5 \t(x86_64) \xe9") is None
    assert control_character_error(b"x-empty", b"") is None


def test_id_with_any_control_character_rejected() -> None:
    controls = [
        chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cc"
    ]
    assert len(controls) == 65
    for char in controls:
        with pytest.raises(PydanticCustomError):
            _require_trimmed_id(f"customer{char}123")


@pytest.mark.parametrize("value", ["customer_123", "cust\u200bomer", "caf\u00e9"])
def test_id_without_control_character_kept(value) -> None:
    assert _require_trimmed_id(value) == value
