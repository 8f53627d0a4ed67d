"""Agent passwords for the inbox sign-in, hashed with Argon2id.

The hash parameters are argon2-cffi's defaults (RFC 9106 low-memory
profile: 64 MiB, 3 passes, 4 lanes), so a stored hash costs an attacker
memory as well as time. ``verify_password`` also reports whether a hash
should be recomputed because those defaults changed since it was stored.
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 256

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """Return the encoded Argon2id hash of ``password``, salt and parameters included."""
    return _hasher.hash(password)


@functools.lru_cache(maxsize=1)
def _decoy_hash() -> str:
    return _hasher.hash("campfire decoy password, never assigned to anyone")


def verify_password(encoded: str | None, password: str) -> tuple[bool, bool]:
    """Check ``password`` against ``encoded`` and return (matches, needs_rehash).

    With no stored hash the password is checked against a decoy hash, so a
    missing account takes as long to reject as a wrong password.
    """
    try:
        _hasher.verify(encoded or _decoy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    if encoded is None:
        return False, False
    return True, _hasher.check_needs_rehash(encoded)
