"""Prefixed, random, time-sortable identifiers such as ``conv_0Mf3...``."""

from __future__ import annotations

import os
import threading

from . import clock

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Nine base62 characters of milliseconds keep ids sortable by creation time.
# The first id of a millisecond carries 128 random bits. Each later id of the
# same millisecond in this process adds a random step of 96 bits (see
# ``_STEP_BITS``), so guessing an id from another takes about 2**96 tries.
# Ids made before this carried 17 random characters. They keep parsing,
# and sort before every newer id because their milliseconds are earlier.
_TIME_CHARS = 9
_RANDOM_CHARS = 22
_RANDOM_BITS = 128

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


class _LastId:
    """The millisecond and random part of the id this process created last, in any thread."""

    def __init__(self) -> None:
        self.millisecond = -1
        self.random = 0


_last = _LastId()
_last_lock = threading.Lock()

# A later id in the same millisecond adds a random step of up to 96 bits to
# the previous random part. So ids of one process sort in creation order, and
# the next id still cannot be guessed from the last one. The random part may
# grow up to 62**22 (about 2**130.99), so a millisecond has room for about
# 2**33 ids even after a first random part near 2**128.
_STEP_BITS = 96
_RANDOM_LIMIT = 62**_RANDOM_CHARS


def _time_and_random() -> tuple[int, int]:
    millisecond = clock.now_ms()
    bits = _random_bits()
    with _last_lock:
        if millisecond == _last.millisecond:
            step = 1 + (bits >> (_RANDOM_BITS - _STEP_BITS))
            if _last.random + step < _RANDOM_LIMIT:
                bits = _last.random + step
            else:
                # NOTE: billions of ids in one millisecond exhaust the random
                # range; the next one borrows the following millisecond.
                millisecond += 1
        _last.millisecond = millisecond
        _last.random = bits
    return millisecond, bits


# The last millisecond encoded and its text. Ids come in bursts within a
# millisecond, so most reuse it. One tuple, so threads read a matching pair.
_time_text: tuple[int, str] = (-1, "")


def _encode_time(millisecond: int) -> str:
    global _time_text
    cached_millisecond, text = _time_text
    if cached_millisecond != millisecond:
        text = _encode(millisecond, _TIME_CHARS)
        _time_text = (millisecond, text)
    return text


def new_id(prefix: str) -> str:
    """Return ``prefix_`` followed by 31 base62 characters that sort by creation time.

    Ids that one process creates in the same millisecond sort in the order of
    creation. Ids of different processes in one millisecond sort at random.
    """
    millisecond, bits = _time_and_random()
    return f"{prefix}_{_encode_time(millisecond)}{_encode(bits, _RANDOM_CHARS)}"


def new(kind: str) -> str:
    """Return a new id for an entity ``kind`` listed in ``PREFIXES``."""
    return new_id(PREFIXES[kind])
