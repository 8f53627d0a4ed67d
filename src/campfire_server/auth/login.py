"""Inbox sign-in: find the agent of an email address and check the password.

Every failure (unknown email, no password set, wrong password) raises the
same ``AuthenticationFailed`` message, so the response tells an attacker
nothing about which accounts exist.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..db.tx import Tx
from ..errors import AuthenticationFailed, ValidationFailed
from .passwords import hash_password, verify_password

log = logging.getLogger(__name__)

LOGIN_FAILED = "the email or password is incorrect"
# An email may name agents in several organizations, and at most this many are checked.
MAX_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class SignedIn:
    org_id: str
    agent_id: str
    name: str
    email: str | None
    status: str
    needs_rehash: bool
    # The agent row's creation time (epoch ms), which its tokens carry as claim ``agc``.
    created_at: int


def find_candidates(tx: Tx, email: str, org_id: str | None) -> list[dict[str, Any]]:
    """Return the agents whose email is ``email`` (case-insensitive), oldest first."""
    sql = (
        "SELECT org_id, id, name, email, status, password_hash, created_at FROM agents "
        "WHERE LOWER(email) = LOWER(:email)"
    )
    if org_id is not None:
        sql += " AND org_id = :org_id"
    sql += f" ORDER BY created_at, org_id, id LIMIT {MAX_CANDIDATES}"
    return tx.all(sql, email=email, org_id=org_id)


def check_password(candidates: list[dict[str, Any]], password: str) -> SignedIn:
    """Return the one candidate whose stored hash matches ``password``.

    Runs Argon2 for each candidate (and once against a decoy when there is
    none), so call it off the event loop. Raises ``AuthenticationFailed``
    when none matches, and ``ValidationFailed`` when agents of several
    organizations share the email and password, so ``orgId`` is needed.
    """
    matches: list[SignedIn] = []
    for row in candidates or [{"password_hash": None}]:
        ok, needs_rehash = verify_password(row["password_hash"], password)
        if ok:
            matches.append(
                SignedIn(
                    org_id=row["org_id"],
                    agent_id=row["id"],
                    name=row["name"],
                    email=row["email"],
                    status=row["status"],
                    needs_rehash=needs_rehash,
                    created_at=int(row["created_at"]),
                )
            )
    if not matches:
        raise AuthenticationFailed(LOGIN_FAILED, bearer_error=None)
    if len(matches) > 1:
        # The unique index on (org_id, LOWER(email)) leaves one match per organization.
        org_ids = sorted({match.org_id for match in matches})
        raise ValidationFailed(
            f"this email signs in to {len(org_ids)} organizations; send orgId to choose one",
            field="orgId",
            value=None,
            expected="one of " + ", ".join(org_ids),
        )
    return matches[0]


def store_rehash(tx: Tx, signed_in: SignedIn, password: str) -> None:
    """Replace the agent's hash with one made with the current Argon2 parameters."""
    tx.execute(
        "UPDATE agents SET password_hash = :hash WHERE org_id = :org_id AND id = :id",
        hash=hash_password(password),
        org_id=signed_in.org_id,
        id=signed_in.agent_id,
    )
