"""Prefixed, random, time-sortable identifiers such as ``conv_0Mf3...``."""

from __future__ import annotations

import os
import threading

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


# Every pair of base62 digits, so a number is encoded two digits per step.
_PAIRS = [first + second for first in _ALPHABET for second in _ALPHABET]

# Random bytes are read from the operating system in blocks. ``os.urandom``
# releases the GIL for its system call, and taking it back costs the event
# loop or the writer thread a wait on the other, so one call per id cost
# more than the id itself.
_BLOCK_BYTES = 4096
_ID_BYTES = _RANDOM_BITS // 8


class _RandomBlocks(threading.local):
    """Each thread's block of random bytes from ``os.urandom`` and the next unused offset."""

    def __init__(self) -> None:
        self.block = b""
        self.offset = 0


_random = _RandomBlocks()


def _forget_random_bytes() -> None:
    # A forked child must not hand out the same bytes as its parent.
    _random.block = b""
    _random.offset = 0


os.register_at_fork(after_in_child=_forget_random_bytes)


def _random_bits() -> int:
    """Return ``_RANDOM_BITS`` random bits from the operating system's generator."""
    offset = _random.offset
    if offset + _ID_BYTES > len(_random.block):
        _random.block = os.urandom(_BLOCK_BYTES)
        offset = 0
    _random.offset = offset + _ID_BYTES
    return int.from_bytes(_random.block[offset : offset + _ID_BYTES], "big")


def _encode(number: int, width: int) -> str:
    pairs = []
    for _ in range(width // 2):
        number, pair = divmod(number, 3844)
        pairs.append(_PAIRS[pair])
    if width % 2:
        pairs.append(_ALPHABET[number % 62])
    return "".join(reversed(pairs))


def new_id(prefix: str) -> str:
    """Return ``prefix_`` followed by 26 base62 characters that sort by creation time."""
    created = _encode(clock.now_ms(), _TIME_CHARS)
    return f"{prefix}_{created}{_encode(_random_bits(), _RANDOM_CHARS)}"


def new(kind: str) -> str:
    """Return a new id for an entity ``kind`` listed in ``PREFIXES``."""
    return new_id(PREFIXES[kind])
