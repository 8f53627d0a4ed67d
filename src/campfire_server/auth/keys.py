"""Secret and publishable API keys, stored only as SHA-256 hashes.

A key reads ``sk_live_<lookup><secret>`` (or ``sk_test_``/``pk_live_``/``pk_test_``).
The 12-character lookup part is stored in clear so a request finds its row
with one indexed read; the whole key is compared by hash in constant time.
Keys carry at least 190 random bits, so a fast hash is enough: there is
nothing to brute-force the way there is for passwords.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from .. import clock, ids
from ..db.tx import Tx
from ..errors import NotFound, ValidationFailed
from ..pagination import PageRequest, keyset_clause, order_clause, page_in_memory, pagination
from .origins import normalize_origin
from .principal import Principal, Role
from .scope import is_limited, manages

log = logging.getLogger(__name__)

KeyKind = Literal["secret", "publishable"]

DEVELOPMENT_KEY = "test_sk_123456789"
DEVELOPMENT_ORG_ID = "org_development"
# The demo page's publishable key. Like DEVELOPMENT_KEY it is accepted only
# when CAMPFIRE_ENV=development, and it may only open widget sessions for the
# development mailbox.
DEVELOPMENT_PUBLISHABLE_KEY = "pk_test_development"
DEVELOPMENT_MAILBOX_ID = "mailbox_456"  # the mailbox that development.py seeds

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_LOOKUP_CHARS = 12
_SECRET_CHARS = 32
_PREFIXES = ("sk_live_", "sk_test_", "pk_live_", "pk_test_")
# Every column of api_keys but the hash.
KEY_COLUMNS = (
    "id, name, kind, role, prefix, mailbox_ids, allowed_origins, created_at, last_used_at, "
    "revoked_at"
)


def _random_text(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


KEY_BODY_CHARS = _LOOKUP_CHARS + _SECRET_CHARS


def key_prefix(text: str) -> str | None:
    """Return the key prefix (``sk_live_``, ``pk_test_``, ...) that ``text`` starts with, if any."""
    return next((prefix for prefix in _PREFIXES if text.startswith(prefix)), None)


def split_key(key: str) -> tuple[str, str] | None:
    """Return ``(lookup, whole key)`` for a well-formed key, else ``None``."""
    for prefix in _PREFIXES:
        if key.startswith(prefix):
            rest = key[len(prefix) :]
            if len(rest) != _LOOKUP_CHARS + _SECRET_CHARS:
                return None
            return prefix + rest[:_LOOKUP_CHARS], key
    return None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A newly created key; ``key`` is the only time the plain text exists."""

    id: str
    key: str
    prefix: str
    name: str
    kind: KeyKind
    role: Role
    created_at: int


def create_key(
    tx: Tx,
    *,
    org_id: str,
    name: str,
    kind: KeyKind = "secret",
    role: Role = "admin",
    live: bool = True,
    mailbox_ids: list[str] | None = None,
    allowed_origins: list[str] | None = None,
) -> IssuedKey:
    """Insert a new key for ``org_id`` and return it with its plain text."""
    if kind == "publishable" and role != "customer":
        raise ValidationFailed(
            "a publishable key can only open widget sessions",
            field="role",
            value=role,
            expected="customer",
        )
    letter = "sk" if kind == "secret" else "pk"
    mode = "live" if live else "test"
    plain = f"{letter}_{mode}_{_random_text(_LOOKUP_CHARS)}{_random_text(_SECRET_CHARS)}"
    prefix, _ = split_key(plain)  # type: ignore[misc]
    origins = sorted({normalize_origin(origin) for origin in allowed_origins or []})
    key_id = ids.new("api_key")
    now = clock.now_ms()
    tx.execute(
        "INSERT INTO api_keys (id, org_id, name, kind, role, prefix, key_hash, mailbox_ids, "
        "allowed_origins, created_at) VALUES (:id, :org_id, :name, :kind, :role, :prefix, "
        ":key_hash, :mailbox_ids, :allowed_origins, :created_at)",
        id=key_id,
        org_id=org_id,
        name=name,
        kind=kind,
        role=role,
        prefix=prefix,
        key_hash=hash_key(plain),
        mailbox_ids=json.dumps(mailbox_ids or []),
        allowed_origins=json.dumps(origins),
        created_at=now,
    )
    tx.log(log.info, "api key created", extra={"key_id": key_id, "org_id": org_id, "kind": kind})
    return IssuedKey(key_id, plain, prefix, name, kind, role, now)


def list_keys(tx: Tx, org_id: str) -> list[dict[str, Any]]:
    return tx.all(
        f"SELECT {KEY_COLUMNS} FROM api_keys WHERE org_id = :org_id ORDER BY created_at, id",
        org_id=org_id,
    )


def list_managed_keys(
    tx: Tx, principal: Principal, request: PageRequest
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Return one page of the keys ``principal`` may manage, oldest first, as raw rows.

    A limited credential's keys are paged in Python, because their mailbox
    list is JSON text. An organization has few keys, so that read is cheap.
    """
    if is_limited(principal):
        rows = list_keys(tx, principal.org_id)
        managed = [
            row for row in rows if manages(principal, json.loads(row["mailbox_ids"] or "[]"))
        ]
        return page_in_memory(request, managed)

    params: dict[str, Any] = {"org_id": principal.org_id}
    total = int(tx.value("SELECT COUNT(*) AS n FROM api_keys WHERE org_id = :org_id", **params))
    where = "org_id = :org_id" + keyset_clause(request, "asc", params)
    rows = tx.all(
        f"SELECT {KEY_COLUMNS} FROM api_keys WHERE {where}" + order_clause(request, "asc"),
        **params,
    )
    return pagination(request, rows, total)


def get_key(tx: Tx, org_id: str, key_id: str) -> dict[str, Any]:
    """Return one key's row without its hash, or raise ``NotFound``."""
    row = tx.one(
        "SELECT id, name, kind, role, prefix, mailbox_ids, allowed_origins, created_at, "
        "last_used_at, revoked_at FROM api_keys WHERE org_id = :org_id AND id = :id",
        org_id=org_id,
        id=key_id,
    )
    if row is None:
        raise NotFound.for_id("API key", key_id, field="keyId")
    return row


def revoke_key(tx: Tx, *, org_id: str, key_id: str) -> None:
    changed = tx.execute(
        "UPDATE api_keys SET revoked_at = :now WHERE id = :id AND org_id = :org_id "
        "AND revoked_at IS NULL",
        now=clock.now_ms(),
        id=key_id,
        org_id=org_id,
    )
    if not changed:
        exists = tx.value(
            "SELECT 1 FROM api_keys WHERE id = :id AND org_id = :org_id", id=key_id, org_id=org_id
        )
        if not exists:
            raise NotFound.for_id("API key", key_id)
    tx.log(log.info, "api key revoked", extra={"key_id": key_id, "org_id": org_id})


def find_key(tx: Tx, key: str) -> dict[str, Any] | None:
    """Return the live row of ``key``, or ``None`` when it is unknown or revoked."""
    parts = split_key(key)
    if parts is None:
        return None
    prefix, whole = parts
    row = tx.one(
        "SELECT id, org_id, kind, role, key_hash, mailbox_ids, allowed_origins, revoked_at "
        "FROM api_keys WHERE prefix = :prefix",
        prefix=prefix,
    )
    if row is None or row["revoked_at"] is not None:
        return None
    if not hmac.compare_digest(row["key_hash"], hash_key(whole)):
        return None
    return row


def principal_for_key(row: dict[str, Any]) -> Principal:
    return Principal(
        org_id=row["org_id"],
        role=row["role"],
        kind=row["kind"],
        subject=row["id"],
        mailbox_ids=tuple(json.loads(row["mailbox_ids"] or "[]")),
        rate_limit_key=f"key:{row['id']}",
        allowed_origins=tuple(json.loads(row["allowed_origins"] or "[]")),
    )


# Frozen, so every request with the test key shares it, as requests with one
# API key share the principal that ``KeyCache`` stores.
_DEVELOPMENT_PRINCIPAL = Principal(
    org_id=DEVELOPMENT_ORG_ID,
    role="admin",
    kind="development",
    subject="development-key",
    rate_limit_key="key:development",
)


def development_principal() -> Principal:
    return _DEVELOPMENT_PRINCIPAL


def development_publishable_principal(host: str, port: int) -> Principal:
    """Build the demo key's principal, usable from the server's own origins only.

    The demo page is served by the server itself, and browsers send its
    origin with every POST, so that origin must be allowed.
    """
    hosts = {"localhost", "127.0.0.1"}
    if host not in ("0.0.0.0", "::"):
        hosts.add(host)
    return Principal(
        org_id=DEVELOPMENT_ORG_ID,
        role="customer",
        kind="publishable",
        subject="development-publishable-key",
        mailbox_ids=(DEVELOPMENT_MAILBOX_ID,),
        rate_limit_key="key:development-publishable",
        allowed_origins=tuple(sorted(f"http://{name}:{port}" for name in hosts)),
    )


class KeyCache:
    """Remember resolved keys briefly so the hot path skips the lookup query.

    A revocation in this process takes effect at once; one made by another
    process takes effect within ``ttl_seconds``.
    """

    def __init__(self, ttl_seconds: float = 30.0, max_entries: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    def get(self, key_hash: str) -> tuple[bool, Principal | None]:
        entry = self._entries.get(key_hash)
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def put(self, key_hash: str, principal: Principal | None) -> None:
        if len(self._entries) >= self._max:
            self._entries.clear()
        self._entries[key_hash] = (time.monotonic() + self._ttl, principal)

    def clear(self) -> None:
        self._entries.clear()
