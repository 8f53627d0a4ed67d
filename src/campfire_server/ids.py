"""Prefixed, random, time-sortable identifiers such as ``conv_0Mf3...``."""

from __future__ import annotations

import secrets

from . import clock

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# 48 bits of milliseconds keep ids sortable by creation time; 96 random bits
# make them unguessable even for two ids created in the same millisecond.
_TIME_CHARS = 9
_RANDOM_CHARS = 17
_RANDOM_BITS = 96

PREFIXES = {
    "conversation": "conv",
    "message": "msg",
    "event": "evt",
    "webhook": "wh",
    "delivery": "dlv",
    "agent": "agt",
    "article": "art",
    "request": "req",
    "handoff": "hnd",
    "mailbox": "mbx",
    "organization": "org",
    "customer": "cus",
    "api_key": "key",
    "rating": "csat",
}


def _encode(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def new_id(prefix: str) -> str:
    """Return ``prefix_`` followed by 26 base62 characters that sort by creation time."""
    return (
        f"{prefix}_{_encode(clock.now_ms(), _TIME_CHARS)}"
        f"{_encode(secrets.randbits(_RANDOM_BITS), _RANDOM_CHARS)}"
    )


def new(kind: str) -> str:
    """Return a new id for an entity ``kind`` listed in ``PREFIXES``."""
    return new_id(PREFIXES[kind])
